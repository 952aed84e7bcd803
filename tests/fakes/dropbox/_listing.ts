/**
 * Listings: list_folder (recursive, mounted folders included or not, paged),
 * continue, get_latest_cursor and the long-poll. A cursor is kept on the
 * server and never changes meaning, so a retried `continue` with the same
 * cursor gets the same changes again. Changes come as the current state of
 * each changed path (file, folder or deleted), parents before children; a
 * mount or a share reports the whole folder.
 * @module
 */
import type { RouteSpec } from "./_api.ts";
import { badInput, routeError } from "./_errors.ts";
import type { Faults } from "./_faults.ts";
import { refusing, resolvePath, under } from "./_files.ts";
import { type Arg, bool, int, known, str } from "./_request.ts";
import {
  type ChangeEvent,
  type Namespace,
  parentOf,
  randomText,
  Refusal,
  type Store,
  type User,
} from "./_store.ts";
import { deleted, metadata, pathsOf } from "./_views.ts";

/** What a cursor stands for. */
interface CursorState {
  email: string;
  /** The listed folder, lower-cased ("" for the root). */
  path: string;
  recursive: boolean;
  includeMounted: boolean;
  limit: number;
  /** Changes after this sequence number are still to report. */
  seq: number;
  /** Entries of the current answer not given yet (has_more). */
  pending: Record<string, unknown>[];
}

/** The most cursors kept (oldest forgotten: `reset`). */
const MAX_CURSORS = 100_000;
/** The most entries cursors hold for later pages, together (oldest cursors forgotten first). */
const MAX_HELD = 1_000_000;
const DEFAULT_LIMIT = 2000;
const LIST_FIELDS = [
  "path",
  "recursive",
  "include_media_info",
  "include_deleted",
  "include_has_explicit_shared_members",
  "include_mounted_folders",
  "limit",
  "shared_link",
  "include_property_groups",
  "include_non_downloadable_files",
  "include_restorable_info",
];

/** Listings and their cursors. */
export class Listings {
  readonly #cursors = new Map<string, CursorState>();
  readonly #waiters = new Set<() => void>();
  /** Entries held for pages not given yet, all cursors together. */
  #held = 0;
  #closed = false;

  constructor(
    private readonly store: Store,
    private readonly faults: Faults,
    private readonly secondMs: number,
  ) {
    store.listen(() => {
      for (const wake of [...this.#waiters]) wake();
    });
  }

  /** Wake every long-poll (the server is closing); how many were waiting. */
  close(): number {
    this.#closed = true;
    const waiting = this.#waiters.size;
    for (const wake of [...this.#waiters]) wake();
    return waiting;
  }

  #save(state: CursorState): string {
    this.#held += state.pending.length;
    for (const [key, old] of this.#cursors) {
      if (this.#cursors.size < MAX_CURSORS && this.#held <= MAX_HELD) break;
      this.#cursors.delete(key);
      this.#held -= old.pending.length;
    }
    const cursor = `AAH${randomText(24)}`;
    this.#cursors.set(cursor, state);
    return cursor;
  }

  /** The state behind a cursor argument; 400 for a malformed one, 409 `reset` for one forgotten. */
  state(raw: string): CursorState {
    if (!/^AAH[A-Za-z0-9]{24}$/.test(raw)) {
      throw badInput(`request body: cursor: Invalid "cursor" parameter: ${raw.slice(0, 40)}`);
    }
    const state = this.#cursors.get(raw);
    if (!state) throw routeError({ ".tag": "reset" });
    return state;
  }

  /** Parse a ListFolderArg and check its folder. */
  #parse(user: User, arg: Arg): Omit<CursorState, "seq" | "pending" | "email"> {
    known(arg, LIST_FIELDS);
    const raw = str(arg, "path");
    const parts = refusing(() => {
      const p = resolvePath(this.store, user, raw, "lookup", true);
      this.store.folderAt(user, p);
      return p;
    }, (r) => under("path", r.reason));
    const loc = this.store.locate(user, parts);
    const node = this.store.nodeAt(loc);
    const path = node ? pathsOf(this.store, user, node)!.lower : "";
    return {
      path,
      recursive: bool(arg, "recursive", false),
      includeMounted: bool(arg, "include_mounted_folders", true),
      limit: int(arg, "limit", DEFAULT_LIMIT, 1, 2000),
    };
  }

  /** Where each namespace `user` sees sits in its view: home at "", shared at their mounts. */
  #views(user: User): Map<Namespace, { lower: string; display: string }> {
    const out = new Map<Namespace, { lower: string; display: string }>();
    out.set(user.root, { lower: "", display: "" });
    for (const sf of this.store.sharedWith(user)) {
      const view = this.store.viewOf(user, sf.ns);
      if (view) out.set(sf.ns, view);
    }
    return out;
  }

  /** Whether `lower` (seen from namespace `ns` mounted at `view`) belongs in a listing of `s`. */
  #inScope(
    s: Pick<CursorState, "path" | "recursive" | "includeMounted">,
    user: User,
    ns: Namespace,
    view: string,
    lower: string,
  ): boolean {
    if (
      !s.includeMounted && ns !== user.root && !(s.path === view || s.path.startsWith(view + "/"))
    ) {
      return false;
    }
    if (s.recursive) return lower === s.path ? s.path !== "" : lower.startsWith(s.path + "/");
    return parentOf(lower) === s.path && lower !== s.path;
  }

  /** Every entry now under the listed folder, parents first. */
  #snapshot(
    user: User,
    s: Omit<CursorState, "seq" | "pending" | "email">,
  ): Record<string, unknown>[] {
    const found: { lower: string; entry: Record<string, unknown> }[] = [];
    for (const [ns, view] of this.#views(user)) {
      for (const node of ns.nodes.values()) {
        const lower = view.lower + node.relLower;
        if (!this.#inScope(s, user, ns, view.lower, lower)) continue;
        found.push({
          lower,
          entry: metadata(this.store, user, node, {
            lower,
            display: view.display + node.relDisplay,
          }),
        });
      }
    }
    found.sort((a, b) => (a.lower < b.lower ? -1 : a.lower > b.lower ? 1 : 0));
    return found.map((f) => f.entry);
  }

  /** A page of `entries` and the cursor for what follows. */
  #page(base: Omit<CursorState, "pending">, entries: Record<string, unknown>[], reuse?: string) {
    const page = entries.slice(0, base.limit);
    const pending = entries.slice(base.limit);
    const cursor = reuse ?? this.#save({ ...base, pending });
    return { entries: page, cursor, has_more: pending.length > 0 };
  }

  list(user: User, arg: Arg) {
    const s = this.#parse(user, arg);
    const seq = this.store.seq;
    return this.#page({ ...s, email: user.email, seq }, this.#snapshot(user, s));
  }

  latest(user: User, arg: Arg) {
    const s = this.#parse(user, arg);
    return { cursor: this.#save({ ...s, email: user.email, seq: this.store.seq, pending: [] }) };
  }

  /** Events after `seq` old enough to be seen (listing lag), and the newest such seq. */
  #events(after: number): { events: ChangeEvent[]; upTo: number } {
    if (after + 1 < this.store.logStart) throw routeError({ ".tag": "reset" });
    const lag = this.faults.plan.listingLagMs ?? 0;
    const cutoff = Date.now() - lag;
    const log = this.store.log;
    const events: ChangeEvent[] = [];
    let upTo = after;
    for (let i = Math.max(0, after + 1 - this.store.logStart); i < log.length; i++) {
      const e = log[i]!;
      if (e.at > cutoff) break;
      events.push(e);
      upTo = e.seq;
    }
    return { events, upTo };
  }

  /** The current state of each path changed in `events` that `s` covers, parents first. */
  #changes(user: User, s: CursorState, events: ChangeEvent[]): Record<string, unknown>[] {
    const views = this.#views(user);
    const changed = new Map<string, { display: string; expand: boolean }>();
    for (const e of events) {
      const view = views.get(e.ns);
      if (!view) continue;
      const lower = view.lower + e.relLower;
      if (!this.#inScope(s, user, e.ns, view.lower, lower)) continue;
      const before = changed.get(lower);
      changed.delete(lower); // re-inserted last: the order of the latest change
      changed.set(lower, {
        display: view.display + e.relDisplay,
        expand: e.expand || !!before?.expand,
      });
    }
    const out: Record<string, unknown>[] = [];
    const given = new Set<string>();
    for (const [lower, { display, expand }] of changed) {
      if (given.has(lower)) continue;
      given.add(lower);
      const loc = this.store.locate(user, lower.slice(1).split("/"));
      const node = this.store.nodeAt(loc);
      if (!node) {
        out.push(deleted({ lower, display }));
        continue;
      }
      const paths = pathsOf(this.store, user, node)!;
      out.push(metadata(this.store, user, node, paths));
      if (expand && s.recursive && node.kind === "folder") {
        for (const entry of this.#snapshot(user, { ...s, path: lower })) {
          const l = entry.path_lower as string;
          if (given.has(l) || changed.has(l) && l !== lower) continue;
          given.add(l);
          out.push(entry);
        }
      }
    }
    return out;
  }

  continue(user: User, cursor: string) {
    const s = this.state(cursor);
    if (s.email !== user.email) throw routeError({ ".tag": "reset" });
    if (s.pending.length > 0) return this.#page(s, s.pending);
    if (s.path !== "") {
      refusing(
        () => this.store.folderAt(user, s.path.slice(1).split("/")),
        (r: Refusal) => under("path", r.reason),
      );
    }
    const { events, upTo } = this.#events(s.seq);
    if (upTo === s.seq) return { entries: [], cursor, has_more: false };
    return this.#page({ ...s, seq: upTo }, this.#changes(user, s, events));
  }

  /**
   * Whether `continue` on this cursor would have something to say now,
   * looking only at changes after `from` (what a waiting poll has not seen
   * yet), and the sequence number seen up to.
   */
  #hasChanges(user: User, s: CursorState, from: number): { changes: boolean; upTo: number } {
    if (s.pending.length > 0) return { changes: true, upTo: from };
    const { events, upTo } = this.#events(from);
    return { changes: events.length > 0 && this.#changes(user, s, events).length > 0, upTo };
  }

  /** The user a long-poll's cursor belongs to (for counting and faults), reading the argument. */
  pollArg(arg: Arg): { state: CursorState; user: User; timeoutMs: number } {
    known(arg, ["cursor", "timeout"]);
    const state = this.state(str(arg, "cursor"));
    const user = this.store.users.get(state.email);
    if (!user) throw routeError({ ".tag": "reset" });
    const timeout = int(arg, "timeout", 30, 30, 480);
    return { state, user, timeoutMs: timeout * this.secondMs };
  }

  /** files/list_folder/longpoll: answer at once when there are changes, else at the first one or the timeout. */
  async longpoll(p: { state: CursorState; user: User; timeoutMs: number }) {
    const deadline = Date.now() + p.timeoutMs;
    const lag = this.faults.plan.listingLagMs ?? 0;
    const backoff = this.faults.plan.longpollBackoffSeconds;
    const answer = (changes: boolean) => backoff ? { changes, backoff } : { changes };
    let seen = p.state.seq;
    while (!this.#closed) {
      const now = this.#hasChanges(p.user, p.state, seen);
      if (now.changes) return answer(true);
      seen = now.upTo;
      const left = deadline - Date.now();
      if (left <= 0) break;
      const woken = Promise.withResolvers<void>();
      this.#waiters.add(woken.resolve);
      const timer = setTimeout(
        woken.resolve,
        lag > 0 ? Math.min(left, Math.max(10, lag / 4)) : left,
      );
      try {
        await woken.promise;
      } finally {
        clearTimeout(timer);
        this.#waiters.delete(woken.resolve);
      }
    }
    return answer(false);
  }
}

/** The listing routes (the long-poll is served by the API front, which finds its user by cursor). */
export function listingRoutes(listings: Listings): Record<string, RouteSpec> {
  return {
    "files/list_folder": {
      host: "api",
      scope: "files.metadata.read",
      takesArg: true,
      run: (c) => listings.list(c.user, c.arg),
    },
    "files/list_folder/continue": {
      host: "api",
      scope: "files.metadata.read",
      takesArg: true,
      run: (c) => {
        known(c.arg, ["cursor"]);
        return listings.continue(c.user, str(c.arg, "cursor"));
      },
    },
    "files/list_folder/longpoll": {
      host: "notify",
      scope: null,
      takesArg: true,
      run: () => {
        throw new Error("the long-poll is served by the API front");
      },
    },
    "files/list_folder/get_latest_cursor": {
      host: "api",
      scope: "files.metadata.read",
      takesArg: true,
      run: (c) => listings.latest(c.user, c.arg),
    },
  };
}
