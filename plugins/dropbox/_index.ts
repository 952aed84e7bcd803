/**
 * What the plugin knows of its listing scope (`/syft`, or the whole Dropbox
 * when a channel to us is mounted outside `/syft`), kept current by one
 * `list_folder` cursor over that scope: a listing of a channel costs no call
 * while that cursor says nothing changed (issue 18 item 4). Paths are
 * compared in lower case, as Dropbox compares them.
 * @module
 */
import type { Entry } from "./_entries.ts";

/** Our folder in Dropbox; our channel folders live in it. */
export const ROOT = "/syft";

/** Whether `path` (lower case) lies inside listing scope `scope` ("" is everything). */
export function covers(scope: string, path: string): boolean {
  return scope === "" || path.startsWith(`${scope}/`);
}

function parentOf(pathLower: string): string {
  return pathLower.slice(0, Math.max(0, pathLower.lastIndexOf("/")));
}

/** The listing cache of one scope. */
export class FolderIndex {
  /** The cursor the index is current at; null while it holds nothing. */
  cursor: string | null = null;
  /** What the cursor lists: `/syft`, or "" for the whole Dropbox. */
  scope = ROOT;
  /** When the cursor last caught up (ms), for {@linkcode fresh}. */
  fedAt = 0;
  readonly #folders = new Map<string, Entry>();
  readonly #objects = new Map<string, Map<string, Entry>>();

  /** Replace everything with a full listing of `scope`. */
  reset(scope: string, entries: Entry[], cursor: string, now = Date.now()): void {
    this.#folders.clear();
    this.#objects.clear();
    this.scope = scope;
    this.apply(entries, cursor, now);
  }

  /** Apply a page of changes (in order) and move to `cursor`. */
  apply(entries: Entry[], cursor: string, now = Date.now()): void {
    for (const entry of entries) this.note(entry);
    this.cursor = cursor;
    this.fedAt = now;
  }

  /** Make the next {@linkcode fresh} false: the index must catch up before it answers. */
  stale(): void {
    this.fedAt = 0;
  }

  /** Whether the cursor caught up within the last `ms`. */
  fresh(ms: number, now = Date.now()): boolean {
    return this.cursor !== null && now - this.fedAt <= ms;
  }

  /** Record one entry (a change the cursor reported, or our own write). */
  note(entry: Entry): void {
    const path = entry.pathLower;
    if (entry.tag !== "file") {
      // A deleted or replaced folder takes everything under it along.
      for (const key of [...this.#objects.keys()]) {
        if (key === path || key.startsWith(`${path}/`)) this.#objects.delete(key);
      }
      for (const key of [...this.#folders.keys()]) {
        if (key.startsWith(`${path}/`)) this.#folders.delete(key);
      }
    }
    if (entry.tag === "folder") this.#folders.set(path, entry);
    else this.#folders.delete(path);
    const parent = parentOf(path);
    const name = path.slice(parent.length + 1);
    const objects = this.#objects.get(parent) ?? new Map<string, Entry>();
    if (entry.tag === "deleted") objects.delete(name);
    else objects.set(name, entry);
    if (objects.size === 0) this.#objects.delete(parent);
    else this.#objects.set(parent, objects);
  }

  /** The folder entry at `path` (lower case), if the index has it. */
  folder(path: string): Entry | undefined {
    return this.#folders.get(path);
  }

  /** The entries directly in `folder` (lower case). */
  entries(folder: string): Entry[] {
    return [...(this.#objects.get(folder)?.values() ?? [])];
  }
}
