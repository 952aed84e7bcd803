/**
 * Dropbox's error answers parsed once: the summary from `error_summary` or
 * the nested tags of 401/429 bodies, Retry-After from the header or the
 * body, tags found deep in an upload's `path.reason`, the SDK's thrown
 * errors, and a refused host named as such.
 */
import { assert, assertEquals } from "../_assert.ts";
import { errorFrom, fromSdkError, notCapable } from "../../../plugins/dropbox/_errors.ts";
import { DropboxError } from "../../../plugins/dropbox/_backoff.ts";

Deno.test("a 409 keeps error_summary and its nested tags are found even when the summary stops short", () => {
  const err = errorFrom(
    409,
    null,
    JSON.stringify({
      error_summary: "path/..jzf",
      error: {
        ".tag": "path",
        path: {
          reason: { ".tag": "conflict", conflict: { ".tag": "file" } },
          upload_session_id: "",
        },
      },
    }),
  );
  assertEquals([err.status, err.summary], [409, "path/..jzf"]);
  assert(err.hasTag("conflict"));
  assert(!err.hasTag("not_found"));
  const found = errorFrom(409, null, { error_summary: "path/not_found/...", error: {} });
  assert(found.is("path/not_found") && found.hasTag("not_found"));
  assert(!found.is("path/not"), "prefixes match whole tags only");
});

Deno.test("401 and 429 bodies give their tag, and Retry-After comes from the header or retry_after", () => {
  const expired = errorFrom(401, null, { error: { ".tag": "expired_access_token" } });
  assertEquals(expired.summary, "expired_access_token");
  const busy = errorFrom(429, "4", { error: { reason: { ".tag": "too_many_write_operations" } } });
  assertEquals([busy.summary, busy.retryAfterMs], ["too_many_write_operations", 4000]);
  const body = errorFrom(429, null, { error: { ".tag": "too_many_requests", retry_after: 2 } });
  assertEquals([body.summary, body.retryAfterMs], ["too_many_requests", 2000]);
  const text = errorFrom(400, null, 'Error in call to API function "files/upload":\n bad  arg');
  assertEquals(text.summary, "");
  assertEquals(text.message, 'Error in call to API function "files/upload": bad arg');
});

Deno.test("the SDK's DropboxResponseError and a dropped connection become DropboxErrors", () => {
  const sdk = Object.assign(new Error("Response failed with a 409 code"), {
    name: "DropboxResponseError",
    status: 409,
    headers: new Headers({ "retry-after": "1" }),
    error: { error_summary: "reset/..", error: { ".tag": "reset" } },
  });
  const parsed = fromSdkError(sdk);
  assertEquals([parsed.status, parsed.summary, parsed.retryAfterMs], [409, "reset/..", 1000]);
  assert(parsed.is("reset"));
  const dropped = fromSdkError(new TypeError("connection reset"));
  assertEquals(dropped.status, 0);
  const own = new DropboxError(503, "", "x");
  assertEquals(fromSdkError(own), own);
});

Deno.test("a host outside the Worker's grant is a final error naming it, not a retry", () => {
  const refused = Object.assign(new Error("Requires net access to evil.org:443"), {
    name: "NotCapable",
  });
  const err = notCapable(new Error("fetch failed", { cause: refused }), "get");
  assert(err !== null && err.code === "E_TRANSPORT", String(err));
  assert(err.message.includes("during get") && err.message.includes("evil.org"), err.message);
  assertEquals(notCapable(new Error("other"), "get"), null);
});
