/**
 * Projections for sync: which of a datasite's files a peer may read, and how
 * that set changes between two permission states (docs/architecture.md invariant 3:
 * a peer receives exactly the files it may read, and loses revoked ones).
 * @module
 */
import type { PermissionEngine } from "./engine.ts";

/** The change in what a peer may read between two permission states. */
export interface ProjectionDiff {
  /** Paths readable after but not before, sorted (publish these). */
  readonly gained: string[];
  /** Paths readable before but not after, sorted (delete these from the peer's mirror). */
  readonly lost: string[];
}

/**
 * The paths among `paths` (datasite-relative files of `owner`'s datasite)
 * that `peer` may read, as given (not re-normalised), in input order.
 *
 * Permission files themselves are included only for a peer with admin on
 * them: the engine raises any check on a `syft.pub.yaml` to admin (step 3).
 * A path the engine denies for any reason (a `.`/`..` segment, `private/`,
 * an invalid governing file) is left out.
 *
 * @example
 * ```ts
 * import { PermissionEngine } from "./engine.ts";
 * const engine = new PermissionEngine();
 * engine.setFile("public", "rules:\n  - pattern: '**'\n    access: {read: ['*']}\n");
 * projectReadable(engine, "alice@x.org", "bob@y.org", ["public/a.csv", "private/b.csv"]);
 * // Set { "public/a.csv" }
 * ```
 */
export function projectReadable(
  engine: PermissionEngine,
  owner: string,
  peer: string,
  paths: Iterable<string>,
): Set<string> {
  const out = new Set<string>();
  for (const path of paths) {
    if (engine.allows(owner, path, peer, "read")) out.add(path);
  }
  return out;
}

/**
 * What a peer gained and lost between two projections (see
 * {@linkcode projectReadable}). Both lists are sorted, so what sync publishes
 * is deterministic.
 *
 * @example
 * ```ts
 * diffProjection(new Set(["a", "b"]), new Set(["b", "c"])); // { gained: ["c"], lost: ["a"] }
 * ```
 */
export function diffProjection(
  before: ReadonlySet<string>,
  after: ReadonlySet<string>,
): ProjectionDiff {
  const gained: string[] = [];
  const lost: string[] = [];
  for (const p of after) if (!before.has(p)) gained.push(p);
  for (const p of before) if (!after.has(p)) lost.push(p);
  return { gained: gained.sort(compareStrings), lost: lost.sort(compareStrings) };
}

/**
 * True when a change to the permission file of `folder` can change the
 * decision for `path`: only paths inside that folder (or the folder itself)
 * are governed by it, so sync can re-project just those after an update.
 *
 * @example
 * ```ts
 * isGovernedSubtree("public", "public/a.csv"); // true
 * isGovernedSubtree("public", "publications/a.csv"); // false
 * isGovernedSubtree("", "anything"); // true
 * ```
 */
export function isGovernedSubtree(folder: string, path: string): boolean {
  const f = folder.split("/").filter((s) => s !== "");
  const p = path.split("/").filter((s) => s !== "");
  if (p.length < f.length) return false;
  for (let i = 0; i < f.length; i++) if (f[i] !== p[i]) return false;
  return true;
}

/** Code-unit order, the same on every machine (localeCompare is not). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
