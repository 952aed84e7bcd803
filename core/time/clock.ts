/**
 * Time as the engine sees it: the real clock by default, a hand-moved one in
 * tests (`core/testing/manual_clock.ts`), so timeouts and timestamps can be
 * tested without waiting.
 * @module
 */

/** Wall-clock time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The system's clock. */
export const systemClock: Clock = { now: () => Date.now() };
