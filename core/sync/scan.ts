/**
 * Walk a folder into path → {hash, size, mtime, mode}, hashing only files whose
 * size or mtime changed since the previous scan. Only regular files count:
 * symlinks, devices, FIFOs and sockets are reported, never read.
 * @module
 */
import { posix } from "node:path";
import { hashFile, hashFileSync, sha256Hex } from "../crypto/agree.ts";
import { INLINE_LIMIT } from "../events/types.ts";
import type { FileInfo } from "./state.ts";
import { isSyftTemp } from "../datasite/names.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { FsEntry, FsInfo, LocalFs } from "../fs/local_fs.ts";
import type { WrittenStamp } from "./written.ts";

/**
 * Files up to this size are stat'ed and hashed with synchronous calls: each
 * asynchronous fs call costs a thread-pool round trip (~25 µs) that dwarfs
 * reading a small file, and a scan makes several per file. Larger files are
 * read asynchronously, which also lets the event loop run meanwhile.
 */
const SYNC_HASH_BYTES = 1 << 20;

/**
 * Longest stretch of synchronous work before the event loop gets a turn, so
 * plugin replies and heartbeats are not held up by a scan of a huge tree.
 */
const SLICE_MS = 25;

/**
 * Gives the event loop a turn once the current stretch of synchronous work is
 * long enough. For loops that use synchronous fs calls on many small files.
 */
export class Pacer {
  #since = performance.now();

  /** Call between two pieces of synchronous work. */
  async breathe(): Promise<void> {
    if (!this.due()) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#since = performance.now();
  }

  /**
   * Whether the event loop is owed a turn: a loop over thousands of files
   * awaits {@linkcode breathe} only then, not a resolved promise per file.
   */
  due(): boolean {
    return performance.now() - this.#since >= SLICE_MS;
  }
}

function lstatOrUndefined(fs: LocalFs, path: string): FsInfo | undefined {
  try {
    return fs.lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Hash the regular file at `path` whose lstat said `size` bytes. */
async function hashRegular(
  fs: LocalFs,
  path: string,
  size: number,
): Promise<{ hash: string; size: number }> {
  return size <= SYNC_HASH_BYTES ? hashFileSync(path, fs) : await hashFile(path, fs);
}

/** What a scan found. */
export interface ScanResult {
  files: Map<string, FileInfo>;
  /** Datasite-relative paths that are not regular files (skipped with a warning). */
  special: string[];
  /** Files that changed while being hashed: try again next round, never treat as deleted. */
  unstable: string[];
}

/** Options for {@linkcode scanTree}. */
export interface ScanOptions {
  /** The previous scan, to skip hashing unchanged files. */
  previous?: ReadonlyMap<string, FileInfo> | undefined;
  /** Names (any depth) to leave out, e.g. conflict and rejected markers in a mirror. */
  skip?: ((name: string, rel: string) => boolean) | undefined;
  /** The file system to walk; the disk by default. */
  fs?: LocalFs | undefined;
  /**
   * Given the bytes of each small file hashed (up to the inline limit), so a
   * round that sends them need not read and hash them again.
   */
  keep?: ((hash: string, bytes: Uint8Array) => void) | undefined;
  /**
   * Files this round's journal just wrote, as the state records them: one
   * whose `previous` record is exactly that stamp is taken as it is, without
   * an lstat (core/sync/written.ts says why an edit made meanwhile is not lost).
   */
  written?: ReadonlyMap<string, WrittenStamp> | undefined;
  /**
   * Whether to leave the hash of a new or changed file out (`""`, not read)
   * for whoever reads it next to fill in (core/sync/deferred_hash.ts).
   */
  deferHash?: ((size: number, prev: FileInfo | undefined, ino?: number) => boolean) | undefined;
}

/**
 * The hash of the regular file at `path`; null when nothing is there (or the
 * path cannot exist, e.g. it runs under a file); "special" for a symlink,
 * folder or device, which is never read.
 */
export async function regularFileHash(
  path: string,
  fs: LocalFs = denoFs,
): Promise<string | null | "special"> {
  // A missing file's lstat throws, and building that error costs ~15 µs; a new
  // folder's files (a first sync: thousands of them) are settled by one cheap
  // check of the folder. Nothing can be found under a folder that is not there.
  if (!fs.existsSync(posix.dirname(path))) return null;
  const info = lstatOrUndefined(fs, path);
  if (!info) return null;
  if (!info.isFile) return "special";
  return (await hashRegular(fs, path, info.size)).hash;
}

/** Whether `prev` is the record the journal wrote for the file (`stamp`). */
function isWritten(stamp: WrittenStamp | undefined, prev: FileInfo): boolean {
  return stamp !== undefined && stamp.size === prev.size && stamp.mtime === prev.mtime &&
    stamp.ino === (prev.ino ?? null);
}

/** Walk `root`; a missing root is an empty tree. */
export async function scanTree(root: string, options: ScanOptions = {}): Promise<ScanResult> {
  const files = new Map<string, FileInfo>();
  const special: string[] = [];
  const unstable: string[] = [];
  const pacer = new Pacer();
  const fs = options.fs ?? denoFs;
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === "" ? root : posix.join(root, rel);
    let entries: FsEntry[];
    try {
      entries = [...fs.readDirSync(abs)];
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return; // a missing root, or removed while walking
      throw err;
    }
    for (const entry of entries) {
      if (pacer.due()) await pacer.breathe();
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (isSyftTemp(entry.name) || options.skip?.(entry.name, childRel)) continue;
      if (entry.isSymlink) {
        special.push(childRel);
        continue;
      }
      if (entry.isDirectory) {
        await walk(childRel);
        continue;
      }
      if (!entry.isFile) {
        special.push(childRel);
        continue;
      }
      const prev = options.previous?.get(childRel);
      if (prev && options.written && isWritten(options.written.get(childRel), prev)) {
        files.set(childRel, prev);
        continue;
      }
      const path = `${abs}/${entry.name}`;
      const before = lstatOrUndefined(fs, path);
      if (!before) continue; // vanished
      if (!before.isFile) {
        special.push(childRel);
        continue;
      }
      const mtime = before.mtime?.getTime() ?? 0;
      const mode = (before.mode ?? 0) & 0o111 ? "exec" : "file";
      const ino = before.ino ?? undefined;
      if (
        prev && prev.size === before.size && prev.mtime === mtime &&
        (prev.ino === undefined || ino === undefined || prev.ino === ino)
      ) {
        // The record as it was, when nothing in it moved (the common case of a big idle tree).
        const same = prev.mode === mode && (ino === undefined || prev.ino === ino);
        files.set(childRel, same ? prev : { ...prev, mode, ...(ino === undefined ? {} : { ino }) });
        continue;
      }
      if (options.deferHash?.(before.size, prev, ino)) {
        const size = before.size;
        files.set(childRel, { hash: "", size, mtime, mode, ...(ino === undefined ? {} : { ino }) });
        continue;
      }
      let hashed: { hash: string; size: number } | undefined;
      let bytes: Uint8Array | undefined;
      try {
        if (options.keep && before.size <= INLINE_LIMIT) {
          bytes = fs.readFileSync(path);
          hashed = { hash: sha256Hex(bytes), size: bytes.byteLength };
        } else hashed = await hashRegular(fs, path, before.size);
      } catch (err) {
        // Removed or replaced between lstat and open: like a change while hashing.
        if (lstatOrUndefined(fs, path)?.ino === before.ino) throw err;
      }
      if (!hashed) {
        unstable.push(childRel);
        if (prev) files.set(childRel, prev);
        continue;
      }
      const { hash, size } = hashed;
      const after = lstatOrUndefined(fs, path);
      if (
        !after || after.size !== before.size || (after.mtime?.getTime() ?? 0) !== mtime ||
        size !== before.size
      ) {
        unstable.push(childRel);
        if (prev) files.set(childRel, prev);
        continue;
      }
      files.set(childRel, { hash, size, mtime, mode, ...(ino === undefined ? {} : { ino }) });
      if (bytes) options.keep?.(hash, bytes);
    }
  };
  await walk("");
  return { files, special, unstable };
}
