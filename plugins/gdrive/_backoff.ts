/**
 * Retries for Drive calls (issue 13 item 6): 429, 403 `rateLimitExceeded` /
 * `userRateLimitExceeded`, 5xx and dropped connections are retried with full
 * jitter (1 s base, 32 s cap, 8 tries in all), waiting at least what a
 * `Retry-After` header asks; every other failure is final at once, with
 * Drive's reason in the message. Clock and randomness are injected so tests
 * can prove the schedule without waiting for it.
 * @module
 */
import { SyftError } from "../../core/errors/mod.ts";
import { type BackoffPolicy, DEFAULT_BACKOFF, delayMs } from "../_backoff_policy.ts";

// The schedule is shared with the Dropbox plugin; Drive decides what is retried.
export {
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  delayMs,
  parseRetryAfter,
} from "../_backoff_policy.ts";

/** A failed HTTP exchange with Drive, parsed once from whatever raised it. */
export class DriveError extends Error {
  /** HTTP status, or 0 when no answer came (connection dropped, refused, reset). */
  readonly status: number;
  /** Drive's `errors[0].reason` (e.g. `notFound`, `rateLimitExceeded`), or "". */
  readonly reason: string;
  /** How long the server asked us to wait (`Retry-After`), in ms, if it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    status: number,
    reason: string,
    message: string,
    options: { retryAfterMs?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DriveError";
    this.status = status;
    this.reason = reason;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Reasons Drive gives with a 403 that mean "slow down", not "forbidden". */
const RATE_LIMIT_REASONS: ReadonlySet<string> = new Set([
  "rateLimitExceeded",
  "userRateLimitExceeded",
]);

/** True when trying the same request again later may succeed. */
export function isRetryable(err: DriveError): boolean {
  if (err.status === 0 || err.status === 429 || err.status >= 500) return true;
  return err.status === 403 && RATE_LIMIT_REASONS.has(err.reason);
}

/** What {@linkcode withBackoff} tells its caller between attempts. */
export interface RetryHooks {
  /**
   * Runs before each retry (never before the first attempt). A create uses it
   * to look its name up, since the failed attempt may have created the file;
   * returning a value ends the retries with that value.
   */
  beforeRetry?: ((err: DriveError) => Promise<unknown>) | undefined;
}

/**
 * Run `attempt` until it succeeds, fails for good, or the tries run out.
 * `attempt` must throw only DriveError for HTTP failures (anything else is
 * final). Final failures become `E_TRANSPORT` naming `op` and Drive's reason.
 */
export async function withBackoff<T>(
  op: string,
  attempt: () => Promise<T>,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  hooks: RetryHooks = {},
): Promise<T> {
  for (let n = 0;; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof DriveError)) throw err;
      if (!isRetryable(err) || n + 1 >= policy.tries) throw transportError(op, err, n + 1);
      await policy.sleep(delayMs(policy, n, err.retryAfterMs));
      if (hooks.beforeRetry) {
        const found = await hooks.beforeRetry(err);
        if (found !== undefined) return found as T;
      }
    }
  }
}

/** The user-facing error for a Drive failure during `op`. */
export function transportError(op: string, err: DriveError, tries = 1): SyftError {
  const what = err.status === 0 ? "no answer" : `HTTP ${err.status}`;
  const reason = err.reason ? ` ${err.reason}` : "";
  const after = tries > 1 ? ` after ${tries} tries` : "";
  return new SyftError(
    "E_TRANSPORT",
    `gdrive transport failed during ${op}: ${what}${reason}${after}: ${err.message}`,
    {
      hint: isRetryable(err)
        ? "Google Drive is busy or unreachable; the next round tries again"
        : err.status === 401
        ? "sign in again with: syft auth gdrive"
        : undefined,
      cause: err,
    },
  );
}
