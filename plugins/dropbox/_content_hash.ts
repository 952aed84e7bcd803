/**
 * Dropbox's content hash (https://www.dropbox.com/developers/reference/content-hash):
 * the SHA-256 of the concatenated SHA-256 digests of each 4 MiB block of the
 * file, in hex. Dropbox reports it for every file and checks it on upload when
 * we send it, so a body damaged on the way is refused instead of stored; we
 * compute it ourselves, incrementally, because bodies arrive as streams.
 * @module
 */
import { createHash, type Hash } from "node:crypto";

/** Dropbox hashes files in blocks of this size. */
export const CONTENT_HASH_BLOCK = 4 * 1024 * 1024;

/** Feeds bytes in any slicing; the hash depends only on the bytes. */
export class ContentHasher {
  #block: Hash = createHash("sha256");
  #inBlock = 0;
  readonly #overall: Hash = createHash("sha256");
  #done = false;

  /** Add the next bytes. */
  update(bytes: Uint8Array): this {
    if (this.#done) throw new Error("ContentHasher.update after digest");
    let offset = 0;
    while (offset < bytes.byteLength) {
      const take = Math.min(CONTENT_HASH_BLOCK - this.#inBlock, bytes.byteLength - offset);
      this.#block.update(bytes.subarray(offset, offset + take));
      this.#inBlock += take;
      offset += take;
      if (this.#inBlock === CONTENT_HASH_BLOCK) this.#closeBlock();
    }
    return this;
  }

  /** The hash in lower-case hex; the hasher cannot be fed afterwards. */
  digest(): string {
    if (this.#done) throw new Error("ContentHasher.digest twice");
    if (this.#inBlock > 0) this.#closeBlock();
    this.#done = true;
    return this.#overall.digest("hex");
  }

  #closeBlock(): void {
    this.#overall.update(this.#block.digest());
    this.#block = createHash("sha256");
    this.#inBlock = 0;
  }
}

/**
 * The content hash of bytes held in memory.
 *
 * @example
 * ```ts
 * contentHash(new Uint8Array(0));
 * // "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
 * ```
 */
export function contentHash(bytes: Uint8Array): string {
  return new ContentHasher().update(bytes).digest();
}
