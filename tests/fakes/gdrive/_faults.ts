/**
 * Fault injection: seeded random faults at a rate, plus scripted ones that
 * fire first, each aimed at methods and users, so a test can replay a run.
 * @module
 */

/**
 * What can go wrong on one call:
 * - `429`: Too Many Requests with `Retry-After`, before anything is done;
 * - `403-rate` / `403-user-rate`: 403 `rateLimitExceeded` / `userRateLimitExceeded`;
 * - `500` / `503`: backendError, before anything is done;
 * - `latency`: the call is delayed by `latencyMs`, then served;
 * - `drop`: the connection is cut before the call is done (an upload chunk is
 *   cut midway, after half its bytes arrived; a download midway through its body);
 * - `lose-response`: the call is done, then the connection is cut instead of answering.
 */
export type FaultKind =
  | "429"
  | "403-rate"
  | "403-user-rate"
  | "500"
  | "503"
  | "latency"
  | "drop"
  | "lose-response";

/** Every kind, for a plan that wants all of them. */
export const ALL_FAULT_KINDS: readonly FaultKind[] = [
  "429",
  "403-rate",
  "403-user-rate",
  "500",
  "503",
  "latency",
  "drop",
  "lose-response",
];

/** The API methods the fake counts and can fault (OAuth endpoints are never faulted). */
export type DriveMethod =
  | "about.get"
  | "files.create"
  | "files.generateIds"
  | "files.upload"
  | "files.list"
  | "files.get"
  | "files.download"
  | "files.update"
  | "files.delete"
  | "permissions.create"
  | "permissions.list"
  | "permissions.delete"
  | "changes.getStartPageToken"
  | "changes.list";

/** A random fault plan. */
export interface FaultPlan {
  /** Seed of the generator (default 1); the same seed and calls give the same faults. */
  seed?: number;
  /** Probability that a call gets a fault, 0..1 (default 0). */
  rate?: number;
  /** Kinds drawn from, uniformly (default: all). */
  kinds?: readonly FaultKind[];
  /** Only these methods (default: all). */
  methods?: readonly DriveMethod[];
  /** Only these users (default: all). */
  users?: readonly string[];
  /** Delay of a `latency` fault (default 50 ms). */
  latencyMs?: number;
  /** `Retry-After` seconds of a 429 (default 1). */
  retryAfterSeconds?: number;
  /**
   * A new file stays out of `files.list` results for this many listings that
   * would have shown it (default 0).
   */
  listingLag?: number;
  /**
   * A new grant (`permissions.create`) keeps the file out of the grantee's
   * `files.list` results for this many listings that would have shown it
   * (default 0): Drive's search, `sharedWithMe` included, is eventually
   * consistent, while `files.get` and `changes.list` see the grant at once.
   */
  sharingLag?: number;
  /**
   * Pages of `files.list` and `changes.list` hold at most half the `pageSize`
   * asked for, as Drive documents it may ("partial or empty result pages are
   * possible even before the end"), so a client must follow the page token.
   */
  shortPages?: boolean;
}

/** One scripted fault. */
export interface ScriptedFault {
  kind: FaultKind;
  /** Only this method (default: the next call of any method). */
  method?: DriveMethod;
  /** Only this user's calls. */
  user?: string;
  /** How many matching calls it hits (default 1). */
  times?: number;
}

/** mulberry32: small, fast and good enough to spread faults. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decides each call's fault and counts calls per user and method. */
export class Faults {
  #plan: FaultPlan = {};
  #random = generator(1);
  #script: ScriptedFault[] = [];
  #counts = new Map<string, Map<DriveMethod, number>>();
  #injected = new Map<FaultKind, number>();

  /** Replace the random plan (and reseed). */
  set(plan: FaultPlan): void {
    this.#plan = { ...plan };
    this.#random = generator(plan.seed ?? 1);
  }

  /** The current plan. */
  get plan(): Readonly<FaultPlan> {
    return this.#plan;
  }

  /** Queue a scripted fault; scripted faults fire before random ones. */
  script(fault: ScriptedFault): void {
    this.#script.push({ times: 1, ...fault });
  }

  /** Drop the plan and the script. */
  clear(): void {
    this.set({});
    this.#script.length = 0;
  }

  /** Count a call and pick its fault, if any. */
  next(method: DriveMethod, user: string): FaultKind | null {
    const perUser = this.#counts.get(user) ?? new Map<DriveMethod, number>();
    this.#counts.set(user, perUser);
    perUser.set(method, (perUser.get(method) ?? 0) + 1);

    const i = this.#script.findIndex((f) =>
      (f.method === undefined || f.method === method) && (f.user === undefined || f.user === user)
    );
    if (i !== -1) {
      const f = this.#script[i]!;
      f.times = (f.times ?? 1) - 1;
      if (f.times <= 0) this.#script.splice(i, 1);
      return this.#count(f.kind);
    }
    const p = this.#plan;
    if (!p.rate) return null;
    if (p.methods && !p.methods.includes(method)) return null;
    if (p.users && !p.users.includes(user)) return null;
    if (this.#random() >= p.rate) return null;
    const kinds = p.kinds && p.kinds.length > 0 ? p.kinds : ALL_FAULT_KINDS;
    return this.#count(kinds[Math.floor(this.#random() * kinds.length)]!);
  }

  #count(kind: FaultKind): FaultKind {
    this.#injected.set(kind, (this.#injected.get(kind) ?? 0) + 1);
    return kind;
  }

  /** Calls by `user` per method, plus `total`. */
  callCounts(user: string): Record<string, number> {
    const out: Record<string, number> = { total: 0 };
    for (const [method, n] of this.#counts.get(user) ?? []) {
      out[method] = n;
      out.total! += n;
    }
    return out;
  }

  /** Faults injected so far, per kind. */
  injected(): Record<string, number> {
    return Object.fromEntries(this.#injected);
  }

  /** Forget all counts. */
  resetCounts(): void {
    this.#counts.clear();
    this.#injected.clear();
  }
}

/** A per-user request quota, as Drive enforces "queries per user per second". */
export interface QuotaPlan {
  /** Sustained requests per second per user. */
  perSecond: number;
  /** Requests a user may make at once after being idle. */
  burst: number;
}

/** Token buckets per user; a call beyond the quota is refused, not delayed. */
export class Quota {
  #plan: QuotaPlan | null = null;
  #buckets = new Map<string, { tokens: number; at: number }>();

  /** Set (or with null, lift) the quota; buckets start full. */
  set(plan: QuotaPlan | null): void {
    this.#plan = plan;
    this.#buckets.clear();
  }

  /** Take one request from `user`'s bucket; false when it is empty. */
  take(user: string, now = performance.now()): boolean {
    const plan = this.#plan;
    if (!plan) return true;
    const b = this.#buckets.get(user) ?? { tokens: plan.burst, at: now };
    b.tokens = Math.min(plan.burst, b.tokens + (now - b.at) / 1000 * plan.perSecond);
    b.at = now;
    this.#buckets.set(user, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
