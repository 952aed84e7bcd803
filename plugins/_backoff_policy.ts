/**
 * The retry schedule every cloud plugin shares (issues 13 and 18): full
 * jitter, 1 s base, 32 s cap, 8 tries in all, raised to what a `Retry-After`
 * asks. Each plugin decides which of its failures are worth a retry; the
 * waiting is the same. Clock and randomness are injected so tests can prove
 * the schedule without waiting for it.
 * @module
 */

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

/** The documented schedule with real time and `Math.random`. */
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
 * when the server asked for longer (but never beyond the cap, so a hostile
 * answer cannot stall a round).
 */
export function delayMs(policy: BackoffPolicy, attempt: number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  const jittered = Math.floor(policy.random() * ceiling);
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, policy.capMs));
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
