/**
 * The retry policy of the Dropbox transport, driven by an injected clock and
 * random source: which failures are retried, how long it waits, and what the
 * final error says.
 */
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import {
  type BackoffPolicy,
  delayMs,
  DropboxError,
  isRetryable,
  withBackoff,
} from "../../../plugins/dropbox/_backoff.ts";
import { errorFrom } from "../../../plugins/dropbox/_errors.ts";
import { SyftError } from "../../../core/errors/mod.ts";

/** A policy that records its waits instead of sleeping. */
function recording(random = 1 - 2 ** -52): { policy: BackoffPolicy; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    policy: {
      baseMs: 1000,
      capMs: 32000,
      tries: 8,
      random: () => random,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    },
  };
}

Deno.test("429 of both kinds, 5xx and dropped connections are retried; 409, 400 and 401 are not", () => {
  const retried = [
    errorFrom(429, "1", { error_summary: "too_many_requests/..", error: {} }),
    errorFrom(429, null, { error: { reason: { ".tag": "too_many_write_operations" } } }),
    errorFrom(500, null, "Internal Server Error"),
    errorFrom(503, null, ""),
    new DropboxError(0, "", "connection reset"),
  ];
  for (const err of retried) assert(isRetryable(err), `${err.status} ${err.summary}`);
  const final = [
    errorFrom(409, null, { error_summary: "path/not_found/..", error: { ".tag": "path" } }),
    errorFrom(400, null, 'Error in call to API function "files/upload": bad arg'),
    errorFrom(401, null, { error: { ".tag": "expired_access_token" } }),
  ];
  for (const err of final) assert(!isRetryable(err), `${err.status} ${err.summary}`);
});

Deno.test("full jitter draws below min(cap, base * 2^attempt), raised to Retry-After up to the cap", () => {
  const { policy } = recording(0.5);
  assertEquals(
    [0, 1, 2, 3, 4, 5, 6].map((n) => delayMs(policy, n)),
    [500, 1000, 2000, 4000, 8000, 16000, 16000],
  );
  const zero = { ...policy, random: () => 0 };
  assertEquals(delayMs(zero, 3), 0);
  assertEquals(delayMs(zero, 0, 5000), 5000);
  assertEquals(delayMs(zero, 0, 120_000), 32000);
});

Deno.test("a 429 is retried after what Retry-After or the body's retry_after asks", async () => {
  const { policy, waits } = recording(0);
  let n = 0;
  const value = await withBackoff("put", () => {
    n++;
    if (n === 1) throw errorFrom(429, "3", { error: { ".tag": "too_many_requests" } });
    if (n === 2) {
      throw errorFrom(429, null, {
        error_summary: "too_many_write_operations/..",
        error: { reason: { ".tag": "too_many_write_operations" }, retry_after: 2 },
      });
    }
    return Promise.resolve("done");
  }, policy);
  assertEquals(value, "done");
  assertEquals(waits, [3000, 2000]);
});

Deno.test("a retryable failure is tried 8 times in all, then is E_TRANSPORT with Dropbox's summary", async () => {
  const { policy, waits } = recording();
  let attempts = 0;
  const err = await assertRejects(
    () =>
      withBackoff("list", () => {
        attempts++;
        throw errorFrom(503, null, { error_summary: "internal_error/..." });
      }, policy),
    SyftError,
  );
  assertEquals(attempts, 8);
  assertEquals(waits.length, 7);
  assertEquals(err.code, "E_TRANSPORT");
  assert(err.message.includes("during list"), err.message);
  assert(err.message.includes("internal_error/..."), err.message);
  assert(err.message.includes("after 8 tries"), err.message);
});

Deno.test("any other failure fails at once with error_summary in the message", async () => {
  const { policy, waits } = recording();
  let attempts = 0;
  const err = await assertRejects(
    () =>
      withBackoff("get", () => {
        attempts++;
        throw errorFrom(409, null, {
          error_summary: "path/not_found/...",
          error: { ".tag": "path", path: { ".tag": "not_found" } },
        });
      }, policy),
    SyftError,
  );
  assertEquals([attempts, waits.length], [1, 0]);
  assert(err.message.includes("path/not_found/..."), err.message);
  const revoked = await assertRejects(
    () =>
      withBackoff("list", () => {
        throw errorFrom(401, null, {
          error_summary: "invalid_access_token/...",
          error: { ".tag": "invalid_access_token" },
        });
      }, policy),
    SyftError,
  );
  assertEquals(revoked.exitCode, 4);
  assertEquals(revoked.hint, "syft auth dropbox");
});

Deno.test("a hook that finds the lost create ends the retries with its value", async () => {
  const { policy, waits } = recording(0);
  let attempts = 0;
  const value = await withBackoff(
    "put",
    () => {
      attempts++;
      throw new DropboxError(0, "", "response lost");
    },
    policy,
    { beforeRetry: () => Promise.resolve("found") },
  );
  assertEquals([value, attempts, waits.length], ["found", 1, 1]);
});
