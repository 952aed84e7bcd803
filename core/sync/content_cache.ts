/**
 * Contents a round has read and hashed already, by hash, so each file is
 * read and hashed once per round: the scan of our datasite keeps the small
 * files it hashed, and every channel's batch (and the checkpoint after it)
 * takes them from here instead of reading and hashing them again per peer.
 * Bounded in bytes; past the bound a content is read again when needed.
 * @module
 */

/** Bytes a round keeps at most (10,000 files of 4 KiB are 40 MiB). */
export const CONTENT_CACHE_BYTES = 128 * 1024 * 1024;

/** Verified contents by SHA-256 hex. Only bytes that hash to their key go in. */
export class ContentCache {
  readonly #byHash = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(readonly limit = CONTENT_CACHE_BYTES) {}

  /** The bytes of `hash`, if this round has them. */
  get(hash: string): Uint8Array | undefined {
    return this.#byHash.get(hash);
  }

  /** Keep `bytes`, which hash to `hash`, while they fit. */
  put(hash: string, bytes: Uint8Array): void {
    if (this.#byHash.has(hash) || this.#bytes + bytes.byteLength > this.limit) return;
    this.#byHash.set(hash, bytes);
    this.#bytes += bytes.byteLength;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }
}
