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
   * positives are allowed, false negatives are not.
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
}

/** Bytes to store: a buffer, or a stream for large objects (never held whole in memory). */
export type ObjectBody = Uint8Array | ReadableStream<Uint8Array>;

/**
 * The operations of a transport. Every failure is a `SyftError` with code
 * `E_TRANSPORT` whose message names the operation, except `put` of a name that
 * exists, which is `E_EXISTS`.
 */
export interface Transport {
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

/** Syntax of an object name: ASCII letters, digits, `.`, `_`, `-`; no leading dot; ≤ 255 bytes. */
export const OBJECT_NAME_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

/** The folder name of a channel on storage. */
export function channelName(channel: ChannelRef): string {
  return `syft1#${channel.sender}#${channel.recipient}`;
}
