/**
 * Runs the fake Drive (tests/fakes/gdrive_server.ts) in its own process, so
 * the objects it holds in memory do not count against the memory the
 * contract suite measures in the test process. Prints one JSON line with its
 * URL and client file, then answers one JSON line per request on stdin:
 * `{"creds": "<email>"}` → `{"access": "...", "refresh": "..."}` for a
 * (new or known) user with Drive's full scope; `{"users": [...]}` creates
 * accounts (Drive refuses to share with an address that has none).
 * @module
 */
import { startFakeDrive } from "../../fakes/gdrive_server.ts";

const GiB = 1024 * 1024 * 1024;
const drive = await startFakeDrive({ maxFileBytes: 2 * GiB, maxTotalBytes: 8 * GiB });
console.log(JSON.stringify({ url: drive.url, clientFile: drive.clientFile() }));

const decoder = new TextDecoder();
let buffered = "";
for await (const chunk of Deno.stdin.readable) {
  buffered += decoder.decode(chunk, { stream: true });
  let newline: number;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    const request = JSON.parse(line) as { creds?: string; users?: string[] };
    if (Array.isArray(request.users)) {
      for (const user of request.users) drive.addUser(user);
      console.log(JSON.stringify({ added: String(request.users.length) }));
    } else if (typeof request.creds === "string") {
      drive.addUser(request.creds);
      console.log(JSON.stringify({
        access: drive.token(request.creds),
        refresh: drive.refreshToken(request.creds),
      }));
    } else {
      console.log(JSON.stringify({ error: "unknown request" }));
    }
  }
}
await drive.close();
