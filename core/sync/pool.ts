/**
 * Our pool (protocol v2, docs/protocol.md §4.5): a large content that goes to
 * several peers is sealed once, under a random content key, and stored once
 * (once per transport its readers live on) in our pool under a random name.
 * Each peer's batch or checkpoint carries the name and the key inside its own
 * encrypted, signed body; the peer is added as a reader before that batch is
 * put.
 *
 * The record (`state/pool.json`, private) keeps per pool object its content
 * hash, key, readers and transports, so a content published again (a peer
 * accepted later, a full checkpoint) reuses the object and only adds readers.
 * A peer we no longer publish to is never added: it gets neither the key nor
 * the right to read any object shared after that.
 *
 * Collection: a channel's own garbage collection drops a pooled id from its
 * state exactly when it would delete a per-channel blob (every object naming
 * it acknowledged and covered, no kept checkpoint naming it); it marks the
 * pool record dirty first. At the end of such a round the pool deletes every
 * object no channel state names any more. Crash safety follows the journal
 * rules: the record of an object is saved before its put; an object is
 * dropped from the record (and listed as being deleted) before its delete;
 * one put whose batch never went in stays `fresh` until a collection finds no
 * channel naming it, then goes.
 * @module
 */
import { encodeBase64, parseBase64 } from "../encoding/base64.ts";
import { openEnvelope, sealEnvelope } from "../events/envelope.ts";
import { hashedFileStream, hashStream } from "../crypto/agree.ts";
import { isDeferred } from "./deferred_hash.ts";
import { SyftError } from "../errors/mod.ts";
import { poolOf, type PoolStore } from "../transport/contract.ts";
import { DEFAULT_TRANSPORT } from "../config/config.ts";
import type { OwnPool, PeerKeys, Pooled, PoolSource, SyncContext } from "./context.ts";
import { verifiedStream } from "./outgoing.ts";

export type { Pooled, PoolSource };
import {
  channelPeers,
  loadChannelState,
  readState,
  type WriterState,
  writeState,
} from "./state.ts";

/** One object of our pool, as we recorded it. */
export interface PoolEntry {
  /** The content's hash (never on storage: the name is random); empty for an adopted object. */
  hash: string;
  size: number;
  /** The content key, base64 (32 bytes). */
  key: string;
  /** Who may read it (peers whose batches name it). */
  readers: string[];
  /** The transports a copy is stored on (`default` without routes). */
  routes: string[];
  /** Put (or about to be) and not yet seen named by a channel: collected if none names it. */
  fresh: boolean;
}

/** `state/pool.json`. */
export interface PoolState {
  /** Pool object name → its record. */
  entries: Record<string, PoolEntry>;
  /** Objects dropped from the record whose delete may not have happened (a crash). */
  deleting: string[];
  /** A channel released a pooled id since the last collection. */
  dirty: boolean;
  /** The peers we published to at the last collection: one leaving starts another. */
  peers?: string[] | undefined;
}

/** Whether a channel's blob id names a pool object (`p-<32 hex>`) rather than a `x-` blob. */
export function isPoolId(id: string): boolean {
  return /^p-[0-9a-f]{32}$/.test(id);
}

/** The pool object name of a pooled id. */
export function poolName(id: string): string {
  return `${id}.syft`;
}

/**
 * Share `blob` with the peer of `keys` through our pool when this round has
 * one and the peer speaks protocol 2; null otherwise (the caller then
 * uploads a per-channel `x-` blob, as protocol 1 does).
 */
export async function poolFor(
  ctx: SyncContext,
  keys: PeerKeys,
  blob: PoolSource,
  held: ReadonlySet<string>,
): Promise<Pooled | null> {
  if (!ctx.pool || (keys.protocol ?? 1) < 2) return null;
  return await ctx.pool.share(keys.peer, blob, held);
}

function emptyPoolState(): PoolState {
  return { entries: {}, deleting: [], dirty: false };
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/**
 * The round's view of our pool. Nothing is asked of the transport or read
 * from disk until a content is shared or a collection is due, so an idle
 * round costs nothing.
 */
export class PoolWriter implements OwnPool {
  readonly #ctx: SyncContext;
  #store: PoolStore | null | undefined;
  #state: PoolState | undefined;
  #byHash = new Map<string, string>();
  /** No record was found: the first collection deletes objects it does not know. */
  #unrecorded = false;
  /** Objects put or read back whole this round: reused without another look. */
  readonly #checked = new Set<string>();

  constructor(ctx: SyncContext) {
    this.#ctx = ctx;
  }

  /** Our pool, or null when the transport has none (writers then keep `x-` blobs). */
  async store(): Promise<PoolStore | null> {
    if (this.#store === undefined) {
      const t = this.#ctx.transport;
      this.#store = poolOf(t, await t.capabilities());
    }
    return this.#store;
  }

  /**
   * Share content `blob` with `peer`: the object holding it (put now if
   * there is none on the peer's transport) with the peer among its readers.
   * Null when the transport has no pool. `held`: the ids the peer's channel
   * already names; an object it does not (a new peer, a resync after the
   * reader found one damaged) is read back whole once a round before it is
   * named again, as a per-channel blob is before it is reused.
   */
  async share(peer: string, blob: PoolSource, held: ReadonlySet<string>): Promise<Pooled | null> {
    const store = await this.store();
    if (!store) return null;
    const state = await this.#load();
    const route = await this.#routeOf(peer);
    // A content whose hash the scan left out (deferred_hash.ts) is sealed into
    // an object of its own; its hash, learnt while sealing, is filled into `blob`.
    const deferred = isDeferred(blob);
    let name = deferred ? undefined : this.#byHash.get(blob.hash);
    if (name === undefined) {
      name = `p-${randomHex(16)}.syft`;
      const key = encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
      state.entries[name] = {
        hash: blob.hash,
        size: blob.size,
        key,
        readers: [],
        routes: [],
        fresh: true,
      };
      if (!deferred) this.#byHash.set(blob.hash, name);
      await this.#save(); // recorded before the put: a crash leaves nothing unknown
    }
    const entry = state.entries[name]!;
    const id = name.slice(0, -".syft".length);
    // Our own pool reads from the default transport only (a routed poolGet
    // goes by the sender, us): a copy elsewhere is not read back.
    const readable = route === DEFAULT_TRANSPORT;
    if (
      readable && entry.routes.includes(route) && !this.#checked.has(name) && !held.has(id)
    ) {
      if (!(await this.#holds(store, name, entry))) {
        this.#ctx.warn(`${name} in our pool is damaged or missing; storing it again`);
        await store.poolDelete(name);
        entry.routes = [];
        entry.readers = [];
        await this.#save();
      }
    }
    if (!entry.routes.includes(route)) {
      const sealed = await this.#putCopy(store, name, entry, peer, blob.source);
      if (deferred) {
        // Saved below, after the put: a crash before leaves an entry without a
        // hash, never reused, collected once no channel names it.
        entry.hash = sealed;
        blob.hash = sealed;
        if (!this.#byHash.has(sealed)) this.#byHash.set(sealed, name);
      }
      this.#checked.add(name);
      entry.routes = [...entry.routes, route];
      entry.readers = [...new Set([...entry.readers, peer])];
      await this.#save();
    } else if (!entry.readers.includes(peer)) {
      await store.poolAddReaders(name, [peer]);
      entry.readers = [...entry.readers, peer];
      await this.#save();
    }
    this.#checked.add(name);
    return { id, ref: { name, key: entry.key } };
  }

  /** Whether our pool object `name` opens with its key and holds its content in full. */
  async #holds(store: PoolStore, name: string, entry: PoolEntry): Promise<boolean> {
    const contentKey = parseBase64(entry.key);
    if (!contentKey) return false;
    try {
      const opened = await openEnvelope(
        await store.poolGet(this.#ctx.me, name),
        { name, sender: this.#ctx.me, recipient: "*", kind: "blob" },
        { senderSignPublic: this.#ctx.keys.sign.publicKey, contentKey },
      );
      const got = await hashStream(opened.body);
      return got.hash === entry.hash && got.size === entry.size;
    } catch (err) {
      if (
        err instanceof SyftError && (err.code === "E_BAD_MESSAGE" || err.code === "E_TRANSPORT")
      ) {
        return false;
      }
      throw err;
    }
  }

  /** The pooled id holding content `hash`, if our pool has one. */
  async idOf(hash: string): Promise<string | undefined> {
    if (!(await this.store())) return undefined;
    await this.#load();
    return this.#byHash.get(hash)?.slice(0, -".syft".length);
  }

  /**
   * A channel is about to drop pooled ids from its state: mark the record
   * dirty first (saved), so the collection that deletes them runs even if we
   * crash right after the channel's save.
   */
  async released(ids: readonly string[]): Promise<void> {
    if (!ids.some(isPoolId)) return;
    const state = await this.#load();
    if (state.dirty) return;
    state.dirty = true;
    await this.#save();
  }

  /**
   * Delete the pool objects no channel state of a `live` peer (one we publish
   * to) names any more: a removed or rejected peer's old channel never
   * acknowledges again, and must not keep objects for good. Runs only when
   * something may have changed (a share, a release, a crash's leftovers), so
   * an idle round reads one small file at most.
   */
  async collect(live: ReadonlySet<string>): Promise<number> {
    const state = await this.#load();
    const fresh = Object.values(state.entries).some((e) => e.fresh);
    const peers = [...live].sort();
    const left = (state.peers ?? []).some((p) => !live.has(p));
    const empty = Object.keys(state.entries).length === 0;
    if (!state.dirty && !fresh && !left && state.deleting.length === 0) {
      // Only who we publish to changed: remembered while there is something to keep.
      if (!empty && peers.join() !== (state.peers ?? []).join()) {
        state.peers = peers;
        await this.#save();
      }
      return 0;
    }
    const store = await this.store();
    if (!store) return 0;
    // Named by a channel's state, or only by a put whose outcome is not known
    // yet (kept, and looked at again once it is settled).
    const named = new Set<string>();
    const pending = new Set<string>();
    for (const peer of await channelPeers(this.#ctx.layout)) {
      if (!live.has(peer)) continue;
      const s = await loadChannelState(this.#ctx.layout, peer);
      for (const id of namedBy(s)) named.add(id);
      if (s.pending_put) { for (const id of namedBy(s.pending_put.after)) pending.add(id); }
    }
    const gone: string[] = [];
    for (const [name, entry] of Object.entries(state.entries)) {
      const id = name.slice(0, -".syft".length);
      if (named.has(id)) entry.fresh = false;
      else if (pending.has(id)) entry.fresh = true;
      else gone.push(name);
    }
    for (const name of gone) {
      const hash = state.entries[name]!.hash;
      if (this.#byHash.get(hash) === name) this.#byHash.delete(hash);
      delete state.entries[name];
    }
    // Without a record (state/ lost, or never written) an object the pool
    // holds that no channel names is nobody's: its key is known no more.
    // One a channel still names is adopted without hash or key: it is never
    // reused, only deleted once nothing names it.
    if (this.#unrecorded) {
      for (const name of await this.#unknownObjects(store, state)) {
        if (!named.has(name.slice(0, -".syft".length))) gone.push(name);
        else {
          state.entries[name] = {
            hash: "",
            size: 0,
            key: "",
            readers: [],
            routes: [],
            fresh: false,
          };
        }
      }
    }
    this.#unrecorded = false;
    state.deleting = [...new Set([...state.deleting, ...gone])];
    state.dirty = false;
    state.peers = peers;
    await this.#save(); // dropped from the record before any delete
    for (const name of state.deleting) await store.poolDelete(name);
    const deleted = state.deleting.length;
    state.deleting = [];
    await this.#save();
    return deleted;
  }

  /**
   * Seal content `source` under the entry's key and put it for `peer`'s
   * transport. Returns the hash of the bytes sealed (the entry's, checked;
   * or learnt, for an entry without one).
   */
  async #putCopy(
    store: PoolStore,
    name: string,
    entry: PoolEntry,
    peer: string,
    source: string,
  ): Promise<string> {
    const { ctx } = { ctx: this.#ctx };
    const key = parseBase64(entry.key);
    if (!key) throw new SyftError("E_INTERNAL", `the pool record of ${name} has a bad key`);
    let learnt = entry.hash;
    const sealed = sealEnvelope(
      {
        kind: "blob",
        name,
        sender: ctx.me,
        recipient: "*",
        seq: 0,
        created_at: ctx.clock.now(),
        size: entry.size,
      },
      entry.hash === ""
        ? await hashedFileStream(source, (got) => {
          // The envelope takes exactly `size` bytes; a file that grew fails it.
          if (got.size !== entry.size) {
            throw new SyftError("E_INPUT", `${source} changed while it was being sent`);
          }
          learnt = got.hash;
        }, ctx.fs)
        : await verifiedStream(source, entry.hash, ctx.fs),
      { signPrivate: ctx.keys.sign.privateKey, contentKey: key },
    );
    try {
      await store.poolPut(name, sealed, [peer]);
    } catch (err) {
      if (!(err instanceof SyftError) || err.code !== "E_EXISTS") throw err;
      await sealed.cancel().catch(() => {});
      // Our own put from before a crash (the name is random and recorded
      // before the put; create-only puts are whole): it stands, with its readers.
      await store.poolAddReaders(name, [peer]);
    }
    if (learnt === "") {
      throw new SyftError("E_INTERNAL", `the content of ${name} was put without being read`);
    }
    return learnt;
  }

  async #routeOf(peer: string): Promise<string> {
    const routes = this.#ctx.routes;
    if (!routes) return DEFAULT_TRANSPORT;
    return (await routes.poolGroups([peer]))[0]?.route ?? DEFAULT_TRANSPORT;
  }

  /** Every object of our pool the record does not know. */
  async #unknownObjects(store: PoolStore, state: PoolState): Promise<string[]> {
    const unknown: string[] = [];
    let after: string | undefined;
    do {
      const page = await store.poolList(after === undefined ? {} : { after });
      for (const o of page.objects) if (!(o.name in state.entries)) unknown.push(o.name);
      after = page.next;
    } while (after !== undefined);
    return unknown;
  }

  async #load(): Promise<PoolState> {
    if (this.#state) return this.#state;
    const raw = await readState<PoolState>(this.#ctx.layout.pool, this.#ctx.fs);
    // A record damaged beyond reading counts as none.
    this.#unrecorded = !isPoolState(raw);
    const state = isPoolState(raw) ? raw : emptyPoolState();
    this.#state = state;
    for (const [name, entry] of Object.entries(state.entries)) {
      if (entry.hash !== "") this.#byHash.set(entry.hash, name);
    }
    return state;
  }

  async #save(): Promise<void> {
    await writeState(this.#ctx.layout.pool, this.#state, this.#ctx.fs);
  }
}

/** The pooled ids a channel's writer state names. */
function namedBy(w: WriterState): string[] {
  return [
    ...w.blobs,
    ...w.chain.flatMap((e) => e.blobs),
    ...Object.keys(w.retired ?? {}),
  ].filter(isPoolId);
}

/** A pool record as we write it; anything else (a damaged file) reads as empty. */
function isPoolState(value: unknown): value is PoolState {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.entries === "object" && v.entries !== null && Array.isArray(v.deleting) &&
    typeof v.dirty === "boolean";
}
