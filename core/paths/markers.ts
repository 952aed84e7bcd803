/**
 * Every name syft itself writes beside user files, built and recognised in one
 * place: the `<name>.rejected.<time>` and `<name>.conflict.<time>` markers a
 * sync leaves for the user, and the `.<name>.tmp-<uuid>` temps of atomic
 * writes. A recogniser matches exactly what its builder writes and nothing
 * else, so a user's `minutes.conflict.2024.md` is content, not a marker.
 * @module
 */

/** What a marker says about the file it keeps. */
export type MarkerKind = "rejected" | "conflict";

/**
 * The time in a marker: what `now()` returned, integer milliseconds, written
 * as JavaScript writes a safe integer (no sign, no leading zero, at most 16 digits).
 */
const TIME = "(?:0|[1-9][0-9]{0,15})";

const MARKER = new RegExp(`^(.+)\\.(rejected|conflict)\\.(${TIME})$`);

/** A UUID as `crypto.randomUUID()` writes it. */
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

const TEMP = new RegExp(`^\\.(.+)\\.tmp-${UUID}$`);

/**
 * The marker that keeps `rel` (a path or a name) aside as `kind` at time `now`.
 *
 * @example
 * ```ts
 * markerName("public/a.csv", "conflict", 1_700_000_000_000); // "public/a.csv.conflict.1700000000000"
 * ```
 */
export function markerName(rel: string, kind: MarkerKind, now: number): string {
  return `${rel}.${kind}.${Math.max(0, Math.trunc(now))}`;
}

/**
 * Whether the file name `name` is a marker exactly as {@linkcode markerName} writes it.
 *
 * @example
 * ```ts
 * isMarker("a.csv.conflict.1700000000000"); // true
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
