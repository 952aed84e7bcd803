/**
 * Runs the fake Drive (tests/fakes/gdrive_server.ts) in its own process, so
 * the objects it holds in memory do not count against the memory the
 * contract suite measures in the test process. Prints one JSON line with its
 * URL and client file, then answers one JSON line per request on stdin:
 * - `{"creds": "<email>"}` → `{"access", "refresh"}` for a (new or known)
 *   user with Drive's full scope;
 * - `{"users": [...]}` creates accounts (Drive shares only with addresses
 *   that have one);
 * - `{"faults": FaultPlan | null}`, `{"script": ScriptedFault}`,
 *   `{"counts": "<email>"}`, `{"injected": true}`, `{"reset": true}`,
 *   `{"expire": "<email>"}`: fault control and call counts;
 * - `{"approve": "<email>" | "deny" | null}` chooses who approves the next
 *   sign-ins (null: the login_hint), `{"revoke": "<email>"}` revokes a user's
 *   grants (refresh then answers `invalid_grant`).
 * @module
 */
import { type FaultPlan, type ScriptedFault, startFakeDrive } from "../../fakes/gdrive_server.ts";

const GiB = 1024 * 1024 * 1024;
const drive = await startFakeDrive({ maxFileBytes: 2 * GiB, maxTotalBytes: 8 * GiB });
console.log(JSON.stringify({ url: drive.url, clientFile: drive.clientFile() }));

type Request = {
  creds?: string;
  users?: string[];
  faults?: FaultPlan | null;
  script?: ScriptedFault;
  counts?: string;
  injected?: boolean;
  reset?: boolean;
  expire?: string;
  approve?: string | null;
  revoke?: string;
};

function answer(request: Request): unknown {
  if (Array.isArray(request.users)) {
    for (const user of request.users) drive.addUser(user);
    return { ok: true };
  }
  if (typeof request.creds === "string") {
    drive.addUser(request.creds);
    return { access: drive.token(request.creds), refresh: drive.refreshToken(request.creds) };
  }
  if (request.faults !== undefined) {
    if (request.faults === null) drive.faults.clear();
    else drive.faults.set(request.faults);
    return { ok: true };
  }
  if (request.script) {
    drive.faults.script(request.script);
    return { ok: true };
  }
  if (typeof request.counts === "string") return drive.callCounts(request.counts);
  if (request.injected) return drive.faults.injected();
  if (request.reset) {
    drive.resetCounts();
    return { ok: true };
  }
  if (typeof request.expire === "string") {
    drive.expireAccessTokens(request.expire);
    return { ok: true };
  }
  if (request.approve !== undefined) {
    drive.approveAs(request.approve);
    return { ok: true };
  }
  if (typeof request.revoke === "string") {
    drive.revoke(request.revoke);
    return { ok: true };
  }
  return { error: "unknown request" };
}

const decoder = new TextDecoder();
let buffered = "";
for await (const chunk of Deno.stdin.readable) {
  buffered += decoder.decode(chunk, { stream: true });
  let newline: number;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    console.log(JSON.stringify(answer(JSON.parse(line) as Request)));
  }
}
await drive.close();
