/**
 * A token bucket in front of every Drive request (issue 13 item 5): at most
 * `perSecond` requests a second on average, `burst` at once after a quiet
 * spell. Callers queue in arrival order, so a burst of puts cannot starve an
 * earlier call.
 * @module
 */

/** The bucket's rate, size and clock. */
export interface RateOptions {
  /** Tokens added per second (default 10). */
  perSecond: number;
  /** Bucket size (default 100). */
  burst: number;
  /** Milliseconds, monotonic. */
  now: () => number;
  /** Wait `ms` milliseconds. */
  sleep: (ms: number) => Promise<void>;
}

/** Drive's per-user quota, comfortably below its limit. */
export const DEFAULT_RATE: RateOptions = {
  perSecond: 10,
  burst: 100,
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Hands out one token per request, waiting when the bucket is empty. */
export class TokenBucket {
  readonly #options: RateOptions;
  #tokens: number;
  #stamp: number;
  /** The tail of the queue: each `take` waits for the one before it. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: Partial<RateOptions> = {}) {
    this.#options = { ...DEFAULT_RATE, ...options };
    if (!(this.#options.perSecond > 0) || !(this.#options.burst >= 1)) {
      throw new RangeError("a token bucket needs perSecond > 0 and burst >= 1");
    }
    this.#tokens = this.#options.burst;
    this.#stamp = this.#options.now();
  }

  /** Resolve when a request may go out (and count it). */
  take(): Promise<void> {
    const turn = this.#queue.then(() => this.#takeOne());
    this.#queue = turn;
    return turn;
  }

  async #takeOne(): Promise<void> {
    for (;;) {
      this.#refill();
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      const waitMs = ((1 - this.#tokens) / this.#options.perSecond) * 1000;
      await this.#options.sleep(Math.ceil(waitMs));
    }
  }

  #refill(): void {
    const now = this.#options.now();
    const gained = ((now - this.#stamp) / 1000) * this.#options.perSecond;
    this.#tokens = Math.min(this.#options.burst, this.#tokens + gained);
    this.#stamp = now;
  }
}
