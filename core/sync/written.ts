/**
 * Mirror files a round's journal just wrote, each with the size, mtime and
 * inode the state now records for it, so the same round's scan of that mirror
 * (for local edits, core/sync/propose.ts) takes those records as they are
 * instead of an lstat each: a first sync of 10,000 files paid 10,000 lstats
 * there for files renamed into place moments before.
 *
 * An edit a user makes between the rename and that scan is not lost: the
 * record still holds our stamp, so the next round's scan (which lstats every
 * file again) sees the new mtime, size or inode and proposes it. Kept per
 * round (the round's context holds one), so a later round never trusts it.
 * @module
 */

/** What the state records of a file the journal wrote. */
export interface WrittenStamp {
  size: number;
  mtime: number;
  ino: number | null;
}

/** Per mirror root, the files this round's journal entries wrote and stamped. */
export class WrittenFiles {
  readonly #byRoot = new Map<string, Map<string, WrittenStamp>>();

  /**
   * One journal entry ran on `root`: the paths its ops touched are no longer
   * what an earlier entry wrote, and the files it stamped are now.
   */
  note(
    root: string,
    touched: Iterable<string>,
    stamped: Iterable<readonly [string, WrittenStamp]>,
  ): void {
    let files = this.#byRoot.get(root);
    if (!files) {
      files = new Map();
      this.#byRoot.set(root, files);
    }
    for (const rel of touched) files.delete(rel);
    for (const [rel, stamp] of stamped) files.set(rel, stamp);
  }

  /** The files written under `root`, handed over once (a second scan lstats them). */
  take(root: string): ReadonlyMap<string, WrittenStamp> | undefined {
    const files = this.#byRoot.get(root);
    this.#byRoot.delete(root);
    return files;
  }
}
