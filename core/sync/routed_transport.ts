/**
 * Several transports seen as one (issue 13 item 8): each peer's channels go
 * through the transport its record names (`via`), the others through `init`'s
 * default. The sync engine and the peer service keep talking to one
 * {@linkcode Transport}; this routes every call by the peer it concerns.
 *
 * - `changes()` asks every transport (one call each: an idle round stays
 *   cheap) and keeps one position per transport in its cursor, a JSON object
 *   `{name: cursor}`; a plain old cursor is the default transport's.
 * - A transport that cannot be opened, or whose `changes()`/`listIncoming()`
 *   fails, is unreachable for the rest of the round: calls for its peers fail
 *   at once with its error (`E_TRANSPORT`), the other transports go on. Only
 *   when every transport fails does the round itself fail.
 * - A channel found on a transport that is not its sender's is not reported:
 *   a peer lives on one storage. An unknown sender (a new request) lives where
 *   its channel was found first, default first, then by name.
 * - Pools (protocol v2): `poolGet` goes where the sender lives. A pool
 *   object whose readers live on several transports is stored once per
 *   transport: the writer asks {@linkcode TransportRoutes.poolGroups} how its
 *   readers split and puts one copy per group (`poolPut` and
 *   `poolAddReaders` go where their readers live, all on one transport).
 *   `poolList` merges the pools of every transport that has one, and
 *   `poolDelete` deletes on each of them. The set offers a pool only when
 *   every transport does; otherwise writers keep per-channel copies.
 * - The position of a transport that failed during the round is not advanced
 *   in the cursor the round saves ({@linkcode RoutedTransport.cursorToSave}),
 *   so what its peers missed is reported again next round.
 * @module
 */
import { SyftError } from "../errors/mod.ts";
import type {
  ChangesOptions,
  ChangesResult,
  ChannelRef,
  ListOptions,
  ListPage,
  ObjectBody,
  ObjectInfo,
  PoolStore,
  Transport,
  TransportCapabilities,
  WhoAmI,
} from "../transport/contract.ts";
import { DEFAULT_TRANSPORT } from "../config/config.ts";

/** One transport of the set. */
export interface RouteMember {
  name: string;
  /** Its spec, named in errors. */
  spec: string;
  /** Start it (called at most once at a time; again after a failed start). */
  open(): Promise<Transport>;
}

/** What a sync round asks of the routes, besides the transport calls. */
export interface TransportRoutes {
  /** The cursor to save at the end of a round: transports that failed keep their old position. */
  cursorToSave(cursor: string): string;
  /** Why `peer`'s transport is unreachable this round, or null when it is not known to be. */
  unreachable(peer: string): Promise<SyftError | null>;
  /**
   * Pool readers grouped by the transport they live on (default first, then
   * by name; readers in order within a group): a pool object is put once per
   * group, and its readers are added within their own group.
   */
  poolGroups(readers: readonly string[]): Promise<{ route: string; readers: string[] }[]>;
}

interface MemberState extends RouteMember {
  transport?: Transport | undefined;
  opening?: Promise<Transport> | undefined;
  /** Set when it failed to open or to answer changes/listIncoming this round. */
  down?: SyftError | undefined;
}

/** Parse a saved cursor: our JSON object, or a single transport's plain cursor. */
export function parseRoutedCursor(cursor: string | null): Record<string, string | null> {
  if (cursor === null) return {};
  try {
    const v: unknown = JSON.parse(cursor);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const out: Record<string, string | null> = {};
      for (const [k, c] of Object.entries(v)) if (typeof c === "string") out[k] = c;
      return out;
    }
  } catch {
    // Not ours: the cursor of the time before named transports.
  }
  return { [DEFAULT_TRANSPORT]: cursor };
}

/** The transports of one installation, routed by peer. */
export class RoutedTransport implements Transport, TransportRoutes, PoolStore {
  readonly #me: string;
  readonly #members: Map<string, MemberState>;
  /** The record's `via` of a peer (DEFAULT_TRANSPORT when none), or null when it has no record. */
  readonly #routeOf: (peer: string) => Promise<string | null>;
  readonly #known = new Map<string, string>();
  readonly #foundOn = new Map<string, string>();
  /** Transports that failed a call since the round's `changes()`. */
  readonly #failed = new Set<string>();
  #before: Record<string, string | null> = {};

  /**
   * @param members the default transport first (named {@linkcode DEFAULT_TRANSPORT}), then the named ones
   * @param routeOf the transport name a peer's record names, or null for a peer without a record
   */
  constructor(deps: {
    me: string;
    members: RouteMember[];
    routeOf(peer: string): Promise<string | null>;
  }) {
    this.#me = deps.me;
    this.#members = new Map(deps.members.map((m) => [m.name, { ...m }]));
    this.#routeOf = deps.routeOf;
  }

  /** Route `peer` through `name` from now on (`peer add --via`, before its record says so). */
  bind(peer: string, name: string): void {
    this.#member(name); // an unknown name fails here, before anything is written
    this.#known.set(peer, name);
  }

  /** The named transport an unknown sender's channel was found on, or undefined for the default. */
  foundOn(peer: string): string | undefined {
    const name = this.#foundOn.get(peer);
    return name === DEFAULT_TRANSPORT ? undefined : name;
  }

  cursorToSave(cursor: string): string {
    const positions = parseRoutedCursor(cursor);
    for (const [name, m] of this.#members) {
      if (m.down || this.#failed.has(name)) positions[name] = this.#before[name] ?? null;
    }
    return JSON.stringify(positions);
  }

  async unreachable(peer: string): Promise<SyftError | null> {
    const name = await this.#route(peer);
    return this.#members.get(name)?.down ?? null;
  }

  /**
   * What every transport promises. A transport that cannot start promises
   * nothing (`--watch` asks this before its first round, and must not stop
   * for one storage that is away).
   */
  async capabilities(): Promise<TransportCapabilities> {
    const all = (await this.#survey("capabilities", (t) => t.capabilities())).map(([, c]) => c);
    const complete = all.length === this.#members.size;
    return {
      enforcesSharing: complete && all.every((c) => c.enforcesSharing),
      // Waiting on several transports at once is not done: `--watch` polls them.
      canWatch: this.#members.size === 1 && all[0]!.canWatch,
      // One transport without a pool makes the set have none: a writer then
      // keeps per-channel copies for everyone, one way of writing at a time.
      pool: complete && all.every((c) => c.pool === true),
    };
  }

  async poolGroups(readers: readonly string[]): Promise<{ route: string; readers: string[] }[]> {
    const groups = new Map<string, string[]>();
    for (const r of readers) {
      const route = await this.#route(r);
      const group = groups.get(route);
      if (group) group.push(r);
      else groups.set(route, [r]);
    }
    const order = (name: string) => name === DEFAULT_TRANSPORT ? "" : name;
    return [...groups].sort(([a], [b]) => order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0)
      .map(([route, readers]) => ({ route, readers }));
  }

  async poolPut(name: string, body: ObjectBody, readers: string[]): Promise<void> {
    const route = await this.#poolRoute("poolPut", readers);
    await this.#call(route, (t) => poolStoreOf(t, "poolPut").poolPut(name, body, readers));
  }

  async poolAddReaders(name: string, readers: string[]): Promise<void> {
    const route = await this.#poolRoute("poolAddReaders", readers);
    await this.#call(route, (t) => poolStoreOf(t, "poolAddReaders").poolAddReaders(name, readers));
  }

  async poolGet(sender: string, name: string): Promise<ReadableStream<Uint8Array>> {
    return await this.#call(
      await this.#route(sender),
      (t) => poolStoreOf(t, "poolGet").poolGet(sender, name),
    );
  }

  async poolList(options: ListOptions = {}): Promise<ListPage> {
    const limit = Math.min(Math.max(1, options.limit ?? 1000), 1000);
    const merged = new Map<string, ObjectInfo>();
    for (const name of this.#members.keys()) {
      // Each member filters by `after` itself, so merging pages keeps paging exact.
      const page = await this.#call(
        name,
        (t) => poolStoreOf(t, "poolList").poolList({ ...options, limit }),
      );
      for (const o of page.objects) if (!merged.has(o.name)) merged.set(o.name, o);
    }
    const sorted = [...merged.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
    const objects = sorted.slice(0, limit);
    // A member's page may be cut at `limit` too: the merged page then may have more after it.
    return sorted.length >= limit
      ? { objects, next: objects[objects.length - 1]!.name }
      : { objects };
  }

  async poolDelete(name: string): Promise<void> {
    for (const member of this.#members.keys()) {
      await this.#call(member, (t) => poolStoreOf(t, "poolDelete").poolDelete(name));
    }
  }

  /** The one transport all of `readers` live on; a mixed list is a writer's bug. */
  async #poolRoute(op: string, readers: readonly string[]): Promise<string> {
    const groups = await this.poolGroups(readers);
    if (groups.length !== 1) {
      throw new SyftError(
        "E_INTERNAL",
        `${op}: readers on ${groups.length} transports; put one copy per poolGroups() group`,
      );
    }
    return groups[0]!.route;
  }

  async whoami(): Promise<WhoAmI> {
    return await this.#call(DEFAULT_TRANSPORT, (t) => t.whoami());
  }

  async openChannel(to: string): Promise<ChannelRef> {
    return await this.#call(await this.#route(to), (t) => t.openChannel(to));
  }

  async listIncoming(): Promise<ChannelRef[]> {
    const found: ChannelRef[] = [];
    for (const [name, incoming] of await this.#survey("listIncoming", (t) => t.listIncoming())) {
      for (const c of incoming) if (await this.#belongs(name, c.sender)) found.push(c);
    }
    return found.sort((a, b) => a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0);
  }

  async put(channel: ChannelRef, name: string, body: ObjectBody): Promise<void> {
    await this.#call(await this.#routeChannel(channel), (t) => t.put(channel, name, body));
  }

  async list(channel: ChannelRef, options?: ListOptions): Promise<ListPage> {
    return await this.#call(await this.#routeChannel(channel), (t) => t.list(channel, options));
  }

  async get(channel: ChannelRef, name: string): Promise<ReadableStream<Uint8Array>> {
    return await this.#call(await this.#routeChannel(channel), (t) => t.get(channel, name));
  }

  async delete(channel: ChannelRef, name: string): Promise<void> {
    await this.#call(await this.#routeChannel(channel), (t) => t.delete(channel, name));
  }

  /** A new round starts here: every transport gets another chance. */
  async changes(cursor: string | null, options: ChangesOptions = {}): Promise<ChangesResult> {
    this.#failed.clear();
    for (const m of this.#members.values()) m.down = undefined;
    const before = parseRoutedCursor(cursor);
    this.#before = before;
    const after: Record<string, string | null> = { ...before };
    const channels: ChannelRef[] = [];
    const single = this.#members.size === 1;
    const answers = await this.#survey(
      "changes",
      (t, name) => t.changes(before[name] ?? null, single ? options : {}),
    );
    for (const [name, r] of answers) {
      after[name] = r.cursor;
      for (const c of r.channels) if (await this.#belongs(name, c.sender)) channels.push(c);
    }
    // Transports never asked successfully keep no position: their next call starts afresh.
    const kept = Object.fromEntries(Object.entries(after).filter(([n]) => this.#members.has(n)));
    return { cursor: JSON.stringify(kept), channels };
  }

  async close(): Promise<void> {
    for (const m of this.#members.values()) {
      const t = m.transport ?? await m.opening?.catch(() => undefined);
      m.transport = m.opening = undefined;
      await t?.close();
    }
  }

  /**
   * Ask every reachable transport at once (a slow or retrying storage must not
   * hold up the others), answers in member order: default first. One that
   * fails is down for the round; all failing fails.
   */
  async #survey<T>(
    op: string,
    ask: (t: Transport, name: string) => Promise<T>,
  ): Promise<[string, T][]> {
    const members = [...this.#members.values()];
    const settled = await Promise.allSettled(members.map(async (m) => {
      if (m.down) throw m.down;
      return await ask(await this.#open(m), m.name);
    }));
    const answers: [string, T][] = [];
    let first: SyftError | null = null;
    settled.forEach((r, i) => {
      const m = members[i]!;
      if (r.status === "fulfilled") answers.push([m.name, r.value]);
      else {
        m.down ??= this.#wrap(m, op, r.reason);
        first ??= m.down;
      }
    });
    if (answers.length === 0 && first) throw first;
    return answers;
  }

  /** Whether a channel of `sender` found on `name` is one we route there. */
  async #belongs(name: string, sender: string): Promise<boolean> {
    if (sender === this.#me) return false;
    const known = this.#known.get(sender) ?? await this.#routeOf(sender);
    if (known !== null) return known === name;
    if (!this.#foundOn.has(sender)) this.#foundOn.set(sender, name);
    return this.#foundOn.get(sender) === name;
  }

  async #route(peer: string): Promise<string> {
    const bound = this.#known.get(peer);
    if (bound !== undefined) return bound;
    const via = await this.#routeOf(peer);
    if (via !== null) {
      this.#known.set(peer, via);
      return via;
    }
    return this.#foundOn.get(peer) ?? DEFAULT_TRANSPORT;
  }

  #routeChannel(channel: ChannelRef): Promise<string> {
    return this.#route(channel.sender === this.#me ? channel.recipient : channel.sender);
  }

  #member(name: string): MemberState {
    const m = this.#members.get(name);
    if (!m) {
      throw new SyftError("E_INPUT", `transport "${name}" is not in config.yaml`, {
        hint: `add it with \`syft transport add ${name} <spec>\` (see \`syft transport list\`)`,
      });
    }
    return m;
  }

  async #open(m: MemberState): Promise<Transport> {
    if (m.transport) return m.transport;
    m.opening ??= m.open();
    try {
      m.transport = await m.opening;
      return m.transport;
    } finally {
      m.opening = undefined;
    }
  }

  async #call<T>(name: string, op: (t: Transport) => Promise<T>): Promise<T> {
    const m = this.#member(name);
    if (m.down) throw m.down;
    let t: Transport;
    try {
      t = await this.#open(m);
    } catch (err) {
      m.down = this.#wrap(m, "start", err);
      throw m.down;
    }
    try {
      return await op(t);
    } catch (err) {
      if (err instanceof SyftError && err.code === "E_TRANSPORT") this.#failed.add(name);
      throw err;
    }
  }

  /** An error naming the transport, always `E_TRANSPORT` (exit 4): its storage failed. */
  #wrap(m: MemberState, op: string, err: unknown): SyftError {
    const what = err instanceof Error ? err.message : String(err);
    const own = err instanceof SyftError ? err.hint : undefined;
    return new SyftError("E_TRANSPORT", `transport ${m.name} (${m.spec}) failed (${op}): ${what}`, {
      // The plugin's own hint speaks of `--transport`, which only fits init's.
      hint: m.name === DEFAULT_TRANSPORT && own
        ? own
        : `check transport ${m.name}'s storage (\`syft transport list\`), then \`syft sync\`; peers on other transports still sync`,
    });
  }
}

/** The pool of a member transport, which has one when the set says so. */
function poolStoreOf(t: Transport, op: string): PoolStore {
  if (!t.poolPut || !t.poolAddReaders || !t.poolGet || !t.poolList || !t.poolDelete) {
    throw new SyftError("E_TRANSPORT", `${op}: this transport has no pool`);
  }
  return t as PoolStore;
}
