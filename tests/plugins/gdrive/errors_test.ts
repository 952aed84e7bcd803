/**
 * Drive's error answers are parsed once into status, reason and Retry-After,
 * whichever way they arrive (a raw response or the Google library's error).
 */
import { assertEquals } from "../_assert.ts";
import { errorBody, fromLibraryError } from "../../../plugins/gdrive/_api.ts";

Deno.test("Drive's error JSON gives its first reason and its message", () => {
  const body = {
    error: {
      code: 403,
      message: "User Rate Limit Exceeded",
      errors: [{ domain: "usageLimits", reason: "userRateLimitExceeded", message: "x" }],
    },
  };
  assertEquals(errorBody(body, ""), {
    reason: "userRateLimitExceeded",
    message: "User Rate Limit Exceeded",
  });
  assertEquals(
    errorBody({ error: "invalid_grant", error_description: "revoked" }, "").reason,
    "invalid_grant",
  );
  assertEquals(errorBody(null, "Bad Gateway"), { reason: "", message: "Bad Gateway" });
});

Deno.test("a library error with a response keeps status, reason and Retry-After", () => {
  const err = fromLibraryError({
    message: "Too Many Requests",
    response: {
      status: 429,
      headers: new Headers({ "retry-after": "3" }),
      data: {
        error: {
          code: 429,
          message: "Rate Limit Exceeded",
          errors: [{ reason: "rateLimitExceeded" }],
        },
      },
    },
  });
  assertEquals([err.status, err.reason, err.retryAfterMs], [429, "rateLimitExceeded", 3000]);
});

Deno.test("a library error without a response is a dropped connection (status 0)", () => {
  const err = fromLibraryError(new TypeError("connection reset"));
  assertEquals([err.status, err.reason], [0, ""]);
});
