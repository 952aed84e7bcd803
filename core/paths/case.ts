/**
 * Case-insensitive sibling checks.
 *
 * On a case-insensitive file system (macOS and Windows by default) `Data.csv`
 * and `data.csv` are one file, so a peer that proposes `Data.csv` next to an
 * existing `data.csv` would overwrite a file it never named, and two peers'
 * mirrors would disagree about which name exists. Such names are refused
 * instead. The pure comparison is {@linkcode findCaseCollision}; the helpers
 * below feed it from the real file system.
 * @module
 */

/**
 * The key two names share when a case-insensitive file system treats them as one.
 *
 * NFC first, because macOS also folds Unicode normalisation (an NFD `é` and an
 * NFC `é` are one name there).
 */
export function caseFoldKey(name: string): string {
  return name.normalize("NFC").toLowerCase();
}

/**
 * The existing sibling that `name` would collide with on a case-insensitive file system.
 *
 * Returns `undefined` when no sibling differs from `name` only by case, or when
 * `name` itself is among the siblings (then it is the same entry, not a clash).
 *
 * @example
 * ```ts
 * findCaseCollision(["data.csv", "notes.md"], "Data.csv"); // "data.csv"
 * findCaseCollision(["data.csv"], "data.csv"); // undefined
 * ```
 */
export function findCaseCollision(
  existingSiblingNames: Iterable<string>,
  name: string,
): string | undefined {
  const key = caseFoldKey(name);
  let clash: string | undefined;
  for (const sibling of existingSiblingNames) {
    if (sibling === name) return undefined;
    if (clash === undefined && caseFoldKey(sibling) === key) clash = sibling;
  }
  return clash;
}

/**
 * Whether the file system holding `dir` treats names that differ only by case as one.
 *
 * Probes by creating a lower-case temp file in `dir` and stat-ing its upper-cased
 * name; the probe file is always removed. Needs read and write access to `dir`.
 * Call once per root and keep the answer: it costs a create and a remove.
 */
export async function isCaseInsensitiveFs(dir: string): Promise<boolean> {
  const name = `.syft-case-probe-${crypto.randomUUID()}`;
  const probe = `${dir}/${name}`;
  const file = await Deno.open(probe, { createNew: true, write: true });
  file.close();
  try {
    await Deno.lstat(`${dir}/${name.toUpperCase()}`);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  } finally {
    await Deno.remove(probe);
  }
}

/** Lists the names in a folder, or returns `undefined` when it is missing or not a folder. */
export type ListNames = (dir: string) => Promise<readonly string[] | undefined>;

/** Options for {@linkcode checkCaseCollision}. */
export interface CaseCollisionOptions {
  /** How to list a folder; defaults to `Deno.readDir`. Tests and in-memory file systems pass their own. */
  readonly listNames?: ListNames | undefined;
}

/**
 * The existing entry that `path` would collide with by case under `rootDir`, if any.
 *
 * Walks the path's folders from `rootDir` down, reading each with `Deno.readDir`,
 * and stops at the first folder that does not exist yet (nothing below it can
 * clash). Returns the colliding entry as a `/`-separated path relative to
 * `rootDir` (e.g. `"Public"` when `public/data.csv` is asked and `Public/` exists),
 * or `undefined`. Only meaningful on a case-insensitive file system, see
 * {@linkcode isCaseInsensitiveFs}. `path` should already have passed the
 * inbound parser, as a string or a segment list.
 */
export async function checkCaseCollision(
  rootDir: string,
  path: string | readonly string[],
  options: CaseCollisionOptions = {},
): Promise<string | undefined> {
  const segments = typeof path === "string" ? path.split("/") : path;
  const listNames = options.listNames ?? readDirNames;
  let dir = rootDir.endsWith("/") ? rootDir.slice(0, -1) : rootDir;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? "";
    const names = await listNames(dir === "" ? "/" : dir);
    if (names === undefined) return undefined;
    const clash = findCaseCollision(names, segment);
    if (clash !== undefined) return [...segments.slice(0, i), clash].join("/");
    if (!names.includes(segment)) return undefined;
    dir = `${dir}/${segment}`;
  }
  return undefined;
}

/** The default {@linkcode ListNames}: `Deno.readDir`, with a missing folder as `undefined`. */
async function readDirNames(dir: string): Promise<readonly string[] | undefined> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw err;
  }
  return names;
}
