/**
 * SHA-256 of bytes, streams and files, as lowercase hex (PROTOCOL.md: "hashes are
 * lowercase hex SHA-256"). Everything goes through `node:crypto`'s incremental
 * `createHash`, never `crypto.subtle.digest` on a whole buffer, so hashing a
 * 2 GiB file costs one read buffer of memory.
 * @module
 */
import { createHash } from "node:crypto";

/** Read size of {@linkcode hashFile}: large enough for throughput, small enough to never matter. */
const FILE_READ_BYTES = 1 << 20;

/**
 * SHA-256 of `bytes`, 64 lowercase hex digits. Synchronous (awaiting it is harmless).
 *
 * @example
 * ```ts
 * sha256Hex(new Uint8Array()); // "e3b0c442…b855"
 * ```
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** SHA-256 of `bytes` as raw 32 bytes. */
export function sha256Bytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const digest = createHash("sha256").update(bytes).digest();
  return new Uint8Array(digest);
}

/** A content hash and the number of bytes it covers. */
export interface HashResult {
  /** 64 lowercase hex digits. */
  hash: string;
  /** Bytes read. */
  size: number;
}

/**
 * Hash a byte stream to its end, one chunk at a time. The stream is consumed;
 * if it errors, the returned promise rejects with that error.
 *
 * @example
 * ```ts
 * const { hash, size } = await hashStream(file.readable);
 * ```
 */
export async function hashStream(stream: ReadableStream<Uint8Array>): Promise<HashResult> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { hash: hash.digest("hex"), size };
}

/**
 * Hash a file's content. Opens `path` as it is (following symlinks, and an open
 * of a FIFO would block): callers that must only read regular files `lstat` first.
 * The size is the bytes actually read, which callers compare with their `stat`
 * to notice a file that changed while it was hashed.
 */
export async function hashFile(path: string): Promise<HashResult> {
  const file = await Deno.open(path, { read: true });
  try {
    const hash = createHash("sha256");
    const buf = new Uint8Array(FILE_READ_BYTES);
    let size = 0;
    for (;;) {
      const n = await file.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
      size += n;
    }
    return { hash: hash.digest("hex"), size };
  } finally {
    file.close();
  }
}
