/**
 * `private/` is for the owner alone: folders 0700, files 0600. This finds the
 * entries that are wider (for `doctor`) and narrows them (for `doctor --fix`).
 * Symbolic links inside are never followed: their targets are not ours to judge.
 * @module
 */
import { posix } from "node:path";
import type { Config } from "../config/config.ts";
import { formatMode } from "../config/home_guard.ts";
import { datasiteDir } from "../datasite/layout.ts";
import { PRIVATE_FOLDER } from "../datasite/names.ts";

/** The private/ folder of the configured datasite. */
export function privateDir(config: Config): string {
  return posix.join(datasiteDir(config.root, config.email), PRIVATE_FOLDER);
}

/** One entry under private/, as lstat saw it. */
export interface PrivateEntry {
  path: string;
  isDirectory: boolean;
  mode: number;
}

/** An entry other users could read, enter or write. */
export interface WideEntry {
  path: string;
  isDirectory: boolean;
  mode: number;
  /** The mode it should have: 0700 for folders, 0600 for files. */
  want: number;
}

/** Most entries looked at in one walk: private data sets can be huge. */
export const MAX_PRIVATE_ENTRIES = 200_000;

/** The entries whose mode gives group or others any access. */
export function wideEntries(entries: readonly PrivateEntry[]): WideEntry[] {
  return entries
    .filter((e) => (e.mode & 0o077) !== 0)
    .map((e) => ({ ...e, want: e.isDirectory ? 0o700 : 0o600 }));
}

/** What a walk of private/ found. */
export interface PrivateWalk {
  entries: PrivateEntry[];
  /** True when the walk stopped at {@linkcode MAX_PRIVATE_ENTRIES}. */
  truncated: boolean;
}

/**
 * Every folder and regular file under `dir` (itself included), without following
 * symbolic links. A missing `dir` gives no entries.
 */
export async function walkPrivate(dir: string, limit = MAX_PRIVATE_ENTRIES): Promise<PrivateWalk> {
  const entries: PrivateEntry[] = [];
  let rootInfo: Deno.FileInfo;
  try {
    // The root is followed: a private/ that is a link is judged by what it names.
    rootInfo = await Deno.stat(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { entries, truncated: false };
    throw err;
  }
  entries.push({ path: dir, isDirectory: rootInfo.isDirectory, mode: rootInfo.mode ?? 0 });
  const pending = rootInfo.isDirectory ? [dir] : [];
  while (pending.length) {
    const folder = pending.pop()!;
    for await (const e of Deno.readDir(folder)) {
      if (entries.length >= limit) return { entries, truncated: true };
      if (e.isSymlink || !(e.isDirectory || e.isFile)) continue;
      const path = posix.join(folder, e.name);
      const info = await Deno.lstat(path);
      entries.push({ path, isDirectory: info.isDirectory, mode: info.mode ?? 0 });
      if (info.isDirectory) pending.push(path);
    }
  }
  return { entries, truncated: false };
}

/** One line per wide entry, e.g. `/r/a@x/private/data.csv is mode 0644 (want 0600)`. */
export function describeWide(e: WideEntry): string {
  return `${e.path} is mode ${formatMode(e.mode)} (want ${formatMode(e.want)})`;
}

/**
 * Narrow every wide entry under `dir` to 0700/0600; returns the paths changed.
 * A `dir` that is itself a link is left alone (doctor reports it): the folder it
 * names may be shared with others on purpose, and is not ours to narrow.
 */
export async function narrowPrivate(dir: string): Promise<string[]> {
  const rootIsLink = await Deno.lstat(dir).then((i) => i.isSymlink).catch(() => false);
  if (rootIsLink) return [];
  const fixed: string[] = [];
  // Links were never collected, so chmod (which follows links) only meets our own entries.
  for (const e of wideEntries((await walkPrivate(dir)).entries)) {
    try {
      await Deno.chmod(e.path, e.want);
      fixed.push(e.path);
    } catch (err) {
      // Another user's entry: doctor keeps reporting it for the user to settle.
      if (!(err instanceof Deno.errors.PermissionDenied)) throw err;
    }
  }
  return fixed;
}
