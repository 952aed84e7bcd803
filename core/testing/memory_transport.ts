/**
 * A transport held in memory, for engine tests that run several datasites in
 * one process: a {@linkcode MemoryStorage} is the shared storage (what a
 * shared folder or a Drive is), and each {@linkcode MemoryTransport} acts on
 * it as one identity. It keeps the whole transport contract
 * (tests/core/testing/memory_transport_test.ts runs the contract suite on it), but
 * holds every object whole: not for large objects.
 * @module
 */
import { SyftError } from "../errors/mod.ts";
import { isIdentity } from "../paths/identity.ts";
import {
  type ChangesOptions,
  type ChangesResult,
  channelName,
  type ChannelRef,
  type ListOptions,
  type ListPage,
  OBJECT_NAME_RE,
  type ObjectBody,
  type ObjectInfo,
  type PoolStore,
  type Transport,
  type TransportCapabilities,
  type WhoAmI,
} from "../transport/contract.ts";

/** Objects per page, default and cap (PROTOCOL.md §2). */
const PAGE_LIMIT = 1000;

interface StoredChannel {
  ref: ChannelRef;
  objects: Map<string, Uint8Array>;
  /**
   * Objects their recipient does not see yet, name → the storage tick that
   * shows them (see {@linkcode TransportFaults.lag}); the sender sees them.
   */
  lagging: Map<string, number>;
  /** Names taken by something that is not an object (a squatter): listed only with `all`. */
  special: Map<string, "folder" | "symlink" | "other">;
  /** The storage version of the last change to this channel. */
  changedAt: number;
}

/** One object of a sender's pool and who may read it. */
interface PooledObject {
  bytes: Uint8Array;
  readers: Set<string>;
}

/**
 * Faults a test injects into every transport of one storage, each decided by
 * the test (a seeded simulation draws them), so a run replays from its seed.
 */
export interface TransportFaults {
  /**
   * Asked before each operation (`put`, `list`, `get`, `delete`, `changes`,
   * `openChannel`, `listIncoming`) of `identity`: an error fails the call
   * before it takes effect (a refused or rate-limited request); `{ after }`
   * fails it after it took effect (a timeout whose request went through).
   */
  fail?(op: string, identity: string): SyftError | { after: SyftError } | undefined;
  /** A listing as `identity` gets it: may repeat or reorder entries, as a lagging index does. */
  listing?(identity: string, objects: ObjectInfo[]): ObjectInfo[];
  /** Ticks (see {@linkcode MemoryStorage.tick}) a new object stays invisible to its recipient. */
  lag?(channel: ChannelRef, name: string): number;
}

/** The storage every {@linkcode MemoryTransport} of one test shares. */
export class MemoryStorage {
  readonly channels = new Map<string, StoredChannel>();
  /** Each sender's pool (protocol v2): name → object and its readers. */
  readonly pools = new Map<string, Map<string, PooledObject>>();
  /**
   * Whether `list` and `get` let timers run first (see `turn`); a test with
   * no timer to wait for (the simulation) turns it off: each turn costs a
   * timer tick, most of a long run's time.
   */
  timerTurns = true;
  /** Whether the transports offer a pool (protocol v2); false acts as a transport without one. */
  pool = true;
  /** Faults to inject; none by default. */
  faults: TransportFaults | null = null;
  /** The storage's own time, in ticks a test advances: lagging objects show when it passes theirs. */
  ticks = 0;
  /** Bumped by every change; a `changes` cursor is a version. */
  version = 0;
  /** Calls per operation, for tests that count what a round costs. */
  readonly calls = new Map<string, number>();

  /** A transport acting as `identity` on this storage. */
  transport(identity: string): MemoryTransport {
    return new MemoryTransport(this, identity);
  }

  /**
   * A storage of its own holding what this one holds now (every channel's
   * objects, lagging and squatted names, every pool and its readers; object
   * bytes are shared, as nothing changes them in place), with no faults: a
   * test can build a world once and run many from it.
   */
  clone(): MemoryStorage {
    const copy = new MemoryStorage();
    for (const [key, c] of this.channels) {
      copy.channels.set(key, {
        ref: { ...c.ref },
        objects: new Map(c.objects),
        lagging: new Map(c.lagging),
        special: new Map(c.special),
        changedAt: c.changedAt,
      });
    }
    for (const [sender, pool] of this.pools) {
      const objects = new Map<string, PooledObject>();
      for (const [name, o] of pool) {
        objects.set(name, { bytes: o.bytes, readers: new Set(o.readers) });
      }
      copy.pools.set(sender, objects);
    }
    copy.timerTurns = this.timerTurns;
    copy.pool = this.pool;
    copy.ticks = this.ticks;
    copy.version = this.version;
    for (const [op, n] of this.calls) copy.calls.set(op, n);
    return copy;
  }

  /**
   * Put a non-object at `name` in a channel, as a squatting peer could on a
   * shared folder: readers do not see it, a writer listing with `all` does.
   */
  squat(channel: ChannelRef, name: string, kind: "folder" | "symlink" | "other"): void {
    const stored = this.#channel(channel);
    stored.special.set(name, kind);
    stored.changedAt = ++this.version;
  }

  /**
   * Advance the storage's time one tick: objects whose lag ran out become
   * visible to their recipient, and their channel counts as changed.
   */
  tick(): void {
    this.ticks++;
    for (const stored of this.channels.values()) {
      let shown = false;
      for (const [name, at] of stored.lagging) {
        if (at > this.ticks) continue;
        stored.lagging.delete(name);
        shown = true;
      }
      if (shown) stored.changedAt = ++this.version;
    }
  }

  /** Show every lagging object now (a test's quiescence). */
  catchUp(): void {
    for (const stored of this.channels.values()) {
      if (stored.lagging.size === 0) continue;
      stored.lagging.clear();
      stored.changedAt = ++this.version;
    }
  }

  /** The object names of a channel, sorted, bypassing any transport. */
  names(channel: ChannelRef): string[] {
    return [...(this.channels.get(channelName(channel))?.objects.keys() ?? [])].sort();
  }

  /**
   * Replace an object's bytes, or remove it with `undefined`, behind the
   * transports' backs: a damaged storage, or someone else with write access.
   */
  tamper(channel: ChannelRef, name: string, bytes: Uint8Array | undefined): void {
    const stored = this.#channel(channel);
    if (bytes === undefined) stored.objects.delete(name);
    else stored.objects.set(name, bytes);
    stored.changedAt = ++this.version;
  }

  /** The object names of `sender`'s pool, sorted, bypassing any transport. */
  poolNames(sender: string): string[] {
    return [...(this.pools.get(sender)?.keys() ?? [])].sort();
  }

  /** Who may read a pool object (undefined: no such object), bypassing any transport. */
  poolReaders(sender: string, name: string): string[] | undefined {
    const found = this.pools.get(sender)?.get(name);
    return found ? [...found.readers].sort() : undefined;
  }

  /** Replace a pool object's bytes, or remove it with `undefined` (a damaged storage). */
  tamperPool(sender: string, name: string, bytes: Uint8Array | undefined): void {
    const pool = this.pools.get(sender);
    const found = pool?.get(name);
    if (!pool || !found) return;
    if (bytes === undefined) pool.delete(name);
    else found.bytes = bytes;
  }

  /** Bytes stored in every channel and pool now (what a fan-out costs the storage). */
  storedBytes(): number {
    let total = 0;
    for (const c of this.channels.values()) for (const b of c.objects.values()) total += b.length;
    for (const p of this.pools.values()) for (const o of p.values()) total += o.bytes.length;
    return total;
  }

  /** The bytes of an object, bypassing any transport (for assertions). */
  peek(channel: ChannelRef, name: string): Uint8Array | undefined {
    return this.channels.get(channelName(channel))?.objects.get(name);
  }

  #channel(ref: ChannelRef): StoredChannel {
    const key = channelName(ref);
    let stored = this.channels.get(key);
    if (!stored) {
      stored = {
        ref: { ...ref },
        objects: new Map(),
        lagging: new Map(),
        special: new Map(),
        changedAt: 0,
      };
      this.channels.set(key, stored);
    }
    return stored;
  }

  /** @internal The channel, created on first use. */
  open(ref: ChannelRef): StoredChannel {
    const fresh = !this.channels.has(channelName(ref));
    const stored = this.#channel(ref);
    if (fresh) stored.changedAt = ++this.version;
    return stored;
  }
}

/**
 * Lets timers run between calls: a caller polling a transport in a loop must
 * not starve a writer that waits on a timer, as it would not with real I/O.
 */
function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** One identity's view of a {@linkcode MemoryStorage}. */
export class MemoryTransport implements Transport, PoolStore {
  readonly #storage: MemoryStorage;
  readonly #me: string;
  #closed = false;

  constructor(storage: MemoryStorage, identity: string) {
    if (!isIdentity(identity)) {
      throw new SyftError("E_INTERNAL", "memory transport needs a valid identity");
    }
    this.#storage = storage;
    this.#me = identity;
  }

  capabilities(): Promise<TransportCapabilities> {
    return this.#run(
      "capabilities",
      () => ({ enforcesSharing: false, canWatch: false, pool: this.#storage.pool }),
    );
  }

  whoami(): Promise<WhoAmI> {
    return this.#run("whoami", () => ({ email: this.#me, authenticated: false }));
  }

  openChannel(to: string): Promise<ChannelRef> {
    return this.#run("openChannel", () => {
      if (typeof to !== "string" || !isIdentity(to)) throw new Error(`invalid identity`);
      return { ...this.#storage.open({ sender: this.#me, recipient: to }).ref };
    });
  }

  listIncoming(): Promise<ChannelRef[]> {
    return this.#run("listIncoming", () => this.#incoming());
  }

  async put(channel: ChannelRef, name: string, body: ObjectBody): Promise<void> {
    this.#count("put");
    this.#live("put");
    const after = this.#fault("put");
    const stored = this.#own("put", channel);
    this.#name("put", name);
    // Read the whole body before the object appears: a reader sees all or nothing.
    const bytes = body instanceof Uint8Array
      ? body.slice()
      : new Uint8Array(await new Response(body).arrayBuffer());
    if (stored.objects.has(name) || stored.special.has(name)) {
      throw new SyftError("E_EXISTS", `put: ${name} already exists in ${channelName(channel)}`);
    }
    stored.objects.set(name, bytes);
    const lag = this.#storage.faults?.lag?.(stored.ref, name) ?? 0;
    if (lag > 0) stored.lagging.set(name, this.#storage.ticks + lag);
    stored.changedAt = ++this.#storage.version;
    if (after) throw after;
  }

  async list(channel: ChannelRef, options: ListOptions = {}): Promise<ListPage> {
    if (this.#storage.timerTurns) await turn();
    return this.#run("list", () => {
      const stored = this.#readable("list", channel);
      const limit = Math.min(Math.max(1, options.limit ?? PAGE_LIMIT), PAGE_LIMIT);
      const entries: ObjectInfo[] = [];
      for (const [name, bytes] of stored.objects) {
        if (!this.#visible(stored, name)) continue;
        entries.push({ name, size: bytes.byteLength });
      }
      if (options.all) {
        for (const [name, kind] of stored.special) entries.push({ name, size: 0, special: kind });
      }
      const chosen = entries
        .filter((o) => options.prefix === undefined || o.name.startsWith(options.prefix))
        .filter((o) => options.after === undefined || o.name > options.after)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const objects = chosen.slice(0, limit);
      const shown = this.#storage.faults?.listing?.(this.#me, objects) ?? objects;
      return chosen.length > limit ? { objects: shown, next: objects[objects.length - 1]!.name } : {
        objects: shown,
      };
    });
  }

  async get(channel: ChannelRef, name: string): Promise<ReadableStream<Uint8Array>> {
    if (this.#storage.timerTurns) await turn();
    return this.#run("get", () => {
      const stored = this.#readable("get", channel);
      this.#name("get", name);
      const bytes = this.#visible(stored, name) ? stored.objects.get(name) : undefined;
      if (!bytes) throw new Error(`no object ${name} in ${channelName(channel)}`);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          // A copy: a reader that changes its chunk must not change the stored object.
          if (bytes.byteLength > 0) controller.enqueue(bytes.slice());
          controller.close();
        },
      });
    });
  }

  delete(channel: ChannelRef, name: string): Promise<void> {
    return this.#run("delete", () => {
      const stored = this.#own("delete", channel);
      this.#name("delete", name);
      stored.lagging.delete(name);
      if (stored.objects.delete(name)) stored.changedAt = ++this.#storage.version;
    });
  }

  changes(cursor: string | null, _options: ChangesOptions = {}): Promise<ChangesResult> {
    return this.#run("changes", () => {
      const since = cursor === null ? null : Number(cursor);
      if (since !== null && !Number.isSafeInteger(since)) throw new Error("bad cursor");
      const channels = this.#incoming().filter((ref) =>
        since === null || this.#storage.channels.get(channelName(ref))!.changedAt > since
      );
      return { cursor: String(this.#storage.version), channels };
    });
  }

  async poolPut(name: string, body: ObjectBody, readers: string[]): Promise<void> {
    this.#count("poolPut");
    this.#live("poolPut");
    const after = this.#fault("poolPut");
    this.#name("poolPut", name);
    const who = this.#readers("poolPut", readers);
    const bytes = body instanceof Uint8Array
      ? body.slice()
      : new Uint8Array(await new Response(body).arrayBuffer());
    const pool = this.#pool(this.#me);
    if (pool.has(name)) {
      throw new SyftError("E_EXISTS", `poolPut: ${name} already exists in ${this.#me}'s pool`);
    }
    pool.set(name, { bytes, readers: new Set(who) });
    if (after) throw after;
  }

  poolAddReaders(name: string, readers: string[]): Promise<void> {
    return this.#run("poolAddReaders", () => {
      this.#name("poolAddReaders", name);
      const who = this.#readers("poolAddReaders", readers);
      const found = this.#storage.pools.get(this.#me)?.get(name);
      if (!found) throw new Error(`no object ${name} in our pool`);
      for (const r of who) found.readers.add(r);
    });
  }

  async poolGet(sender: string, name: string): Promise<ReadableStream<Uint8Array>> {
    if (this.#storage.timerTurns) await turn();
    return this.#run("poolGet", () => {
      if (!isIdentity(sender)) throw new Error("invalid sender");
      this.#name("poolGet", name);
      const found = this.#storage.pools.get(sender)?.get(name);
      // Not shared with us reads exactly as missing: a listing of who may read what leaks nothing.
      if (!found || (sender !== this.#me && !found.readers.has(this.#me))) {
        throw new Error(`no object ${name} in ${sender}'s pool`);
      }
      const bytes = found.bytes;
      return new ReadableStream<Uint8Array>({
        start(controller) {
          if (bytes.byteLength > 0) controller.enqueue(bytes.slice());
          controller.close();
        },
      });
    });
  }

  poolList(options: ListOptions = {}): Promise<ListPage> {
    return this.#run("poolList", () => {
      const limit = Math.min(Math.max(1, options.limit ?? PAGE_LIMIT), PAGE_LIMIT);
      const chosen = [...(this.#storage.pools.get(this.#me) ?? new Map<string, PooledObject>())]
        .filter(([n]) => options.prefix === undefined || n.startsWith(options.prefix))
        .filter(([n]) => options.after === undefined || n > options.after)
        .map(([n, o]): ObjectInfo => ({ name: n, size: o.bytes.byteLength }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const objects = chosen.slice(0, limit);
      return chosen.length > limit
        ? { objects, next: objects[objects.length - 1]!.name }
        : { objects };
    });
  }

  poolDelete(name: string): Promise<void> {
    return this.#run("poolDelete", () => {
      this.#name("poolDelete", name);
      this.#storage.pools.get(this.#me)?.delete(name);
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #pool(sender: string): Map<string, PooledObject> {
    let pool = this.#storage.pools.get(sender);
    if (!pool) this.#storage.pools.set(sender, pool = new Map());
    return pool;
  }

  /** Pool readers: valid identities, at least one. */
  #readers(op: string, readers: unknown): string[] {
    if (
      !Array.isArray(readers) || readers.length === 0 ||
      !readers.every((r) => typeof r === "string" && isIdentity(r))
    ) {
      throw this.#error(op, new Error("readers must be a non-empty list of identities"));
    }
    return readers as string[];
  }

  #incoming(): ChannelRef[] {
    return [...this.#storage.channels.values()]
      .filter((c) => c.ref.recipient === this.#me)
      .map((c) => ({ ...c.ref }))
      .sort((a, b) => (a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0));
  }

  /** Run a synchronous operation, turning any plain error into E_TRANSPORT naming `op`. */
  #run<T>(op: string, body: () => T): Promise<T> {
    this.#count(op);
    try {
      this.#live(op);
      const after = this.#fault(op);
      const result = body();
      if (after) throw after;
      return Promise.resolve(result);
    } catch (err) {
      return Promise.reject(this.#error(op, err));
    }
  }

  /** An injected fault: thrown now, or returned to throw once the operation took effect. */
  #fault(op: string): SyftError | undefined {
    const fault = this.#storage.faults?.fail?.(op, this.#me);
    if (fault === undefined) return undefined;
    if (fault instanceof SyftError) throw fault;
    return fault.after;
  }

  /** Whether we see `name` yet: the sender always does, the recipient once its lag ran out. */
  #visible(stored: StoredChannel, name: string): boolean {
    return stored.ref.sender === this.#me || !stored.lagging.has(name);
  }

  #count(op: string): void {
    this.#storage.calls.set(op, (this.#storage.calls.get(op) ?? 0) + 1);
  }

  #error(op: string, err: unknown): SyftError {
    if (err instanceof SyftError) return err;
    return new SyftError(
      "E_TRANSPORT",
      `${op}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }

  #live(op: string): void {
    if (this.#closed) throw this.#error(op, new Error("the transport is closed"));
  }

  #name(op: string, name: string): void {
    if (typeof name !== "string" || !OBJECT_NAME_RE.test(name)) {
      throw this.#error(op, new Error(`invalid object name ${JSON.stringify(name)}`));
    }
  }

  #valid(op: string, channel: ChannelRef): StoredChannel | undefined {
    if (!isIdentity(channel.sender) || !isIdentity(channel.recipient)) {
      throw this.#error(op, new Error("invalid channel"));
    }
    return this.#storage.channels.get(channelName(channel));
  }

  /** Our own channel, which only we write. */
  #own(op: string, channel: ChannelRef): StoredChannel {
    const stored = this.#valid(op, channel);
    if (channel.sender !== this.#me) {
      throw this.#error(op, new Error(`${channelName(channel)} is not our channel`));
    }
    if (!stored) throw this.#error(op, new Error(`${channelName(channel)} is not open`));
    return stored;
  }

  /** A channel we may read: ours, or one to us. */
  #readable(op: string, channel: ChannelRef): StoredChannel {
    const stored = this.#valid(op, channel);
    if (channel.sender !== this.#me && channel.recipient !== this.#me) {
      throw new Error(`${channelName(channel)} is not shared with ${this.#me}`);
    }
    if (!stored) throw new Error(`${channelName(channel)} does not exist`);
    return stored;
  }
}
