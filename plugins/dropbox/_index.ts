/**
 * What the plugin knows of `/syft`, two levels deep (channel folders and the
 * objects in them), kept current by the one `list_folder` cursor over
 * `/syft`: a listing of a channel costs no call while that cursor says
 * nothing changed (issue 18 item 4). Paths are compared in lower case, as
 * Dropbox compares them.
 * @module
 */
import type { Entry } from "./_entries.ts";

/** Our folder in Dropbox; channel folders live in it. */
export const ROOT = "/syft";

/** The channel folder path and the lower-case name of an entry under `/syft`, or null. */
export function placeOf(pathLower: string): { folder: string; name: string | null } | null {
  if (!pathLower.startsWith(`${ROOT}/`)) return null;
  const rest = pathLower.slice(ROOT.length + 1).split("/");
  if (rest.length === 1 && rest[0]) return { folder: `${ROOT}/${rest[0]}`, name: null };
  if (rest.length === 2 && rest[0] && rest[1]) {
    return { folder: `${ROOT}/${rest[0]}`, name: rest[1] };
  }
  return null; // deeper: never an object
}

/** The listing cache of `/syft`. */
export class FolderIndex {
  /** The cursor the index is current at; null while it holds nothing. */
  cursor: string | null = null;
  /** When the cursor last caught up (ms), for {@linkcode fresh}. */
  fedAt = 0;
  readonly #folders = new Map<string, Entry>();
  readonly #objects = new Map<string, Map<string, Entry>>();

  /** Replace everything with a full listing. */
  reset(entries: Entry[], cursor: string, now = Date.now()): void {
    this.#folders.clear();
    this.#objects.clear();
    this.apply(entries, cursor, now);
  }

  /** Apply a page of changes (in order) and move to `cursor`. */
  apply(entries: Entry[], cursor: string, now = Date.now()): void {
    for (const entry of entries) this.note(entry);
    this.cursor = cursor;
    this.fedAt = now;
  }

  /** Forget everything (a reset cursor). */
  clear(): void {
    this.#folders.clear();
    this.#objects.clear();
    this.cursor = null;
  }

  /** Whether the cursor caught up within the last `ms`. */
  fresh(ms: number, now = Date.now()): boolean {
    return this.cursor !== null && now - this.fedAt <= ms;
  }

  /** Record one entry (a change the cursor reported, or our own write). */
  note(entry: Entry): void {
    const place = placeOf(entry.pathLower);
    if (place === null) return;
    if (place.name === null) {
      if (entry.tag === "deleted" || entry.tag === "file") {
        this.#folders.delete(place.folder);
        this.#objects.delete(place.folder);
      }
      if (entry.tag === "folder") this.#folders.set(place.folder, entry);
      return;
    }
    const objects = this.#objects.get(place.folder) ?? new Map<string, Entry>();
    if (entry.tag === "deleted") objects.delete(place.name);
    else objects.set(place.name, entry);
    this.#objects.set(place.folder, objects);
  }

  /** The folder entry at `folder` (lower case), if the index has it. */
  folder(folder: string): Entry | undefined {
    return this.#folders.get(folder);
  }

  /** The entries directly in `folder` (lower case). */
  entries(folder: string): Entry[] {
    return [...(this.#objects.get(folder)?.values() ?? [])];
  }
}
