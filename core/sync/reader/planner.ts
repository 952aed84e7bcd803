/**
 * The plan of one received object: the journal ops it needs, over a view of
 * the disk that planned changes overlay, so several events on one path see
 * each other and none writes through a folder, a symlink or a second name.
 * @module
 */
import { posix } from "node:path";
import type { FileChangeEvent } from "../../events/types.ts";
import type { LocalFs } from "../../fs/local_fs.ts";
import { caseFoldKey } from "../../paths/case.ts";
import type { JournalOp } from "../journal.ts";
import { regularFileHash } from "../scan.ts";

/** What the plan knows of one root (our datasite, or a peer's mirror). */
interface RootPlan {
  /** Planned content per file path: a hash, or null when planned away. */
  view: Map<string, string | null>;
  /** Folders planned writes need: case-folded path → the path as written. */
  dirs: Map<string, string>;
  /** Files planned: case-folded path → the path as written. */
  files: Map<string, string>;
  /**
   * Folders read from disk: path ("" for the root) → entries by case-folded
   * name; null when it is no folder there. Disk is fixed while planning.
   */
  listings: Map<string, Map<string, DiskEntry[]> | null>;
}

interface DiskEntry {
  name: string;
  /** A real folder (a symlink to one is not). */
  dir: boolean;
}

/** What is at a path, as the plan sees it. */
export type Here = string | null | "special" | { clash: string };

/**
 * Plan the ops of one batch. Each root's view overlays planned changes on the
 * disk so several events on one path in a batch see each other.
 *
 * Memory stays proportional to the batch's own paths: a folder prefix is kept
 * as a slice of its path (no copy), and disk folders are read once each, so
 * deep or numerous paths cost no per-segment copies or per-segment lstat.
 */
export class Planner {
  ops: JournalOp[] = [];
  readonly #roots = new Map<string, RootPlan>();
  #n = 0;
  /** How many events of the object may write each content: a content written once moves, not links. */
  readonly #uses = new Map<string, number>();

  constructor(
    readonly fs: LocalFs,
    readonly staging: string,
    events: readonly FileChangeEvent[],
    readonly fetch: (hash: string, size: number, event: string) => Promise<void>,
  ) {
    for (const ev of events) {
      if (ev.new_hash !== null) this.#uses.set(ev.new_hash, (this.#uses.get(ev.new_hash) ?? 0) + 1);
    }
  }

  #plan(root: string): RootPlan {
    let plan = this.#roots.get(root);
    if (!plan) {
      plan = { view: new Map(), dirs: new Map(), files: new Map(), listings: new Map() };
      this.#roots.set(root, plan);
    }
    return plan;
  }

  /** The entries of disk folder `dir` (relative to `root`), read once. */
  #listing(root: string, plan: RootPlan, dir: string): Map<string, DiskEntry[]> | null {
    let listing = plan.listings.get(dir);
    if (listing !== undefined) return listing;
    listing = null;
    try {
      const byKey = new Map<string, DiskEntry[]>();
      for (const e of this.fs.readDirSync(dir === "" ? root : posix.join(root, dir))) {
        const key = caseFoldKey(e.name);
        const entry = { name: e.name, dir: e.isDirectory };
        const same = byKey.get(key);
        if (same) same.push(entry);
        else byKey.set(key, [entry]);
      }
      listing = byKey;
    } catch {
      // Missing, or not a folder: nothing can be found under it.
    }
    plan.listings.set(dir, listing);
    return listing;
  }

  /**
   * What is at `rel` under `root`: its hash, null when nothing, "special" when
   * it is not a regular file or lies under one (on disk or planned) or is a
   * folder planned writes need, and a clash when it differs only by case or
   * Unicode normalisation from an existing or planned different path, which
   * a case-insensitive or normalising file system would take for the same one.
   *
   * A "special" path planned as an op would fail inside the journal, and a
   * failing journal entry is retried, and fails, at the start of every later
   * round: one such event (a hostile peer's, or a file replaced by a folder of
   * the same name) wedged the receiver for good.
   */
  async hash(root: string, rel: string): Promise<Here> {
    const plan = this.#plan(root);
    const folded = caseFoldKey(rel);
    let onDisk = true; // the parent folder exists on disk as a real folder
    let end = -1;
    let fend = -1;
    for (;;) {
      const start = end + 1;
      const fstart = fend + 1;
      end = rel.indexOf("/", start);
      fend = folded.indexOf("/", fstart);
      const last = end === -1;
      if (last !== (fend === -1)) break; // folding moved a "/": no case rule can apply
      const prefix = last ? rel : rel.slice(0, end);
      const fprefix = last ? folded : folded.slice(0, fend);
      const planned = plan.view.get(prefix);
      const plannedDir = plan.dirs.get(fprefix);
      if (!last && typeof planned === "string") return "special"; // a file planned there
      if (last && plannedDir === prefix) return "special"; // a folder planned there
      if (plannedDir !== undefined && plannedDir !== prefix) return { clash: plannedDir };
      const plannedFile = plan.files.get(fprefix);
      if (plannedFile !== undefined && plannedFile !== prefix) return { clash: plannedFile };
      if (onDisk) {
        const parent = start === 0 ? "" : rel.slice(0, start - 1);
        const name = last ? rel.slice(start) : rel.slice(start, end);
        const entries = this.#listing(root, plan, parent)?.get(
          last ? folded.slice(fstart) : folded.slice(fstart, fend),
        ) ?? [];
        const exact = entries.find((e) => e.name === name);
        if (!exact) {
          const other = entries.find((e) =>
            plan.view.get(parent === "" ? e.name : `${parent}/${e.name}`) !== null
          );
          if (other) return { clash: parent === "" ? other.name : `${parent}/${other.name}` };
          onDisk = false; // nothing below a missing name is on disk
        } else if (!last && !exact.dir) {
          if (planned !== null) return "special"; // a file or symlink where a folder should be
          onDisk = false; // planned away: free once that op ran
        } else if (!last && planned === null) onDisk = false;
      }
      if (last) break;
    }
    if (plan.view.has(rel)) return plan.view.get(rel)!;
    return onDisk ? await regularFileHash(posix.join(root, rel), this.fs) : null;
  }

  #setFile(plan: RootPlan, rel: string, hash: string | null): void {
    plan.view.set(rel, hash);
    const key = caseFoldKey(rel);
    if (hash !== null) plan.files.set(key, rel);
    else if (plan.files.get(key) === rel) plan.files.delete(key);
  }

  #needDirs(plan: RootPlan, rel: string): void {
    const folded = caseFoldKey(rel);
    let end = rel.indexOf("/");
    let fend = folded.indexOf("/");
    while (end !== -1 && fend !== -1) {
      const fprefix = folded.slice(0, fend);
      if (!plan.dirs.has(fprefix)) plan.dirs.set(fprefix, rel.slice(0, end));
      end = rel.indexOf("/", end + 1);
      fend = folded.indexOf("/", fend + 1);
    }
  }

  /**
   * `old` is what the path holds as planned (null: nothing), so a replay
   * after a crash can tell a user's edit made meanwhile (core/sync/journal.ts).
   * A content that only this write can use is renamed into place as staged;
   * one that several events may write gets a staged copy per write. Not a hard
   * link: paths that share an inode change together when the user edits one
   * of them in place. A blob is fetched here, the first time a write needs it.
   */
  async write(
    root: string,
    rel: string,
    ev: FileChangeEvent & { new_hash: string },
    old: string | null,
  ): Promise<void> {
    const hash = ev.new_hash;
    await this.fetch(hash, ev.size, ev.id);
    let staged = posix.join(this.staging, hash);
    if ((this.#uses.get(hash) ?? 0) !== 1) {
      staged = posix.join(this.staging, `op-${this.#n++}`);
      this.fs.copyFileSync(posix.join(this.staging, hash), staged);
    }
    this.ops.push({ op: "write", root, rel, staged, hash, mode: ev.mode, old });
    const plan = this.#plan(root);
    this.#setFile(plan, rel, hash);
    this.#needDirs(plan, rel);
  }

  remove(root: string, rel: string, hash: string | null): void {
    this.ops.push({ op: "delete", root, rel, hash });
    this.#setFile(this.#plan(root), rel, null);
  }

  rename(root: string, rel: string, to: string, hash: string): void {
    this.ops.push({ op: "rename", root, rel, to, hash });
    const plan = this.#plan(root);
    this.#setFile(plan, rel, null);
    this.#setFile(plan, to, hash);
    this.#needDirs(plan, to);
  }
}
