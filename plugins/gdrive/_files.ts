/**
 * Drive file metadata as this plugin asks for it, parsed once from untrusted
 * JSON, plus the query and name rules Drive makes us follow: `q` literals
 * escaped, names re-checked (`name contains` matches word prefixes, and a
 * server may hand back more than asked), and duplicates resolved the same way
 * by every writer.
 * @module
 */
import { isRecord } from "../../core/encoding/record.ts";

/** Drive's folder MIME type. */
export const FOLDER_MIME = "application/vnd.google-apps.folder";

/**
 * The fields we request for a file. Drive returns only what `fields` names, so
 * every field the code reads is listed here.
 */
export const FILE_FIELDS =
  "id,name,size,createdTime,mimeType,parents,owners(emailAddress),appProperties,properties,trashed";

/** A file as we use it. */
export interface DriveFile {
  id: string;
  name: string;
  /** Bytes (0 for folders, which have no size). */
  size: number;
  /** Milliseconds since the epoch (0 when Drive did not say). */
  createdMs: number;
  mimeType: string;
  parents: string[];
  /** Lower-cased owner emails (one in My Drive). */
  owners: string[];
  /** Private to the app that set them (our create marks). */
  appProperties: Record<string, string>;
  /** Visible to every app: what a reader may filter on (never trusted alone). */
  properties: Record<string, string>;
  trashed: boolean;
}

/** Parse one file resource; null when it lacks an id or a name (then it is ignored). */
export function parseFile(value: unknown): DriveFile | null {
  if (!isRecord(value) || typeof value.id !== "string" || typeof value.name !== "string") {
    return null;
  }
  const size = typeof value.size === "string" || typeof value.size === "number"
    ? Number(value.size)
    : 0;
  const created = typeof value.createdTime === "string" ? Date.parse(value.createdTime) : NaN;
  const owners = Array.isArray(value.owners)
    ? value.owners.flatMap((o) =>
      isRecord(o) && typeof o.emailAddress === "string" ? [o.emailAddress.toLowerCase()] : []
    )
    : [];
  return {
    id: value.id,
    name: value.name,
    size: Number.isSafeInteger(size) && size >= 0 ? size : 0,
    createdMs: Number.isNaN(created) ? 0 : created,
    mimeType: typeof value.mimeType === "string" ? value.mimeType : "",
    parents: Array.isArray(value.parents)
      ? value.parents.filter((p): p is string => typeof p === "string")
      : [],
    owners,
    appProperties: stringMap(value.appProperties),
    properties: stringMap(value.properties),
    trashed: value.trashed === true,
  };
}

/** The string entries of a key-value map from Drive (anything else is dropped). */
function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  }
  return out;
}

/** Parse a `files` array, dropping malformed entries. */
export function parseFiles(value: unknown): DriveFile[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v) => {
    const file = parseFile(v);
    return file ? [file] : [];
  });
}

/** A string literal for Drive's `q` syntax: single quotes, `\` and `'` escaped. */
export function qString(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/**
 * The files that really are named `name`, not trashed, and owned by `owner`
 * (when given). Drive's name matching is not ours to trust: `name contains`
 * matches word prefixes, and a server may be case-insensitive.
 */
export function exactlyNamed(files: DriveFile[], name: string, owner?: string): DriveFile[] {
  return files.filter((f) =>
    f.name === name && !f.trashed && (owner === undefined || f.owners.includes(owner))
  );
}

/**
 * Order copies of one name so that every writer agrees on the winner: the
 * earliest created, then the smallest id (two creates in one millisecond).
 */
export function byCreation(a: DriveFile, b: DriveFile): number {
  if (a.createdMs !== b.createdMs) return a.createdMs - b.createdMs;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The copy of a name that counts, or null when there is none. */
export function winner(copies: DriveFile[]): DriveFile | null {
  return [...copies].sort(byCreation)[0] ?? null;
}

/**
 * The outcome of a create once the name's copies are known. `ours` tells our
 * copies apart: the one just created, and any an earlier attempt of the same
 * call made although its answer was lost (a cut connection does not stop
 * the server). We won when the earliest copy is ours; every other copy of
 * ours is a `loser` to delete. A copy we cannot see yet (listings lag) does
 * not count.
 */
export function resolveCreate(
  copies: DriveFile[],
  ours: (file: DriveFile) => boolean,
): { won: boolean; kept: DriveFile | null; losers: string[] } {
  const first = winner(copies);
  const won = first === null || ours(first);
  const kept = won ? first : null;
  const losers = copies.filter((f) => ours(f) && f.id !== kept?.id).map((f) => f.id);
  return { won, kept, losers };
}
