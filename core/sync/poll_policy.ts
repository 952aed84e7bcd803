/**
 * How long `syft sync --watch` waits before it polls the transport again
 * (docs/cli.md, Sync): the interval, or, when the user did not choose one and
 * nothing happened for a while, a slower pace that spares cloud API quotas.
 * Only the remote poll slows down: local edits and a watching transport's
 * `changes()` still wake the loop at once. Pure: the clock is an argument.
 * @module
 */

/** The poll interval without `--interval`. */
export const DEFAULT_POLL_MS = 5_000;
/** Idle this long (no `--interval` given) and polling slows down. */
export const IDLE_AFTER_MS = 10 * 60_000;
/** The poll interval once idle. */
export const IDLE_POLL_MS = 60_000;
/** The longest wait a timer can hold (setTimeout fires at once beyond it). */
export const MAX_WAIT_MS = 2 ** 31 - 1;

/** What {@linkcode pollWaitMs} decides from. */
export interface PollInput {
  /** The poll interval in ms: `--interval`, or {@linkcode DEFAULT_POLL_MS}. */
  intervalMs: number;
  /** True when the user gave `--interval`: their pace is kept, never slowed. */
  explicit: boolean;
  /** When the last round did anything, or a local edit was seen (ms, same clock as `now`). */
  lastActivityAt: number;
  /** The current time (ms). */
  now: number;
}

/**
 * The wait before the next poll, in ms: always between 0 and
 * {@linkcode MAX_WAIT_MS}, whatever the clock did.
 *
 * @example
 * ```ts
 * pollWaitMs({ intervalMs: 5_000, explicit: false, lastActivityAt: 0, now: 11 * 60_000 }); // 60_000
 * ```
 */
export function pollWaitMs(input: PollInput): number {
  const interval = clampWait(input.intervalMs);
  if (input.explicit) return interval;
  // A clock that went backwards (now before the last activity) reads as "just
  // active", never as a negative idle time; NaN fails the comparison the same way.
  const idle = input.now - input.lastActivityAt;
  if (!(idle >= IDLE_AFTER_MS)) return interval;
  return Math.max(interval, IDLE_POLL_MS);
}

function clampWait(ms: number): number {
  if (!(ms > 0)) return 0; // NaN and negatives: poll now rather than never
  return Math.min(ms, MAX_WAIT_MS);
}

/**
 * {@linkcode pollWaitMs} with the last activity remembered. A clock that jumps
 * backwards restarts the idle count from the new "now", so the loop neither
 * stays at the fast pace for as long as the jump nor slows down early.
 *
 * @example
 * ```ts
 * const policy = new PollPolicy({ intervalMs: 5_000, explicit: false }, 0);
 * policy.waitMs(60_000); // 5_000
 * policy.waitMs(11 * 60_000); // 60_000
 * policy.activity(11 * 60_000);
 * policy.waitMs(11 * 60_000); // 5_000
 * ```
 */
export class PollPolicy {
  readonly #intervalMs: number;
  readonly #explicit: boolean;
  #lastActivityAt: number;

  /** Starting counts as activity: a fresh `--watch` polls at the interval. */
  constructor(options: { intervalMs: number; explicit: boolean }, now: number) {
    this.#intervalMs = options.intervalMs;
    this.#explicit = options.explicit;
    this.#lastActivityAt = now;
  }

  /** A round sent, received, applied or proposed something, or a local file changed. */
  activity(now: number): void {
    this.#lastActivityAt = now;
  }

  /** How long to wait before polling again. */
  waitMs(now: number): number {
    if (now < this.#lastActivityAt || !Number.isFinite(this.#lastActivityAt)) {
      this.#lastActivityAt = now;
    }
    return pollWaitMs({
      intervalMs: this.#intervalMs,
      explicit: this.#explicit,
      lastActivityAt: this.#lastActivityAt,
      now,
    });
  }
}
