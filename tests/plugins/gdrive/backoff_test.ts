/**
 * The retry policy of the Drive transport, driven by an injected clock and
 * random source: which failures are retried, how long it waits, and what the
 * final error says.
 */
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import {
  type BackoffPolicy,
  delayMs,
  DriveError,
  isRetryable,
  parseRetryAfter,
  withBackoff,
} from "../../../plugins/gdrive/_backoff.ts";
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

Deno.test("429, 5xx, dropped connections and 403 rate limits are retried; other 4xx are not", () => {
  assert(isRetryable(new DriveError(429, "", "")));
  assert(isRetryable(new DriveError(500, "backendError", "")));
  assert(isRetryable(new DriveError(503, "", "")));
  assert(isRetryable(new DriveError(0, "", "connection reset")));
  assert(isRetryable(new DriveError(403, "rateLimitExceeded", "")));
  assert(isRetryable(new DriveError(403, "userRateLimitExceeded", "")));
  assert(!isRetryable(new DriveError(403, "insufficientFilePermissions", "")));
  assert(!isRetryable(new DriveError(404, "notFound", "")));
  assert(!isRetryable(new DriveError(400, "invalid", "")));
  assert(!isRetryable(new DriveError(401, "authError", "")));
});

Deno.test("full jitter draws below min(cap, base * 2^attempt)", () => {
  const { policy } = recording(0.5);
  assertEquals([0, 1, 2, 3, 4, 5, 6].map((n) => delayMs(policy, n)), [
    500,
    1000,
    2000,
    4000,
    8000,
    16000,
    16000,
  ]);
  assertEquals(delayMs({ ...policy, random: () => 0 }, 3), 0);
});

Deno.test("Retry-After raises the wait but never past the cap", () => {
  const { policy } = recording(0);
  assertEquals(delayMs(policy, 0, 5000), 5000);
  assertEquals(delayMs(policy, 0, 120_000), 32000);
  assertEquals(parseRetryAfter("7"), 7000);
  assertEquals(
    parseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", Date.UTC(2015, 9, 21, 7, 28)),
    10000,
  );
  assertEquals(parseRetryAfter("soon"), undefined);
  assertEquals(parseRetryAfter(null), undefined);
});

Deno.test("a retryable failure is tried 8 times in all, then is E_TRANSPORT with Drive's reason", async () => {
  const { policy, waits } = recording();
  let attempts = 0;
  const err = await assertRejects(
    () =>
      withBackoff("list", () => {
        attempts++;
        return Promise.reject(new DriveError(403, "userRateLimitExceeded", "slow down"));
      }, policy),
    SyftError,
  );
  assertEquals(attempts, 8);
  assertEquals(waits.length, 7);
  assertEquals(waits.map((w) => Math.round(w / 1000)), [1, 2, 4, 8, 16, 32, 32]);
  assertEquals(err.code, "E_TRANSPORT");
  assert(err.message.includes("list") && err.message.includes("userRateLimitExceeded"));
  assert(err.message.includes("after 8 tries"), err.message);
});

Deno.test("a 404 fails at once, naming the operation and notFound", async () => {
  const { policy, waits } = recording();
  let attempts = 0;
  const err = await assertRejects(
    () =>
      withBackoff("get", () => {
        attempts++;
        return Promise.reject(new DriveError(404, "notFound", "File not found: abc"));
      }, policy),
    SyftError,
  );
  assertEquals([attempts, waits.length], [1, 0]);
  assert(/\bget\b/.test(err.message) && err.message.includes("notFound"), err.message);
});

Deno.test("a retry succeeds after a 503 and a 429 with Retry-After, waiting as asked", async () => {
  const { policy, waits } = recording(0);
  const answers = [
    new DriveError(503, "", ""),
    new DriveError(429, "", "", { retryAfterMs: 3000 }),
  ];
  const value = await withBackoff("put", () => {
    const next = answers.shift();
    return next ? Promise.reject(next) : Promise.resolve("done");
  }, policy);
  assertEquals(value, "done");
  assertEquals(waits, [0, 3000]);
});

Deno.test("before retrying, the lookup hook may find what a lost answer created", async () => {
  const { policy } = recording(0);
  let creates = 0;
  const found = await withBackoff(
    "put",
    () => {
      creates++;
      return Promise.reject(new DriveError(0, "", "connection reset"));
    },
    policy,
    { beforeRetry: () => Promise.resolve({ id: "made-by-lost-call" }) },
  );
  assertEquals(found, { id: "made-by-lost-call" });
  assertEquals(creates, 1, "the create is not sent twice");
});

Deno.test("errors that are not Drive errors pass through untouched", async () => {
  const { policy } = recording();
  const err = await assertRejects(
    () => withBackoff("put", () => Promise.reject(new TypeError("bug")), policy),
    TypeError,
  );
  assertEquals(err.message, "bug");
});
