/**
 * `files.list` ordering and paging: `orderBy` keys, and page tokens that
 * remember where a page ended, so files added meanwhile neither repeat nor
 * vanish from later pages.
 * @module
 */
import { invalidParameter } from "./_errors.ts";
import { FOLDER, type StoredFile } from "./_store.ts";

/** Sort keys of `files.list`'s `orderBy`. */
export interface SortKey {
  field: string;
  desc: boolean;
}
const ORDER_FIELDS = new Set([
  "createdTime",
  "folder",
  "modifiedByMeTime",
  "modifiedTime",
  "name",
  "name_natural",
  "quotaBytesUsed",
  "recency",
  "sharedWithMeTime",
  "starred",
  "viewedByMeTime",
]);

/** Parse `orderBy`: keys Drive knows, each optionally `desc`. */
export function parseOrderBy(text: string | null): SortKey[] {
  if (text === null || text.trim() === "") return [];
  return text.split(",").map((part) => {
    const [field, dir, extra] = part.trim().split(/\s+/);
    if (!field || !ORDER_FIELDS.has(field) || extra !== undefined || (dir && dir !== "desc")) {
      throw invalidParameter("orderBy", `Invalid field selection ${part.trim()}`);
    }
    return { field, desc: dir === "desc" };
  });
}

/** What a page token remembers: the listing it belongs to and the last item shown. */
export interface Snapshot {
  id: string;
  name: string;
  createdTime: string;
  modifiedTime: string;
  folder: boolean;
  starred: boolean;
}

/** The sort values of a file. */
export function snapshot(f: StoredFile): Snapshot {
  return {
    id: f.id,
    name: f.name,
    createdTime: f.createdTime,
    modifiedTime: f.modifiedTime,
    folder: f.mimeType === FOLDER,
    starred: f.starred,
  };
}

/** A total order for `keys`, ties broken by id. */
export function comparator(keys: SortKey[]): (a: Snapshot, b: Snapshot) => number {
  return (a, b) => {
    for (const k of keys) {
      let c = 0;
      switch (k.field) {
        case "createdTime":
          c = a.createdTime.localeCompare(b.createdTime);
          break;
        case "modifiedTime":
        case "recency":
          c = a.modifiedTime.localeCompare(b.modifiedTime);
          break;
        case "name":
          c = a.name.toLowerCase() < b.name.toLowerCase()
            ? -1
            : a.name.toLowerCase() > b.name.toLowerCase()
            ? 1
            : 0;
          break;
        case "name_natural":
          c = a.name.localeCompare(b.name, "en", { numeric: true, sensitivity: "base" });
          break;
        case "folder":
          c = Number(b.folder) - Number(a.folder);
          break;
        case "starred":
          c = Number(b.starred) - Number(a.starred);
          break;
      }
      if (c !== 0) return k.desc ? -c : c;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

/** An opaque page token. */
export function encodeToken(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Read a page token back; a malformed one is a 400 on `pageToken`. */
export function decodeToken(token: string): unknown {
  try {
    const b64 = token.replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)));
  } catch {
    throw invalidParameter("pageToken");
  }
}
