/**
 * Change markers: cheap change detection for a shared folder. Every writer
 * replaces `<folder>/.marker` (temp file + rename) with a fresh random token
 * after each put, delete or channel creation, so a reader learns whether a
 * channel changed by reading one tiny file instead of listing it. Two writers
 * racing each leave a token the reader has never seen, so a race can hide one
 * write's token but never the fact that something changed.
 *
 * A folder's signature also carries its mtime, which catches writers that do
 * not update markers (another tool, a sync client, a crash between an object's
 * link and its marker). False positives are fine; false negatives are not.
 * @module
 */
import { lstatOrNull, MARKER_NAME, randomHex, removeQuietly, TEMP_PREFIX } from "./_layout.ts";

/** Markers hold a token of 32 hex digits; anything much larger is junk and not read. */
const MAX_MARKER_BYTES = 256;

/**
 * Replace the marker in `folder` with a new token. Best effort: a failure
 * (e.g. a junk folder named `.marker`) is swallowed, because the object write
 * it follows has already succeeded and the mtime part of the signature still
 * reveals the change.
 */
export async function bumpMarker(folder: string): Promise<void> {
  const temp = `${folder}/${TEMP_PREFIX}marker-${randomHex(8)}`;
  try {
    await Deno.writeTextFile(temp, `${randomHex(16)}\n`, { createNew: true });
    await Deno.rename(temp, `${folder}/${MARKER_NAME}`);
  } catch {
    await removeQuietly(temp);
  }
}

/** True when `folder` has a marker file (a regular file, not junk). */
export async function hasMarker(folder: string): Promise<boolean> {
  const info = await lstatOrNull(`${folder}/${MARKER_NAME}`).catch(() => null);
  return info?.isFile === true;
}

async function readToken(folder: string): Promise<string> {
  const path = `${folder}/${MARKER_NAME}`;
  try {
    // lstat first: a symlink named .marker would otherwise be followed, and
    // Deno's permission check looks at the link's path, not its target.
    const info = await Deno.lstat(path);
    if (!info.isFile || info.size > MAX_MARKER_BYTES) return "junk";
    const file = await Deno.open(path, { read: true });
    try {
      const buf = new Uint8Array(MAX_MARKER_BYTES);
      const n = await file.read(buf);
      return new TextDecoder().decode(buf.subarray(0, n ?? 0)).trim();
    } finally {
      file.close();
    }
  } catch {
    return ""; // no marker yet
  }
}

/**
 * The change signature of `folder`: its marker token and its mtime, or null
 * when the folder is gone or is not a real folder. A symlink is followed only
 * with `follow` (the transport root may be one; a channel folder may not).
 */
export async function folderSignature(folder: string, follow = false): Promise<string | null> {
  const [token, info] = await Promise.all([
    readToken(folder),
    (follow ? Deno.stat(folder) : Deno.lstat(folder)).catch(() => null),
  ]);
  if (!info || !info.isDirectory) return null;
  return `${token}|${info.mtime?.getTime() ?? 0}`;
}
