/**
 * A clock that moves only when a test moves it, so timeouts, timestamps and
 * "since" windows are tested without waiting and give the same result on
 * every run.
 * @module
 */
import type { Clock } from "../time/clock.ts";

/** A {@linkcode Clock} set and advanced by hand. */
export class ManualClock implements Clock {
  #now: number;

  /** Starts at `start` ms since the epoch (default: 2026-01-01T00:00:00Z). */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Move forward by `ms` (a negative step models a clock set back). */
  advance(ms: number): void {
    this.#now += ms;
  }

  /** Jump to `ms` since the epoch. */
  set(ms: number): void {
    this.#now = ms;
  }

  /**
   * This clock as a machine whose clock is `offsetMs` off reads it: it moves
   * with this one, so several sites of one test can disagree on the time.
   */
  skewed(offsetMs: number): Clock {
    return { now: () => this.#now + offsetMs };
  }
}
