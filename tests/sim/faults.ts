/**
 * The faults of one simulated sync round, drawn from the round's own seed so
 * that dropping other operations (shrinking) leaves them as they were: a
 * transport error at one call (rate limit with Retry-After, a 500, a timeout
 * whose request went through), repeated or reordered listings, objects that
 * show late, and a power cut at one of the round's fsyncs.
 * @module
 */
import { SyftError } from "../../core/errors/mod.ts";
import { prng } from "../../core/random/prng.ts";
import type { TransportFaults } from "../../core/testing/memory_transport.ts";
import type { ChannelRef, ObjectInfo } from "../../core/transport/contract.ts";

/** How often each fault strikes (the `deno task sim` flags). */
export interface FaultRates {
  /** Rounds that meet one transport error. */
  transport: number;
  /** Listings repeated or reordered, and objects put that show late (each). */
  listing: number;
  /** Rounds whose site loses power at one of its fsyncs. */
  crash: number;
  /** The most a site's clock is off, either way, in ms. */
  skewMs: number;
}

/** Issue 16's rates: 5 % transport errors, 1 % listing faults and crashes, ±10 min skew. */
export const DEFAULT_RATES: FaultRates = {
  transport: 0.05,
  listing: 0.01,
  crash: 0.01,
  skewMs: 10 * 60_000,
};

/** No faults at all (quiescence, and runs that test the checker alone). */
export const NO_FAULTS: FaultRates = { transport: 0, listing: 0, crash: 0, skewMs: 0 };

/** Calls a round makes at most before its drawn error would strike; later draws never strike. */
const CALLS_DRAWN = 40;

/** Read operations: a timeout there fails before anything happened. */
const EFFECTS = new Set(["put", "delete", "openChannel"]);

/** One round's faults, for {@linkcode MemoryStorage.faults}. */
export class RoundFaults implements TransportFaults {
  readonly #next: () => number;
  readonly #rates: FaultRates;
  #calls = 0;
  readonly #failAt: number;
  readonly #kind: number;
  /** The fsync (counted from the round's start) the site dies at, or null. */
  readonly crashAt: number | null;
  /** Whether an injected transport error struck. */
  struck = false;

  /**
   * `dead` says the round's site lost power: from then on it makes no call
   * at all. (core/fs/atomic.ts's syncDir swallows every error of a folder's
   * fsync, the power cut included, so without this a dead site would go on
   * putting objects no real process would have.)
   */
  constructor(seed: number, rates: FaultRates, readonly dead: () => boolean = () => false) {
    this.#next = prng(seed);
    this.#rates = rates;
    this.#failAt = this.#next() < rates.transport ? 1 + this.#int(CALLS_DRAWN) : 0;
    this.#kind = this.#int(3);
    this.crashAt = this.#next() < rates.crash ? 1 + this.#int(12) : null;
  }

  fail(op: string, _identity: string): SyftError | { after: SyftError } | undefined {
    if (this.dead()) return new SyftError("E_TRANSPORT", `${op}: the process lost power`);
    if (op === "capabilities" || op === "whoami") return undefined;
    if (++this.#calls !== this.#failAt) return undefined;
    this.struck = true;
    if (this.#kind === 0) {
      return new SyftError("E_TRANSPORT", `${op}: rate limited (429); retry after 7 s`);
    }
    if (this.#kind === 1) return new SyftError("E_TRANSPORT", `${op}: server error (500)`);
    const timeout = new SyftError("E_TRANSPORT", `${op}: timed out after 30 s`);
    return EFFECTS.has(op) ? { after: timeout } : timeout;
  }

  listing(_identity: string, objects: ObjectInfo[]): ObjectInfo[] {
    if (objects.length === 0 || this.#next() >= this.#rates.listing) return objects;
    if (this.#next() < 0.5) return [...objects].reverse();
    const again = objects[this.#int(objects.length)]!;
    return [...objects, again];
  }

  lag(_channel: ChannelRef, _name: string): number {
    return this.#next() < this.#rates.listing ? 1 + this.#int(3) : 0;
  }

  #int(n: number): number {
    return Math.floor(this.#next() * n);
  }
}
