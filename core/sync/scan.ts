/**
 * Walk a folder into path → {hash, size, mtime, mode}, hashing only files whose
 * size or mtime changed since the previous scan. Only regular files count:
 * symlinks, devices, FIFOs and sockets are reported, never read.
 * @module
 */
import { posix } from "node:path";
import { hashFile } from "../crypto/agree.ts";
import type { FileInfo } from "./state.ts";

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
}

/** Names syft itself writes while working; never content. */
export function isSyftTemp(name: string): boolean {
  return name.startsWith(".") && name.includes(".tmp-");
}

/** `name.rejected.<ts>` / `name.conflict.<ts>` markers: shown to users, never proposed. */
export function isMarker(name: string): boolean {
  return /\.(rejected|conflict)\.\d+/.test(name);
}

/**
 * The hash of the regular file at `path`; null when nothing is there (or the
 * path cannot exist, e.g. it runs under a file); "special" for a symlink,
 * folder or device, which is never read.
 */
export async function regularFileHash(path: string): Promise<string | null | "special"> {
  const info = await Deno.lstat(path).catch(() => undefined);
  if (!info) return null;
  if (!info.isFile) return "special";
  return (await hashFile(path)).hash;
}

/** Walk `root`; a missing root is an empty tree. */
export async function scanTree(root: string, options: ScanOptions = {}): Promise<ScanResult> {
  const files = new Map<string, FileInfo>();
  const special: string[] = [];
  const unstable: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === "" ? root : posix.join(root, rel);
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(abs));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound && rel === "") return;
      if (err instanceof Deno.errors.NotFound) return; // removed while walking
      throw err;
    }
    for (const entry of entries) {
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
      const path = posix.join(root, childRel);
      let before: Deno.FileInfo;
      try {
        before = await Deno.lstat(path);
      } catch {
        continue; // vanished
      }
      if (!before.isFile) {
        special.push(childRel);
        continue;
      }
      const mtime = before.mtime?.getTime() ?? 0;
      const mode = (before.mode ?? 0) & 0o111 ? "exec" : "file";
      const prev = options.previous?.get(childRel);
      if (prev && prev.size === before.size && prev.mtime === mtime) {
        files.set(childRel, { ...prev, mode });
        continue;
      }
      const { hash, size } = await hashFile(path);
      const after = await Deno.lstat(path).catch(() => undefined);
      if (
        !after || after.size !== before.size || (after.mtime?.getTime() ?? 0) !== mtime ||
        size !== before.size
      ) {
        unstable.push(childRel);
        if (prev) files.set(childRel, prev);
        continue;
      }
      files.set(childRel, { hash, size, mtime, mode });
    }
  };
  await walk("");
  return { files, special, unstable };
}
