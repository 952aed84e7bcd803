/**
 * Runs the fake Dropbox (tests/fakes/dropbox_server.ts) in its own process,
 * so the objects it holds in memory do not count against the memory the
 * contract suite measures in the test process. Prints one JSON line with its
 * URL, then answers one JSON line per request on stdin:
 * - `{"creds": "<email>"}` → `{"access", "refresh", "accountId", "appKey"}`;
 * - `{"faults": FaultPlan | null}`, `{"script": ScriptedFault}`,
 *   `{"counts": "<email>"}`, `{"injected": true}`, `{"reset": true}`,
 *   `{"expire": "<email>"}`, `{"revoke": "<email>"}`.
 * @module
 */
import {
  type FaultPlan,
  type ScriptedFault,
  startFakeDropbox,
} from "../../fakes/dropbox_server.ts";

const GiB = 1024 * 1024 * 1024;
const dbx = await startFakeDropbox({ maxFileBytes: 2 * GiB, maxTotalBytes: 8 * GiB });
console.log(JSON.stringify({ url: dbx.url }));

type Request = {
  creds?: string;
  faults?: FaultPlan | null;
  script?: ScriptedFault;
  counts?: string;
  injected?: boolean;
  reset?: boolean;
  expire?: string;
  revoke?: string;
};

function answer(request: Request): unknown {
  if (typeof request.creds === "string") {
    const { token, accountId } = dbx.addUser(request.creds);
    return {
      access: token,
      refresh: dbx.refreshToken(request.creds),
      accountId,
      appKey: dbx.appKey,
    };
  }
  if (request.faults !== undefined) {
    if (request.faults === null) dbx.faults.clear();
    else dbx.faults.set(request.faults);
    return { ok: true };
  }
  if (request.script) {
    dbx.faults.script(request.script);
    return { ok: true };
  }
  if (typeof request.counts === "string") return dbx.callCounts(request.counts);
  if (request.injected) return dbx.faults.injected();
  if (request.reset) {
    dbx.resetCounts();
    return { ok: true };
  }
  if (typeof request.expire === "string") {
    dbx.expireAccessTokens(request.expire);
    return { ok: true };
  }
  if (typeof request.revoke === "string") {
    dbx.revoke(request.revoke);
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
await dbx.close();
