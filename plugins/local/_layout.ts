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
 * ```
 * @module
 */
import { channelName, type ChannelRef } from "../contract.ts";
import { isIdentity } from "../../core/paths/identity.ts";

/** Name of the change marker file, in the root and in each channel folder. */
export const MARKER_NAME = ".marker";

/** Prefix of every temp file; a dotfile, so it never matches an object name. */
export const TEMP_PREFIX = ".tmp-";

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
