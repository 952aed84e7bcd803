/**
 * Where things live in a local transport folder, and the small fs helpers the
 * rest of the local plugin shares.
 *
 * ```
 * <dir>/.marker                          changes whenever a channel is created
 * <dir>/syft1#<sender>#<recipient>/      one folder per channel
 * <dir>/syft1#<sender>#<recipient>/.marker   changes at every put/delete
 * <dir>/syft1#<sender>#<recipient>/<object name>
 * <dir>/syft1#<sender>#<recipient>/.tmp-*    writes in progress (never listed)
 * <dir>/syft2pool#<sender>/<object name>      the sender's pool (protocol v2)
 * <dir>/syft2pool#<sender>/.readers-<name>    who may read it (JSON list; see below)
 * ```
 *
 * A shared folder cannot stop anyone who can read the folder from reading a
 * pool object, as it cannot for channels: the readers file only makes this
 * transport's own `poolGet` refuse a non-reader. Confidentiality comes from
 * the envelope (a pool object is sealed under a content key that only its
 * readers receive, inside their own encrypted batches).
 * @module
 */
import { channelName, type ChannelRef } from "../../core/transport/contract.ts";
import { isIdentity } from "../../core/paths/identity.ts";

/** Name of the change marker file, in the root and in each channel folder. */
export const MARKER_NAME = ".marker";

/** Prefix of every temp file; a dotfile, so it never matches an object name. */
export const TEMP_PREFIX = ".tmp-";

/** Prefix of a pool folder's name: `syft2pool#<sender>`. */
export const POOL_PREFIX = "syft2pool#";

/** Prefix of the file recording a pool object's readers; a dotfile, never an object name. */
export const READERS_PREFIX = ".readers-";

/** The pool folder of `sender` under `root`. The identity must already be valid. */
export function poolDir(root: string, sender: string): string {
  return `${root}/${POOL_PREFIX}${sender}`;
}

/** The channel a folder name stands for, or null for anything else (junk is not an error). */
export function parseChannelFolder(name: string): ChannelRef | null {
  const parts = name.split("#");
  if (parts.length !== 3 || parts[0] !== "syft1") return null;
  const [, sender, recipient] = parts;
  if (sender === undefined || recipient === undefined) return null;
  if (!isIdentity(sender) || !isIdentity(recipient)) return null;
  return { sender, recipient };
}

/** The folder of `channel` under `root`. Both identities must already be valid. */
export function channelDir(root: string, channel: ChannelRef): string {
  return `${root}/${channelName(channel)}`;
}

/** Random lower-case hex, for temp names and marker tokens. */
export function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Lexical byte order for ASCII names (JS string order is UTF-16 order, the same for ASCII). */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `lstat`, or null when nothing is there. Other errors propagate. */
export async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** Write all of `data`: `FsFile.write` may write less than asked. */
export async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    offset += await file.write(data.subarray(offset));
  }
}

/** Bytes per piece of {@linkcode fileStream}: about an envelope chunk. */
export const READ_PIECE_BYTES = 1 << 20;

/**
 * The contents of an open file as a stream of large pieces, read on demand
 * (high-water mark 0), closing the file at the end or on cancel. Read buffers
 * come from `buffers` (by default fresh ones). `FsFile.readable` reads 64 KiB
 * at a time, and every piece then crosses the Worker boundary as its own
 * message: reading a large object took ten times as long as the read itself.
 */
export function fileStream(
  file: Deno.FsFile,
  buffers: {
    take(length: number): Uint8Array<ArrayBuffer>;
    keep(buffer: Uint8Array): void;
  } = { take: (length) => new Uint8Array(length), keep: () => {} },
): ReadableStream<Uint8Array> {
  let open = true;
  const close = () => {
    if (open) {
      open = false;
      file.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buf = buffers.take(READ_PIECE_BYTES);
      let n: number | null;
      try {
        n = await file.read(buf);
      } catch (err) {
        buffers.keep(buf);
        close();
        controller.error(err);
        return;
      }
      if (n === null) {
        buffers.keep(buf);
        close();
        controller.close();
        return;
      }
      if (n === buf.length) {
        controller.enqueue(buf);
        return;
      }
      // A short read hands out a copy of what it filled and keeps the buffer.
      controller.enqueue(buf.slice(0, n));
      buffers.keep(buf);
    },
    cancel: close,
  }, { highWaterMark: 0 });
}

/**
 * fsync a folder, so a link or rename inside it survives a power cut. Some
 * file systems cannot open or sync folders; durability is then best effort.
 */
export async function syncDir(path: string): Promise<void> {
  let dir: Deno.FsFile | undefined;
  try {
    dir = await Deno.open(path, { read: true });
    await dir.sync();
  } catch {
    // best effort, see above
  } finally {
    dir?.close();
  }
}

/** Remove a file, ignoring a missing one and any other error (cleanup paths only). */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // nothing useful to do: the caller is already reporting the real failure
  }
}
