/**
 * Hash each large file once per round (issue 17 item 3). A large file that is
 * new, or whose size changed, certainly has new content, so the scan leaves
 * its hash out (`""`) instead of reading it; the round's first seal of it
 * into our pool reads it once, hashing as it seals, and the batch or
 * checkpoint written after the object names the hash of the bytes actually
 * sealed. The hash is then filled into the index in place, so every other
 * peer of the round reuses that pool object. Whatever needs a hash first (a
 * per-channel `x-` blob is named by an HMAC of it) hashes the file before
 * planning, and the round hashes what is left before the index is saved: no
 * index on disk ever lacks a hash.
 * @module
 */
import { posix } from "node:path";
import { hashFile } from "../crypto/agree.ts";
import { SyftError } from "../errors/mod.ts";
import { INLINE_LIMIT } from "../events/types.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import type { FileInfo } from "./state.ts";
import { indexFingerprint } from "./publish_input.ts";

/** The hash of a file the scan left for the seal. */
export const DEFERRED_HASH = "";

/**
 * Files above `bytes` are worth deferring: below it, hashing costs about what
 * the per-file bookkeeping does. Settable so tests can use small files; it
 * never goes below the inline limit, since inline content is named by its
 * hash before it is read.
 */
export const DEFER_HASH = { bytes: 4 << 20 };

/** Whether the scan leaves the hash of this file (`prev`: its previous entry) for the seal. */
export function deferHash(size: number, prev: FileInfo | undefined): boolean {
  // Same size, new mtime: maybe only touched, so it is hashed to find out.
  return size > Math.max(DEFER_HASH.bytes, INLINE_LIMIT) &&
    (prev === undefined || prev.size !== size);
}

/**
 * {@linkcode deferHash} for a scan after `previous`, except for a file whose
 * inode and size some previous entry had: most likely moved or renamed, so
 * hashed, and its content's pool object (found by hash) reused, not sealed again.
 */
export function deferHashAfter(
  previous: ReadonlyMap<string, FileInfo>,
): (size: number, prev: FileInfo | undefined, ino?: number) => boolean {
  let known: Set<string> | undefined;
  return (size, prev, ino) => {
    if (!deferHash(size, prev)) return false;
    if (ino === undefined) return true;
    known ??= new Set(
      [...previous.values()].filter((i) => i.ino !== undefined).map((i) => `${i.ino}:${i.size}`),
    );
    return !known.has(`${ino}:${size}`);
  };
}

/** Whether `info`'s hash was left for the seal. */
export function isDeferred(info: Pick<FileInfo, "hash">): boolean {
  return info.hash === DEFERRED_HASH;
}

/** Whether `index` holds a file whose hash was left for the seal. */
export function hasDeferred(index: ReadonlyMap<string, FileInfo>): boolean {
  for (const info of index.values()) if (isDeferred(info)) return true;
  return false;
}

/** Indexes whose deferred hashes were filled in, with their fingerprint once computed again. */
const filled = new WeakMap<ReadonlyMap<string, FileInfo>, string | null>();

/**
 * Fill in the hash of `path` in `index`, learnt by sealing `size` bytes of it.
 * In place: the round's index and its carriable part share the entries.
 */
export function settleHash(
  index: ReadonlyMap<string, FileInfo>,
  path: string,
  size: number,
  hash: string,
): void {
  const info = index.get(path);
  if (!info || !isDeferred(info) || info.size !== size || isDeferred({ hash })) return;
  (info as { hash: string }).hash = hash;
  filled.set(index, null);
}

/**
 * The fingerprint of `index` as it is now: `given` (made at the scan) unless
 * a hash was filled in since, so the next idle round finds it unchanged.
 */
export function currentFingerprint(index: ReadonlyMap<string, FileInfo>, given: string): string {
  if (!filled.has(index)) return given;
  const known = filled.get(index);
  if (known) return known;
  const fresh = indexFingerprint(index);
  filled.set(index, fresh);
  return fresh;
}

/** Hash the regular file `abs` if it is still what `info` describes; null when it changed or went. */
async function hashIfSame(abs: string, info: FileInfo, fs: LocalFs): Promise<string | null> {
  const same = () => {
    try {
      const now = fs.lstatSync(abs);
      return now.isFile && now.size === info.size && (now.mtime?.getTime() ?? 0) === info.mtime &&
        (info.ino === undefined || (now.ino ?? undefined) === info.ino);
    } catch {
      return false;
    }
  };
  if (!same()) return null;
  try {
    const got = await hashFile(abs, fs);
    return got.size === info.size && same() ? got.hash : null;
  } catch {
    return null;
  }
}

/**
 * Hash every deferred file of `index` now (a channel that must name a
 * content before sealing it). Throws `E_INPUT` when one changed since the
 * scan: the channel waits for the next round, whose scan sees the change.
 */
export async function hashDeferred(
  index: ReadonlyMap<string, FileInfo>,
  root: string,
  fs: LocalFs,
): Promise<void> {
  for (const [path, info] of index) {
    if (!isDeferred(info)) continue;
    const hash = await hashIfSame(posix.join(root, path), info, fs);
    if (hash === null) {
      throw new SyftError("E_INPUT", `${path} changed while it was being sent`, {
        hint: "run syft sync again once it is written",
      });
    }
    settleHash(index, path, info.size, hash);
  }
}

/**
 * Before the index is saved: hash what no seal filled in (a file no peer
 * reads, a channel that failed). One that changed since the scan is put back
 * as it was (or left out), so the next scan looks at it again.
 */
export async function settleIndex(
  index: Map<string, FileInfo>,
  root: string,
  fs: LocalFs,
  previous: ReadonlyMap<string, FileInfo>,
): Promise<void> {
  for (const [path, info] of [...index]) {
    if (!isDeferred(info)) continue;
    const hash = await hashIfSame(posix.join(root, path), info, fs);
    if (hash !== null) {
      settleHash(index, path, info.size, hash);
      continue;
    }
    const prev = previous.get(path);
    if (prev) index.set(path, prev);
    else index.delete(path);
  }
}
