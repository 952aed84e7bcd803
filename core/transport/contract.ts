/**
 * The transport contract (docs/protocol.md §2): what every transport plugin offers,
 * whatever storage sits behind it. The core talks to a transport only through
 * this interface; the plugin host implements it by RPC to a Worker, and
 * `core/testing/memory_transport.ts` in memory for engine tests.
 * @module
 */

/** A channel: the folder written only by `sender`, readable only by `recipient`. */
export interface ChannelRef {
  /** The writer's identity (a lower-case email). */
  sender: string;
  /** The only reader's identity (a lower-case email). */
  recipient: string;
}

/** One object in a channel, as a listing shows it. */
export interface ObjectInfo {
  /** The object's exact name, e.g. `b-0000000000000001.syft`. */
  name: string;
  /** Size in bytes. */
  size: number;
  /**
   * Set only in a listing with `all`: the entry at this name is no object but
   * a folder, a symlink or another kind of entry. It cannot be read, yet it
   * takes the name, so a writer that wants the name must know (a squatter).
   */
  special?: "folder" | "symlink" | "other" | undefined;
}

/** Filters and paging for {@linkcode Transport.list}. */
export interface ListOptions {
  /** Only names starting with this. */
  prefix?: string | undefined;
  /** Only names sorting strictly after this (lexical byte order). */
  after?: string | undefined;
  /** At most this many objects in the page (default and cap: 1000). */
  limit?: number | undefined;
  /**
   * Also list entries at object names that are not objects (marked `special`).
   * Readers leave it off, so a squatted name reads as missing; writers set it
   * to tell a name they cannot take from a free one.
   */
  all?: boolean | undefined;
}

/** One page of a listing, in lexical byte order of names. */
export interface ListPage {
  objects: ObjectInfo[];
  /** Pass as `after` to get the next page; absent on the last page. */
  next?: string | undefined;
}

/** Options for {@linkcode Transport.changes}. */
export interface ChangesOptions {
  /**
   * When nothing changed since the cursor, wait up to this many milliseconds
   * for a change before answering (a transport that can watch wakes at once;
   * one that cannot answers straight away). Default 0.
   */
  waitMs?: number | undefined;
}

/** What changed since a cursor. */
export interface ChangesResult {
  /** Opaque; pass it to the next call. */
  cursor: string;
  /**
   * Channels to us (incoming) that are new or may hold new or deleted objects
   * since the cursor. With a null cursor: every incoming channel. False
   * positives are allowed, false negatives are not, with one exception: a
   * transport whose storage announces no new channels may report a new one
   * only at its next look (Dropbox: within 2 minutes); `listIncoming`
   * always looks.
   */
  channels: ChannelRef[];
}

/** Who the transport says we are. */
export interface WhoAmI {
  email: string;
  /** True when the storage itself authenticated the user (cloud); false for a shared folder. */
  authenticated: boolean;
}

/** What a transport can and cannot promise; the contract suite adapts to it. */
export interface TransportCapabilities {
  /** The storage itself stops a non-recipient from listing or reading a channel. */
  enforcesSharing: boolean;
  /** `changes` can wait for a change instead of polling. */
  canWatch: boolean;
  /**
   * The transport implements {@linkcode PoolStore} (protocol v2: a blob stored
   * once, readable by the recipients named). Absent or false: writers store a
   * copy per channel (v1 `x-` blobs).
   */
  pool?: boolean | undefined;
}

/** Bytes to store: a buffer, or a stream for large objects (never held whole in memory). */
export type ObjectBody = Uint8Array | ReadableStream<Uint8Array>;

/**
 * The operations of a transport. Every failure is a `SyftError` with code
 * `E_TRANSPORT` whose message names the operation, except `put` of a name that
 * exists, which is `E_EXISTS`.
 */
export interface Transport extends Partial<PoolStore> {
  /** What this transport can promise. */
  capabilities(): Promise<TransportCapabilities>;
  /** The identity the storage knows us by. */
  whoami(): Promise<WhoAmI>;
  /** Create (if needed) and share our channel to `to`; idempotent. */
  openChannel(to: string): Promise<ChannelRef>;
  /** Every channel whose recipient is us, in name order. */
  listIncoming(): Promise<ChannelRef[]>;
  /**
   * Store an object, create-only and atomic: readers see nothing or the whole
   * object, and an existing name is never overwritten (`E_EXISTS`).
   */
  put(channel: ChannelRef, name: string, body: ObjectBody): Promise<void>;
  /**
   * One page of the objects in a channel. Temp files and foreign names never
   * appear; other entries at object names only with `all` (see ListOptions).
   */
  list(channel: ChannelRef, options?: ListOptions): Promise<ListPage>;
  /** The object's bytes as a stream. A missing object is `E_TRANSPORT` naming it. */
  get(channel: ChannelRef, name: string): Promise<ReadableStream<Uint8Array>>;
  /** Remove an object of our own channel; removing a missing one is not an error. */
  delete(channel: ChannelRef, name: string): Promise<void>;
  /** Cheap change detection for incoming channels (may wait, see options). */
  changes(cursor: string | null, options?: ChangesOptions): Promise<ChangesResult>;
  /** Stop the plugin and free its resources. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * A sender's pool (protocol v2, docs/protocol.md): objects stored once and
 * readable by exactly the readers named, so content sealed once reaches many
 * recipients without a copy per channel. Names are opaque (they never reveal a
 * content hash); the storage layout is the transport's own (a sender-owned
 * folder on a shared folder, per-file sharing on a cloud).
 */
export interface PoolStore {
  /**
   * Store an object in our pool, create-only and atomic (`E_EXISTS` if the
   * name is taken), readable by `readers` (lower-case emails, never empty).
   */
  poolPut(name: string, body: ObjectBody, readers: string[]): Promise<void>;
  /** Let more readers read an object of our pool; idempotent. */
  poolAddReaders(name: string, readers: string[]): Promise<void>;
  /** An object of `sender`'s pool that we may read. Missing or not shared: `E_TRANSPORT`. */
  poolGet(sender: string, name: string): Promise<ReadableStream<Uint8Array>>;
  /** One page of our own pool, as {@linkcode Transport.list} pages a channel. */
  poolList(options?: ListOptions): Promise<ListPage>;
  /** Remove an object of our pool; removing a missing one is not an error. */
  poolDelete(name: string): Promise<void>;
}

/** Syntax of an object name: ASCII letters, digits, `.`, `_`, `-`; no leading dot; ≤ 255 bytes. */
export const OBJECT_NAME_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

/** The folder name of a channel on storage. */
export function channelName(channel: ChannelRef): string {
  return `syft1#${channel.sender}#${channel.recipient}`;
}

/**
 * The pool of a transport that offers one (`capabilities().pool` and every
 * method present), else null: callers then fall back to per-channel copies.
 */
export function poolOf(
  transport: Transport,
  capabilities: TransportCapabilities,
): PoolStore | null {
  if (capabilities.pool !== true) return null;
  const { poolPut, poolAddReaders, poolGet, poolList, poolDelete } = transport;
  if (!poolPut || !poolAddReaders || !poolGet || !poolList || !poolDelete) return null;
  return transport as PoolStore;
}
