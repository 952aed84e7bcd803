/**
 * Applying a batch durably (docs/protocol.md §7, §8): a journal entry first, then the
 * contents (temp + rename), one durability barrier, then the state (index,
 * cursor). A crash at any point is finished by {@linkcode replayJournals}
 * before anything else looks at the folders, so nothing is lost, nothing is
 * applied twice and no half-applied file looks like a local edit.
 * @module
 */
import { posix } from "node:path";
import { SyftError } from "../errors/mod.ts";
import { syncDir, writeFileAtomic } from "../fs/atomic.ts";
import type { FsEntry, FsInfo, LocalFs } from "../fs/local_fs.ts";
import type { Clock } from "../time/clock.ts";
import { Pacer, regularFileHash } from "./scan.ts";
import { freeMarkerName } from "../datasite/names.ts";
import { type ChannelState, saveChannelState, type StateLayout } from "./state.ts";

/** One change to a user folder. `root` is a datasite folder; `rel` stays inside it. */
export type JournalOp =
  | {
    op: "write";
    root: string;
    rel: string;
    staged: string;
    hash: string;
    mode: "file" | "exec";
    /**
     * What the path held when the op was planned (null: nothing). Absent in
     * entries of older versions. On replay, anything else there is the
     * user's edit made while syft was down: kept, never overwritten.
     */
    old?: string | null;
  }
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
  /**
   * The folder `after.mirror` describes (the peer's mirror), if any. Files
   * written there get their mtime recorded in `after.mirror` instead of 0, so
   * the next scan of the mirror (for local edits) need not hash them again.
   */
  mirror?: string | undefined;
}

/**
 * Mirror files keep their mtime in `after.mirror` only when it is at least this
 * old at the rename: file times come from a coarse clock (a few ms), and an
 * edit made within the same tick could otherwise pass for our content. A file
 * staged more recently (a large blob just fetched) is first given an mtime a
 * second or more in the past; any later write sets the current time.
 */
const STAMP_MARGIN_MS = 50;

/** A file written into the mirror, with the size, mtime and inode it was given. */
interface Stamp {
  rel: string;
  hash: string;
  size: number;
  mtime: number;
  ino: number | null;
}

function journalPath(layout: StateLayout, peer: string): string {
  return posix.join(layout.journal, `${peer}.json`);
}

/**
 * The ops of one journal entry run with synchronous fs calls: a batch can hold
 * 10,000 ops of a few calls each, and an asynchronous call's thread-pool round
 * trip costs several times the call itself. Large content is never read here
 * except to compare hashes (see `currentHash`), which stays asynchronous.
 */
class OpRunner {
  /** Datasite or mirror roots already created in this entry. */
  readonly #roots = new Set<string>();
  /**
   * Folders this entry found (or made) real: checked once, not once per file
   * written under them (10,000 files in one folder were 10,000 lstats each).
   * Only a round writes here, under the round lock.
   */
  readonly #realDirs = new Set<string>();
  readonly #mirror: string | undefined;
  readonly #fs: LocalFs;
  readonly #clock: Clock;
  readonly pacer = new Pacer();
  /** Files written into the mirror whose mtime may be recorded, by path. */
  readonly stamps = new Map<string, Stamp>();
  /**
   * Paths an earlier op of this entry puts a file at (a write's target, a
   * rename's destination): its change time may be that op's, before the
   * crash, so it says nothing of the user.
   */
  readonly #placed = new Set<string>();

  /**
   * @param journaledAt Replaying: when the entry was written (its file's
   *   mtime), else null. A rename or delete replays only on a file no one
   *   has changed since.
   */
  constructor(
    mirror: string | undefined,
    fs: LocalFs,
    clock: Clock,
    readonly journaledAt: number | null,
  ) {
    this.#mirror = mirror;
    this.#fs = fs;
    this.#clock = clock;
  }

  /**
   * Make the folders of `rel` under `root`, refusing any component that is a
   * symlink or not a folder: writing through one would leave the datasite.
   */
  ensureRealDirs(root: string, rel: string): void {
    if (!this.#roots.has(root)) {
      // The datasite or mirror folder itself comes from our own config: create it plainly.
      this.#fs.mkdirSync(root, { recursive: true });
      this.#roots.add(root);
    }
    const segments = rel.split("/");
    let dir = root;
    for (let i = 0; i < segments.length - 1; i++) {
      const s = segments[i]!;
      dir = `${dir}/${s}`;
      if (this.#realDirs.has(dir)) continue;
      const info = lstatIfThere(this.#fs, dir);
      if (!info) {
        try {
          this.#fs.mkdirSync(dir);
        } catch (err) {
          if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
          // Made meanwhile: it is checked again next time.
          continue;
        }
        this.#realDirs.add(dir);
        continue;
      }
      if (info.isSymlink || !info.isDirectory) {
        throw new SyftError("E_PERMISSION", `refusing to write ${rel}: ${s} is not a plain folder`);
      }
      this.#realDirs.add(dir);
    }
  }

  /** A later op moved or removed `rel`: what was written there is no longer what is there. */
  #unstamp(root: string, rel: string): void {
    if (root === this.#mirror) this.stamps.delete(rel);
  }

  /**
   * Replaying a write whose path no longer holds what was planned over: the
   * user edited it while syft was down. In a mirror their edit is moved aside
   * as a conflict copy (as a live round does) and the write goes on; in our
   * own datasite the owner's edit is the newer and the write is dropped.
   * False when the write must not run.
   */
  async #keepEditMadeMeanwhile(op: Extract<JournalOp, { op: "write" }>): Promise<boolean> {
    const target = posix.join(op.root, op.rel);
    const now = await currentHash(this.#fs, target);
    if (now === op.old || now === op.hash) return true;
    if (now === null) {
      // Gone, or something that is no file: the planned write goes to a free path only.
      return lstatOrNull(this.#fs, target) === null;
    }
    if (op.root !== this.#mirror) {
      this.#fs.removeSync(op.staged);
      return false;
    }
    const exists = (name: string) =>
      Promise.resolve(lstatOrNull(this.#fs, posix.join(op.root, name)) !== null);
    const copy = await freeMarkerName(op.rel, "conflict", this.#clock.now(), exists);
    if (copy === null) return false;
    this.#unstamp(op.root, op.rel);
    this.#fs.renameSync(target, posix.join(op.root, copy));
    return true;
  }

  get replaying(): boolean {
    return this.journaledAt !== null;
  }

  /**
   * Replaying, whether the file at `info` changed after the entry was written
   * (simulation seed 2010260). A rename or delete that did reach the disk
   * before the crash leaves the path free; if the user then moved the file
   * back (or wrote the same bytes there again), its content matches what the
   * op planned on, and only the inode's change time tells the user's file
   * from ours. The check errs towards running the op: a change time of the
   * same instant (Deno gives it in whole seconds) counts as ours.
   */
  #changedSinceJournaled(target: string, info: FsInfo | null): boolean {
    if (this.journaledAt === null || this.#placed.has(target)) return false;
    const ctime = info?.ctime?.getTime();
    return ctime !== undefined && ctime > this.journaledAt;
  }

  /** Run one op; safe to run again after a crash. Returns the folder it touched. */
  async run(op: JournalOp): Promise<string> {
    if (this.replaying) {
      if (op.op === "write") this.#placed.add(posix.join(op.root, op.rel));
      else if (op.op === "rename") this.#placed.add(posix.join(op.root, op.to));
    }
    return await this.#run(op);
  }

  async #run(op: JournalOp): Promise<string> {
    const target = posix.join(op.root, op.rel);
    const dir = posix.dirname(target);
    if (op.op !== "write") this.#unstamp(op.root, op.rel);
    if (op.op === "rename") this.#unstamp(op.root, op.to);
    switch (op.op) {
      case "rename": {
        const to = posix.join(op.root, op.to);
        if (
          !this.#changedSinceJournaled(target, lstatOrNull(this.#fs, target)) &&
          (await currentHash(this.#fs, target)) === op.hash &&
          (await currentHash(this.#fs, to)) === null
        ) {
          this.ensureRealDirs(op.root, op.to);
          this.#fs.renameSync(target, to);
        }
        return dir;
      }
      case "delete": {
        const info = lstatOrNull(this.#fs, target);
        if (
          info && info.isFile && !this.#changedSinceJournaled(target, info) &&
          (op.hash === null || (await currentHash(this.#fs, target)) === op.hash)
        ) {
          this.#fs.removeSync(target);
        }
        return dir;
      }
      case "write": {
        const staged = lstatOrNull(this.#fs, op.staged);
        if (!staged) {
          // Already renamed into place before a crash: nothing to do if it is there,
          // or if the user has changed it since (theirs is the newer).
          const now = await currentHash(this.#fs, target);
          if (now === op.hash) return dir;
          if (op.old !== undefined && now !== op.old) return dir;
          // Replaying, the staged file is gone only because this op renamed it in
          // (staging is ours alone): what is there now, even nothing, the user made
          // after the crash (simulation seed 505: moved away). Failing here failed
          // every later round.
          if (this.replaying) return dir;
          throw new SyftError("E_INTERNAL", `staged content for ${op.rel} is missing`);
        }
        if (this.replaying && op.old !== undefined && !(await this.#keepEditMadeMeanwhile(op))) {
          return dir;
        }
        this.ensureRealDirs(op.root, op.rel);
        const mode = op.mode === "exec" ? 0o755 : 0o644;
        // Staged files are usually created with this mode already (umask 022).
        if (((staged.mode ?? 0) & 0o7777) !== mode) this.#fs.chmodSync(op.staged, mode);
        let stamp: number | null = null;
        if (op.root === this.#mirror) {
          const mtime = staged.mtime?.getTime() ?? 0;
          const now = this.#clock.now();
          if (mtime > 0 && now - mtime >= STAMP_MARGIN_MS && mtime <= now) {
            stamp = mtime;
          } else {
            const seconds = Math.floor(now / 1000) - 1;
            this.#fs.utimeSync(op.staged, seconds, seconds);
            stamp = seconds * 1000;
          }
        }
        try {
          this.#fs.renameSync(op.staged, target);
        } catch (err) {
          // rename(2) never puts a file over a folder (EISDIR); say so plainly.
          if (lstatOrNull(this.#fs, target)?.isDirectory) {
            throw new SyftError("E_PERMISSION", `refusing to replace folder ${op.rel} with a file`);
          }
          throw err;
        }
        this.#unstamp(op.root, op.rel);
        if (stamp !== null) {
          this.stamps.set(op.rel, {
            rel: op.rel,
            hash: op.hash,
            size: staged.size,
            mtime: stamp,
            ino: staged.ino ?? null,
          });
        }
        return dir;
      }
    }
  }
}

/** `lstat` without following a final symlink; null when nothing is there. */
function lstatIfThere(fs: LocalFs, path: string): FsInfo | null {
  try {
    return fs.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** `lstat`, null on any failure (a path under a file cannot exist either). */
function lstatOrNull(fs: LocalFs, path: string): FsInfo | null {
  try {
    return fs.lstatSync(path);
  } catch {
    return null;
  }
}

/** The hash of a regular file at `path`, null for nothing or anything else. */
async function currentHash(fs: LocalFs, path: string): Promise<string | null> {
  const h = await regularFileHash(path, fs);
  return h === "special" ? null : h;
}

async function finish(
  layout: StateLayout,
  entry: JournalEntry,
  clock: Clock,
  journaledAt: number | null,
): Promise<void> {
  const touched = new Set<string>();
  const runner = new OpRunner(entry.mirror, layout.fs, clock, journaledAt);
  for (const op of entry.ops) {
    touched.add(await runner.run(op));
    await runner.pacer.breathe();
  }
  // The one durability barrier of the batch.
  for (const dir of touched) await syncDir(dir, layout.fs);
  for (const stamp of runner.stamps.values()) {
    const known = entry.after.mirror[stamp.rel];
    // Only where the state records exactly the content this op wrote.
    if (known && known.hash === stamp.hash && known.size === stamp.size) {
      known.mtime = stamp.mtime;
      if (stamp.ino !== null) known.ino = stamp.ino;
      else delete known.ino;
    }
  }
  await saveChannelState(layout, entry.after);
  if (entry.staging) await layout.fs.remove(entry.staging, { recursive: true }).catch(() => {});
  await layout.fs.remove(journalPath(layout, entry.peer)).catch(() => {});
}

/** Staged contents fsynced one by one up to this many; above, one syncfs of their file system. */
const FSYNC_EACH_UP_TO = 16;

/**
 * The staged contents on disk before the journal that renames them in: a
 * file renamed into place is journaled by the file system before its bytes
 * are written back, so after a power cut it could be there and empty
 * (tests/crash/file_sync_crash_test.ts), and an empty file in a mirror reads
 * as our own edit.
 */
async function makeStagedDurable(fs: LocalFs, ops: readonly JournalOp[]): Promise<void> {
  const staged = [...new Set(ops.flatMap((op) => op.op === "write" ? [op.staged] : []))];
  if (staged.length === 0) return;
  if (staged.length > FSYNC_EACH_UP_TO && await fs.syncAll(staged[0]!)) return;
  for (const path of staged) {
    const file = await fs.open(path, { read: true });
    try {
      await file.sync();
    } finally {
      file.close();
    }
  }
}

/** Apply a batch: staged contents made durable, journal, contents, barrier, state. */
export async function applyJournaled(
  layout: StateLayout,
  entry: JournalEntry,
  clock: Clock,
): Promise<void> {
  await makeStagedDurable(layout.fs, entry.ops);
  await layout.fs.mkdir(layout.journal, { recursive: true, mode: 0o700 });
  await writeFileAtomic(journalPath(layout, entry.peer), JSON.stringify(entry), {
    mode: 0o600,
    fs: layout.fs,
  });
  await finish(layout, entry, clock, null);
}

/** Finish every pending journal entry (run first in every round). Returns how many. */
export async function replayJournals(layout: StateLayout, clock: Clock): Promise<number> {
  let n = 0;
  let names: FsEntry[] = [];
  try {
    names = await Array.fromAsync(layout.fs.readDir(layout.journal));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  for (const e of names) {
    if (!e.isFile || !e.name.endsWith(".json")) continue;
    const path = posix.join(layout.journal, e.name);
    const text = await layout.fs.readTextFile(path);
    let entry: JournalEntry;
    try {
      entry = JSON.parse(text) as JournalEntry;
    } catch {
      // A torn journal never started its ops (it is written atomically): drop it.
      await layout.fs.remove(path);
      continue;
    }
    // An entry written at an unknown time replays as before: by content alone.
    const journaledAt = (await layout.fs.lstat(path)).mtime?.getTime() ?? Number.POSITIVE_INFINITY;
    await finish(layout, entry, clock, journaledAt);
    n++;
  }
  return n;
}
