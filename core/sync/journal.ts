/**
 * Applying a batch durably (PROTOCOL.md §7, §8): a journal entry first, then the
 * contents (temp + rename), one durability barrier, then the state (index,
 * cursor). A crash at any point is finished by {@linkcode replayJournals}
 * before anything else looks at the folders, so nothing is lost, nothing is
 * applied twice and no half-applied file looks like a local edit.
 * @module
 */
import { posix } from "node:path";
import { SyftError } from "../errors/mod.ts";
import { syncDir, writeFileAtomic } from "../fs/atomic.ts";
import { regularFileHash } from "./scan.ts";
import { type ChannelState, saveChannelState, type StateLayout } from "./state.ts";

/** One change to a user folder. `root` is a datasite folder; `rel` stays inside it. */
export type JournalOp =
  | { op: "write"; root: string; rel: string; staged: string; hash: string; mode: "file" | "exec" }
  | { op: "delete"; root: string; rel: string; hash: string | null }
  | { op: "rename"; root: string; rel: string; to: string; hash: string };

/** A batch's worth of changes and the state to adopt after them. */
export interface JournalEntry {
  peer: string;
  seq: number;
  ops: JournalOp[];
  after: ChannelState;
  /** Folder of staged contents to remove once done. */
  staging: string | null;
}

function journalPath(layout: StateLayout, peer: string): string {
  return posix.join(layout.journal, `${peer}.json`);
}

/**
 * Make the folders of `rel` under `root`, refusing any component that is a
 * symlink or not a folder: writing through one would leave the datasite.
 */
async function ensureRealDirs(root: string, rel: string): Promise<void> {
  // The datasite or mirror folder itself comes from our own config: create it plainly.
  await Deno.mkdir(root, { recursive: true });
  const segments = rel.split("/").slice(0, -1);
  let dir = root;
  for (const s of segments) {
    dir = posix.join(dir, s);
    let info: Deno.FileInfo | undefined;
    try {
      info = await Deno.lstat(dir);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (!info) {
      await Deno.mkdir(dir).catch((err) => {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      });
      continue;
    }
    if (info.isSymlink || !info.isDirectory) {
      throw new SyftError("E_PERMISSION", `refusing to write ${rel}: ${s} is not a plain folder`);
    }
  }
}

/** The hash of a regular file at `path`, null for nothing or anything else. */
async function currentHash(path: string): Promise<string | null> {
  const h = await regularFileHash(path);
  return h === "special" ? null : h;
}

/** Run one op; safe to run again after a crash. Returns the folder it touched. */
async function runOp(op: JournalOp): Promise<string> {
  const target = posix.join(op.root, op.rel);
  const dir = posix.dirname(target);
  switch (op.op) {
    case "rename": {
      const to = posix.join(op.root, op.to);
      if ((await currentHash(target)) === op.hash && (await currentHash(to)) === null) {
        await ensureRealDirs(op.root, op.to);
        await Deno.rename(target, to);
      }
      return dir;
    }
    case "delete": {
      const info = await Deno.lstat(target).catch(() => undefined);
      if (info && info.isFile && (op.hash === null || (await currentHash(target)) === op.hash)) {
        await Deno.remove(target);
      }
      return dir;
    }
    case "write": {
      const staged = await Deno.lstat(op.staged).catch(() => undefined);
      if (!staged) {
        // Already renamed into place before a crash: nothing to do if it is there.
        if ((await currentHash(target)) === op.hash) return dir;
        throw new SyftError("E_INTERNAL", `staged content for ${op.rel} is missing`);
      }
      await ensureRealDirs(op.root, op.rel);
      await Deno.chmod(op.staged, op.mode === "exec" ? 0o755 : 0o644);
      const existing = await Deno.lstat(target).catch(() => undefined);
      if (existing && existing.isDirectory) {
        throw new SyftError("E_PERMISSION", `refusing to replace folder ${op.rel} with a file`);
      }
      await Deno.rename(op.staged, target);
      return dir;
    }
  }
}

async function finish(layout: StateLayout, entry: JournalEntry): Promise<void> {
  const touched = new Set<string>();
  for (const op of entry.ops) touched.add(await runOp(op));
  // The one durability barrier of the batch.
  for (const dir of touched) await syncDir(dir);
  await saveChannelState(layout, entry.after);
  if (entry.staging) await Deno.remove(entry.staging, { recursive: true }).catch(() => {});
  await Deno.remove(journalPath(layout, entry.peer)).catch(() => {});
}

/** Apply a batch: journal, contents, barrier, state. */
export async function applyJournaled(layout: StateLayout, entry: JournalEntry): Promise<void> {
  await Deno.mkdir(layout.journal, { recursive: true, mode: 0o700 });
  await writeFileAtomic(journalPath(layout, entry.peer), JSON.stringify(entry), { mode: 0o600 });
  await finish(layout, entry);
}

/** Finish every pending journal entry (run first in every round). Returns how many. */
export async function replayJournals(layout: StateLayout): Promise<number> {
  let n = 0;
  let names: Deno.DirEntry[] = [];
  try {
    names = await Array.fromAsync(Deno.readDir(layout.journal));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  for (const e of names) {
    if (!e.isFile || !e.name.endsWith(".json")) continue;
    const text = await Deno.readTextFile(posix.join(layout.journal, e.name));
    let entry: JournalEntry;
    try {
      entry = JSON.parse(text) as JournalEntry;
    } catch {
      // A torn journal never started its ops (it is written atomically): drop it.
      await Deno.remove(posix.join(layout.journal, e.name));
      continue;
    }
    await finish(layout, entry);
    n++;
  }
  return n;
}
