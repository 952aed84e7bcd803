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

/** The schedule and its sources of time and chance. */
export interface BackoffPolicy {
  /** First delay ceiling in ms (default 1000). */
  baseMs: number;
  /** Largest delay ceiling in ms (default 32000). */
  capMs: number;
  /** Attempts in all, the first included (default 8). */
  tries: number;
  /** A number in [0, 1). */
  random: () => number;
  /** Wait `ms` milliseconds. */
  sleep: (ms: number) => Promise<void>;
}

/** Drive's documented schedule with real time and `Math.random`. */
export const DEFAULT_BACKOFF: BackoffPolicy = {
  baseMs: 1_000,
  capMs: 32_000,
  tries: 8,
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * The wait before retry number `attempt` (0 for the first retry): full jitter,
 * a uniform draw below min(cap, base·2^attempt), raised to `Retry-After`
 * when the server asked for longer (but never beyond the cap).
 */
export function delayMs(policy: BackoffPolicy, attempt: number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  const jittered = Math.floor(policy.random() * ceiling);
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, policy.capMs));
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

/**
 * `Retry-After` in ms: either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Anything unreadable counts as absent.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
