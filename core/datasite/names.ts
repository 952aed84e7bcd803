/**
 * The datasite's naming rules, in one place: which names are syft's own and
 * never content, and which never travel.
 *
 * - Markers: the `<name>.rejected.<time>` and `<name>.conflict.<time>` copies
 *   a sync leaves for the user ({@linkcode markerName}, {@linkcode isMarker}).
 * - Temps: the `.<name>.tmp-<uuid>` files of atomic writes
 *   ({@linkcode syftTempName}, {@linkcode isSyftTemp}), and the staging folder
 *   {@linkcode STAGING_FOLDER} where incoming contents wait.
 * - Hidden names (a leading dot): left out of jobs and datasets, and the
 *   folders syft keeps for itself ({@linkcode isHiddenName}).
 * - Permission files, `syft.pub.yaml` ({@linkcode isPermissionFile}): the
 *   owner's, never part of a job or a dataset.
 * - The top-level `private/` folder ({@linkcode isPrivatePath}): never opens
 *   to peers, never writable by them.
 *
 * A recogniser matches exactly what its builder writes and nothing else, so a
 * user's `minutes.conflict.2024.md` is content, not a marker.
 * @module
 */

/** What a marker says about the file it keeps. */
export type MarkerKind = "rejected" | "conflict";

/**
 * The time in a marker as this version writes it: UTC to the second, readable
 * (`20261205T011502Z`), then `-2`, `-3`… when that name is taken (two markers
 * of one file in the same second).
 */
const UTC_TIME = "[0-9]{8}T[0-9]{6}Z(?:-[2-9]|-[1-9][0-9]{1,3})?";

/**
 * The time earlier versions wrote, still recognised (markers stay on disk):
 * what `now()` returned, integer milliseconds, written as JavaScript writes a
 * safe integer (no sign, no leading zero, at most 16 digits).
 */
const EPOCH_TIME = "(?:0|[1-9][0-9]{0,15})";

const MARKER = new RegExp(`^(.+)\\.(rejected|conflict)\\.(${UTC_TIME}|${EPOCH_TIME})$`);

/** Highest `-<n>` a marker name takes before giving up on a free one. */
export const MARKER_MAX_SUFFIX = 9999;

/** A UUID as `crypto.randomUUID()` writes it. */
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

const TEMP = new RegExp(`^\\.(.+)\\.tmp-${UUID}$`);

/**
 * The marker that keeps `rel` (a path or a name) aside as `kind` at time `now`
 * (ms); `n` > 1 is the `n`th name for the same second, for when the first is taken.
 *
 * @example
 * ```ts
 * markerName("public/a.csv", "conflict", Date.UTC(2026, 11, 5, 1, 15, 2)); // "public/a.csv.conflict.20261205T011502Z"
 * markerName("a.csv", "rejected", 0, 2); // "a.csv.rejected.19700101T000000Z-2"
 * ```
 */
export function markerName(rel: string, kind: MarkerKind, now: number, n = 1): string {
  const iso = new Date(Math.max(0, Math.trunc(now))).toISOString();
  // 2026-12-05T01:15:02.123Z → 20261205T011502Z (a year past 9999 has no such form: clamped).
  const time = iso.length === 24
    ? `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${
      iso.slice(14, 16)
    }${iso.slice(17, 19)}Z`
    : "99991231T235959Z";
  const suffix = n > 1 ? `-${Math.min(Math.trunc(n), MARKER_MAX_SUFFIX)}` : "";
  return `${rel}.${kind}.${time}${suffix}`;
}

/**
 * The first of `rel`'s marker names for `now` that `taken` says is free;
 * null when all {@linkcode MARKER_MAX_SUFFIX} are taken.
 */
export async function freeMarkerName(
  rel: string,
  kind: MarkerKind,
  now: number,
  taken: (name: string) => Promise<boolean>,
): Promise<string | null> {
  for (let n = 1; n <= MARKER_MAX_SUFFIX; n++) {
    const name = markerName(rel, kind, now, n);
    if (!await taken(name)) return name;
  }
  return null;
}

/**
 * Whether the file name `name` is a marker exactly as {@linkcode markerName} writes it.
 *
 * @example
 * ```ts
 * isMarker("a.csv.conflict.20261205T011502Z"); // true
 * isMarker("a.csv.conflict.1700000000000"); // true: an earlier version's
 * isMarker("minutes.conflict.2024.md"); // false: a user's file
 * ```
 */
export function isMarker(name: string): boolean {
  return MARKER.test(name);
}

/** The temp name beside `name` (a file name, no folder) that an atomic write uses. */
export function syftTempName(name: string): string {
  return `.${name}.tmp-${crypto.randomUUID()}`;
}

/**
 * The name a temp of {@linkcode syftTempName} stands in for, or null when
 * `name` is not exactly such a temp.
 */
export function syftTempTarget(name: string): string | null {
  return TEMP.exec(name)?.[1] ?? null;
}

/** Whether `name` is one of syft's own temp files (never content). */
export function isSyftTemp(name: string): boolean {
  return syftTempTarget(name) !== null;
}

/**
 * Whether `name` is one of the names syft writes beside user files (a marker
 * or a temp): never content, never sent as part of a dataset.
 */
export function isSyftName(name: string): boolean {
  return isSyftTemp(name) || isMarker(name);
}

/**
 * The folder under the root where incoming contents are staged before they
 * are moved into place (inside the root, so renames stay on one file system).
 */
export const STAGING_FOLDER = ".syft-tmp";

/**
 * Whether the file or folder name `name` is hidden (a leading dot). Hidden
 * names never travel in jobs or datasets, and syft's own folders are hidden.
 */
export function isHiddenName(name: string): boolean {
  return name.startsWith(".");
}

/** Name of a permission file (docs/permissions.md). */
export const PERMISSION_FILE = "syft.pub.yaml";

/**
 * Whether the datasite-relative path (or bare name) `path` is a permission file.
 *
 * @example
 * ```ts
 * isPermissionFile("public/syft.pub.yaml"); // true
 * isPermissionFile("public/old.syft.pub.yaml"); // false
 * ```
 */
export function isPermissionFile(path: string): boolean {
  return path === PERMISSION_FILE || path.endsWith(`/${PERMISSION_FILE}`);
}

/** The top-level folder of a datasite that never opens to peers. */
export const PRIVATE_FOLDER = "private";

/**
 * Whether the datasite-relative path `path` is `private/` or lies under it.
 *
 * @example
 * ```ts
 * isPrivatePath("private/ages.csv"); // true
 * isPrivatePath("public/private/x"); // false: only the top-level folder
 * ```
 */
export function isPrivatePath(path: string): boolean {
  return path === PRIVATE_FOLDER || path.startsWith(`${PRIVATE_FOLDER}/`);
}
