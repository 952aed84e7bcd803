/**
 * SHA-256 of bytes, streams and files, as lowercase hex (docs/protocol.md: "hashes are
 * lowercase hex SHA-256"). Everything goes through `node:crypto`'s incremental
 * `createHash`, never `crypto.subtle.digest` on a whole buffer, so hashing a
 * 2 GiB file costs one read buffer of memory.
 * @module
 */
import { createHash } from "node:crypto";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFile, LocalFs } from "../fs/local_fs.ts";

/** Read size of {@linkcode hashFile}: large enough for throughput, small enough to never matter. */
const FILE_READ_BYTES = 1 << 20;

/**
 * Read buffers are reused: a fresh 1 MiB buffer per file made hashing 10,000
 * small files allocate (and zero, and collect) 10 GiB. Two per file so the
 * next read runs while the previous piece is hashed; a few pairs so
 * concurrent calls do not fight over one.
 */
const spare: Uint8Array<ArrayBuffer>[] = [];
const MAX_SPARE = 8;

function takeBuffer(): Uint8Array<ArrayBuffer> {
  return spare.pop() ?? new Uint8Array(FILE_READ_BYTES);
}

function giveBack(buf: Uint8Array<ArrayBuffer>): void {
  if (spare.length < MAX_SPARE) spare.push(buf);
}

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
 * using file = await Deno.open("deno.json");
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
export async function hashFile(path: string, fs: LocalFs = denoFs): Promise<HashResult> {
  const file = await fs.open(path, { read: true });
  let current = takeBuffer();
  let next = takeBuffer();
  let inFlight: Promise<number | null> | null = null;
  try {
    const hash = createHash("sha256");
    let size = 0;
    inFlight = file.read(current);
    for (;;) {
      const n = await inFlight;
      inFlight = null;
      if (n === null) break;
      // The next read fills the other buffer while this one is hashed.
      inFlight = file.read(next);
      hash.update(current.subarray(0, n));
      size += n;
      [current, next] = [next, current];
    }
    return { hash: hash.digest("hex"), size };
  } finally {
    if (inFlight) {
      // Left by a throw: that read may still write into a buffer, which must
      // not be handed to anyone else.
      inFlight.catch(() => {});
    } else {
      giveBack(current);
      giveBack(next);
    }
    file.close();
  }
}

/**
 * {@linkcode hashFile} without leaving the thread: for small files, where the
 * round trips of asynchronous reads cost far more than the reads themselves.
 * It blocks until the whole file is read, so callers keep it to files they
 * know (from an `lstat`) to be small and regular.
 */
export function hashFileSync(path: string, fs: LocalFs = denoFs): HashResult {
  const file = fs.openSync(path, { read: true });
  const buf = takeBuffer();
  try {
    const hash = createHash("sha256");
    let size = 0;
    for (;;) {
      const n = file.readSync(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
      size += n;
    }
    return { hash: hash.digest("hex"), size };
  } finally {
    file.close();
    giveBack(buf);
  }
}

/** Bytes per piece of {@linkcode hashedFileStream}: one envelope chunk, so sealing copies nothing. */
const STREAM_PIECE_BYTES = 1 << 20;

/**
 * The content of the file at `path` as a stream of 1 MiB pieces, hashed as it
 * is read; once the whole file is read, `check` gets the hash and size and may
 * throw, which fails the stream instead of ending it (so a consumer such as
 * the envelope writer never completes an object from content that changed).
 * The next piece is read while the consumer handles the current one.
 *
 * `FsFile.readable` reads 64 KiB at a time, and those small pieces cost more
 * than the reading itself; this reads a file ten times faster.
 *
 * @example
 * ```ts
 * declare const path: string;
 * declare const expected: string; // the hash the batch announced
 * const body = await hashedFileStream(path, ({ hash }) => {
 *   if (hash !== expected) throw new Error(`${path} changed while it was being sent`);
 * });
 * ```
 */
export async function hashedFileStream(
  path: string,
  check: (result: HashResult) => void,
  fs: LocalFs = denoFs,
): Promise<ReadableStream<Uint8Array>> {
  const file = await fs.open(path, { read: true });
  const hash = createHash("sha256");
  let size = 0;
  let open = true;
  const close = () => {
    if (open) {
      open = false;
      file.close();
    }
  };
  const readPiece = async (): Promise<Uint8Array | null> => {
    const buf = new Uint8Array(STREAM_PIECE_BYTES);
    let filled = 0;
    // Fill whole pieces (a read may return less), so the consumer gets aligned chunks.
    while (filled < buf.length) {
      const n = await file.read(buf.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    if (filled === 0) return null;
    return filled === buf.length ? buf : buf.slice(0, filled);
  };
  let ahead: Promise<Uint8Array | null> | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let piece: Uint8Array | null;
      try {
        piece = await (ahead ?? readPiece());
        ahead = null;
        if (piece === null) {
          close();
          check({ hash: hash.digest("hex"), size });
          controller.close();
          return;
        }
        ahead = readPiece();
        ahead.catch(() => {});
      } catch (err) {
        close();
        controller.error(err);
        return;
      }
      hash.update(piece);
      size += piece.length;
      controller.enqueue(piece);
    },
    cancel: close,
  }, { highWaterMark: 0 });
}

/**
 * After this many bytes, {@linkcode writeHashed} has the kernel start writing
 * them out (an fsync through a handle of its own, nobody waiting for it) while
 * the body keeps coming: the caller's final fsync of a 1 GiB blob then waits
 * for the last stretch, not the whole file, with nothing left to overlap it.
 */
export const EARLY_SYNC_BYTES = 32 * 1024 * 1024;

/**
 * fsync `path` through a second handle: one handle's operations run one after
 * another, so a sync on the writing handle would hold back the writes behind
 * it. Errors are dropped: durability still rests on the caller's own fsync.
 */
async function syncBeside(fs: LocalFs, path: string): Promise<void> {
  try {
    const file = await fs.open(path, { read: true });
    try {
      await file.sync();
    } finally {
      file.close();
    }
  } catch {
    // An early sync is only a head start.
  }
}

/**
 * Write `stream` to the file at `path` (created, or truncated) and return the
 * hash and size of what was written, so the file need not be read back to be
 * checked. Each piece is hashed while it is being written. Past
 * {@linkcode EARLY_SYNC_BYTES} the bytes written so far are synced in the
 * background; the caller still fsyncs before relying on the file. On an error
 * the stream is cancelled and the partial file is left for the caller to remove.
 *
 * @example
 * ```ts
 * import { SyftError } from "../errors/mod.ts";
 * declare const opened: { body: ReadableStream<Uint8Array> }; // an opened envelope
 * declare const temp: string;
 * declare const expected: string;
 * const { hash } = await writeHashed(opened.body, temp);
 * if (hash !== expected) throw new SyftError("E_BAD_MESSAGE", "content hash does not match");
 * ```
 */
export async function writeHashed(
  stream: ReadableStream<Uint8Array>,
  path: string,
  fs: LocalFs = denoFs,
): Promise<HashResult> {
  const reader = stream.getReader();
  const hash = createHash("sha256");
  let size = 0;
  let unsynced = 0;
  let syncing: Promise<void> | null = null;
  let file: LocalFile | undefined;
  try {
    file = await fs.open(path, { write: true, create: true, truncate: true });
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let at = 0;
      const writing = (async () => {
        while (at < value.byteLength) at += await file!.write(value.subarray(at));
      })();
      hash.update(value);
      size += value.byteLength;
      await writing;
      unsynced += value.byteLength;
      if (unsynced >= EARLY_SYNC_BYTES && syncing === null) {
        unsynced = 0;
        syncing = syncBeside(fs, path).finally(() => syncing = null);
      }
    }
    return { hash: hash.digest("hex"), size };
  } catch (err) {
    reader.cancel(err).catch(() => {});
    throw err;
  } finally {
    file?.close();
    reader.releaseLock();
    // Never left running past the call: the caller may rename or remove the file.
    await syncing;
  }
}
