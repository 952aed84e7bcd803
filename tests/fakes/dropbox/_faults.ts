/**
 * Fault injection: seeded random faults at a rate, plus scripted ones that
 * fire first, each aimed at routes and users, so a test can replay a run.
 * Also the per-user call counts by route.
 * @module
 */
import { prng } from "../../../core/random/prng.ts";

/**
 * What can go wrong on one call:
 * - `429`: 429 `too_many_requests` with `Retry-After`, before anything is done;
 * - `429-write`: 429 `too_many_write_operations` with `Retry-After` (writes only;
 *   on a read route it is a plain `429`);
 * - `500` / `503`: plain-text server error, before anything is done;
 * - `latency`: the call is delayed by `latencyMs`, then served;
 * - `drop`: the connection is cut before the call is done (an upload is cut
 *   midway through its body, a download midway through its answer);
 * - `lose-response`: the call is done, then the connection is cut instead of answering.
 */
export type FaultKind = "429" | "429-write" | "500" | "503" | "latency" | "drop" | "lose-response";

/** Every kind, for a plan that wants all of them. */
export const ALL_FAULT_KINDS: readonly FaultKind[] = [
  "429",
  "429-write",
  "500",
  "503",
  "latency",
  "drop",
  "lose-response",
];

/** The API routes the fake serves, counts and can fault (OAuth endpoints are never faulted). */
export const ROUTES = [
  "auth/token/revoke",
  "users/get_current_account",
  "check/user",
  "files/get_metadata",
  "files/create_folder_v2",
  "files/upload",
  "files/upload_session/start",
  "files/upload_session/append_v2",
  "files/upload_session/finish",
  "files/download",
  "files/delete_v2",
  "files/move_v2",
  "files/list_folder",
  "files/list_folder/continue",
  "files/list_folder/get_latest_cursor",
  "files/list_folder/longpoll",
  "sharing/share_folder",
  "sharing/check_share_job_status",
  "sharing/add_folder_member",
  "sharing/list_mountable_folders",
  "sharing/list_mountable_folders/continue",
  "sharing/list_folders",
  "sharing/list_folders/continue",
  "sharing/mount_folder",
  "sharing/list_folder_members",
  "sharing/list_folder_members/continue",
  "sharing/list_folder_members/continue",
  "sharing/get_folder_metadata",
] as const;

/** One route, e.g. `files/upload`. */
export type DropboxRoute = typeof ROUTES[number];

/** Routes that write: where `429-write` (too_many_write_operations) applies. */
export const WRITE_ROUTES: ReadonlySet<DropboxRoute> = new Set<DropboxRoute>([
  "files/create_folder_v2",
  "files/upload",
  "files/upload_session/finish",
  "files/delete_v2",
  "files/move_v2",
  "sharing/share_folder",
  "sharing/add_folder_member",
  "sharing/mount_folder",
]);

/** A random fault plan. */
export interface FaultPlan {
  /** Seed of the generator (default 1); the same seed and calls give the same faults. */
  seed?: number;
  /** Probability that a call gets a fault, 0..1 (default 0). */
  rate?: number;
  /** Kinds drawn from, uniformly (default: all). */
  kinds?: readonly FaultKind[];
  /** Only these routes (default: all but the long-poll, whose faults would only slow a watcher). */
  routes?: readonly DropboxRoute[];
  /** Only these users (default: all). */
  users?: readonly string[];
  /** Delay of a `latency` fault (default 50 ms). */
  latencyMs?: number;
  /** `Retry-After` seconds of a 429 (default 1). */
  retryAfterSeconds?: number;
  /**
   * A change stays out of `list_folder/continue` results (and does not wake a
   * long-poll) for this many milliseconds (default 0): Dropbox's listings are
   * eventually consistent.
   */
  listingLagMs?: number;
  /**
   * A write (see {@linkcode WRITE_ROUTES}) that starts while another write of
   * the same user is still in progress gets 429 `too_many_write_operations`,
   * as Dropbox's per-namespace write lock answers parallel writers (default false).
   */
  writeContention?: boolean;
  /** `backoff` seconds every long-poll answer carries (default: none). */
  longpollBackoffSeconds?: number;
}

/** One scripted fault. */
export interface ScriptedFault {
  kind: FaultKind;
  /** Only this route (default: the next call of any route). */
  route?: DropboxRoute;
  /** Only this user's calls. */
  user?: string;
  /** How many matching calls it hits (default 1). */
  times?: number;
}

/** Decides each call's fault and counts calls per user and route. */
export class Faults {
  #plan: FaultPlan = {};
  #random = prng(1);
  #script: ScriptedFault[] = [];
  #counts = new Map<string, Map<DropboxRoute, number>>();
  #injected = new Map<FaultKind, number>();

  /** Replace the random plan (and reseed). */
  set(plan: FaultPlan): void {
    this.#plan = { ...plan };
    this.#random = prng(plan.seed ?? 1);
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

  /** Count a call (`user` is "" for the long-poll, which carries no token) and pick its fault. */
  next(route: DropboxRoute, user: string): FaultKind | null {
    const perUser = this.#counts.get(user) ?? new Map<DropboxRoute, number>();
    this.#counts.set(user, perUser);
    perUser.set(route, (perUser.get(route) ?? 0) + 1);

    const i = this.#script.findIndex((f) =>
      (f.route === undefined || f.route === route) && (f.user === undefined || f.user === user)
    );
    if (i !== -1) {
      const f = this.#script[i]!;
      f.times = (f.times ?? 1) - 1;
      if (f.times <= 0) this.#script.splice(i, 1);
      return this.#count(f.kind);
    }
    const p = this.#plan;
    if (!p.rate) return null;
    if (p.routes ? !p.routes.includes(route) : route === "files/list_folder/longpoll") return null;
    if (p.users && !p.users.includes(user)) return null;
    if (this.#random() >= p.rate) return null;
    const kinds = p.kinds && p.kinds.length > 0 ? p.kinds : ALL_FAULT_KINDS;
    return this.#count(kinds[Math.floor(this.#random() * kinds.length)]!);
  }

  #count(kind: FaultKind): FaultKind {
    this.#injected.set(kind, (this.#injected.get(kind) ?? 0) + 1);
    return kind;
  }

  /** Calls by `user` per route, plus `total`. */
  callCounts(user: string): Record<string, number> {
    const out: Record<string, number> = { total: 0 };
    for (const [route, n] of this.#counts.get(user) ?? []) {
      out[route] = n;
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
