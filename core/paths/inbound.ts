/**
 * The strict inbound path parser: the one gate every datasite path from outside
 * (a sync event, a job folder, a dataset file) passes before it names a file.
 *
 * A path that passes is a {@linkcode DatasitePath}: a relative, `/`-separated
 * path of non-empty segments, none `.` or `..`, with no backslash, no control
 * character and no invalid Unicode, at most 255 UTF-8 bytes per segment,
 * 64 segments and 4096 bytes in all. Such a path cannot leave the folder it is joined onto, so
 * {@linkcode resolveInside} needs no normalisation. The parser never rewrites:
 * it accepts the string as it is or refuses it, so what a peer named is exactly
 * what gets written, and two different strings never land on one file (on a
 * case-sensitive file system; see `case.ts` for the others).
 * @module
 */
import { posix } from "node:path";
import { SyftError } from "../errors/mod.ts";
import { codePointName, isControl, isHighSurrogate, isLowSurrogate, utf8Length } from "./_text.ts";
import { quote } from "../encoding/quote.ts";
import { checkCaseCollision, findCaseCollision, type ListNames } from "./case.ts";

/** Longest inbound path, in UTF-8 bytes (Linux's PATH_MAX). */
export const MAX_PATH_BYTES = 4096;

/**
 * Most segments of an inbound path. Work per event grows with its depth (one
 * folder per segment to check and create), so a peer's deep paths cost the
 * reader before anything is judged; no real datasite nests deeper.
 */
export const MAX_PATH_SEGMENTS = 64;

/** Longest segment of an inbound path, in UTF-8 bytes (NAME_MAX of common file systems). */
export const MAX_SEGMENT_BYTES = 255;

declare const datasitePathBrand: unique symbol;

/**
 * A datasite-relative path that passed {@linkcode parseInboundPath}.
 *
 * It is the very string that was parsed, branded so the type checker keeps
 * unchecked strings out: it works as a `Map` key, compares with `===` and goes
 * into JSON as is. {@linkcode segmentsOf} splits it. Only this module creates
 * one; never cast a string to it.
 */
export type DatasitePath = string & { readonly [datasitePathBrand]: true };

/** Which rule refused an inbound path; stable, for callers that react per rule. */
export type InboundPathRule =
  | "empty"
  | "too-long"
  | "too-deep"
  | "invalid-unicode"
  | "control-character"
  | "backslash"
  | "absolute"
  | "drive-letter"
  | "empty-segment"
  | "dot-segment"
  | "segment-too-long"
  | "case-collision";

/** The answer of {@linkcode checkInboundPath}. */
export type InboundPathCheck =
  | { readonly ok: true; readonly path: DatasitePath }
  | {
    readonly ok: false;
    /** The rule that refused it. */
    readonly rule: InboundPathRule;
    /** Why, as a clause that completes "… is not a valid datasite path: ", e.g. `it has a ".." segment`. */
    readonly reason: string;
  };

/**
 * Names already in a datasite folder, for the case-collision check.
 *
 * `parent` is the folder as segments relative to the datasite root (`[]` for the
 * root itself). Return `undefined` when that folder does not exist.
 */
export type SiblingLookup = (parent: readonly string[]) => Iterable<string> | undefined;

/** Options for {@linkcode parseInboundPath} and {@linkcode checkInboundPath}. */
export interface InboundPathOptions {
  /** What the path is, for messages (e.g. `"event path"`); default `"path"`. */
  readonly what?: string | undefined;
  /**
   * Enables the case-collision check: set it when the datasite lives on a
   * case-insensitive file system (see `isCaseInsensitiveFs`), and a segment that
   * differs only by case from an existing sibling is refused.
   */
  readonly siblings?: SiblingLookup | undefined;
}

/** Hint shown with every refusal but a case collision. */
const PATH_HINT =
  'a datasite path is relative and "/"-separated, without ".", ".." or empty segments, backslashes or control characters';

/** Hint shown with a case collision. */
const CASE_HINT =
  "on this file system names that differ only by case are one file; pick another name";

/**
 * Check an outside string against the inbound path rules, without throwing.
 *
 * @example
 * ```ts
 * checkInboundPath("public/data.csv"); // { ok: true, path: "public/data.csv" }
 * checkInboundPath("public/../x"); // { ok: false, rule: "dot-segment", reason: "it climbs out with \"..\"" }
 * ```
 */
export function checkInboundPath(raw: string, options: InboundPathOptions = {}): InboundPathCheck {
  if (raw.length === 0) return refuse("empty", "it is empty");
  // A UTF-16 code unit is never fewer UTF-8 bytes, so this bounds the work
  // before the scan below even for a hostile multi-megabyte string.
  if (raw.length > MAX_PATH_BYTES) {
    return refuse("too-long", `it is longer than ${MAX_PATH_BYTES} bytes`);
  }
  let bytes = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (isControl(c)) {
      const what = c === 0
        ? "a NUL character (U+0000)"
        : `the control character ${codePointName(c)}`;
      return refuse("control-character", `it contains ${what} at index ${i}`);
    }
    if (c === 0x5c) return refuse("backslash", `it contains a backslash at index ${i}`);
    if (isHighSurrogate(c) && isLowSurrogate(raw.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else if (isHighSurrogate(c) || isLowSurrogate(c)) {
      return refuse(
        "invalid-unicode",
        `it contains a lone surrogate ${codePointName(c)} at index ${i}`,
      );
    } else bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  if (bytes > MAX_PATH_BYTES) {
    return refuse("too-long", `it is ${bytes} bytes long, more than ${MAX_PATH_BYTES}`);
  }
  if (raw.startsWith("/")) return refuse("absolute", 'it is absolute (starts with "/")');
  if (/^[A-Za-z]:/.test(raw)) {
    return refuse("drive-letter", `it starts with the drive letter ${quote(raw.slice(0, 2))}`);
  }
  // Counted before splitting, so a hostile path never becomes thousands of strings.
  let slashes = 0;
  for (let i = raw.indexOf("/"); i !== -1; i = raw.indexOf("/", i + 1)) slashes++;
  if (slashes + 1 > MAX_PATH_SEGMENTS) {
    return refuse(
      "too-deep",
      `it has ${slashes + 1} segments, more than ${MAX_PATH_SEGMENTS}`,
    );
  }
  const segments = raw.split("/");
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? "";
    if (segment === "") {
      return i === segments.length - 1
        ? refuse("empty-segment", 'it ends with "/"')
        : refuse("empty-segment", 'it has an empty segment ("//")');
    }
    if (segment === "..") return refuse("dot-segment", 'it climbs out with ".."');
    if (segment === ".") return refuse("dot-segment", 'it has a "." segment');
    const segmentBytes = utf8Length(segment);
    if (segmentBytes > MAX_SEGMENT_BYTES) {
      return refuse(
        "segment-too-long",
        `segment ${i + 1} is ${segmentBytes} bytes long, more than ${MAX_SEGMENT_BYTES}`,
      );
    }
  }
  if (options.siblings !== undefined) {
    const clash = findSiblingCollision(segments, options.siblings);
    if (clash !== undefined) return clash;
  }
  return { ok: true, path: raw as DatasitePath };
}

/**
 * Parse an outside string into a {@linkcode DatasitePath}, or throw.
 *
 * @example
 * ```ts
 * parseInboundPath("app_data/job/inbox/a@b.org/x/run.sh"); // accepted as is
 * parseInboundPath("../etc/passwd"); // throws E_INPUT
 * ```
 * @throws {SyftError} `E_INPUT` naming the path and the rule it breaks.
 */
export function parseInboundPath(raw: string, options: InboundPathOptions = {}): DatasitePath {
  const check = checkInboundPath(raw, options);
  if (check.ok) return check.path;
  throw refusalError(raw, check, options.what);
}

/** Options for {@linkcode parseInboundPathAt}. */
export interface InboundPathAtOptions {
  /** What the path is, for messages (e.g. `"event path"`); default `"path"`. */
  readonly what?: string | undefined;
  /** Run the case-collision check against the folders on disk (the answer of `isCaseInsensitiveFs`). */
  readonly caseInsensitive: boolean;
  /** How to list a folder; defaults to `Deno.readDir`. */
  readonly listNames?: ListNames | undefined;
}

/**
 * Parse an outside string bound for the datasite at `rootDir`, checking real folders for case clashes.
 *
 * The same as {@linkcode parseInboundPath}, plus, when `caseInsensitive`, a walk
 * of the path's existing folders under `rootDir` that refuses a segment differing
 * only by case from an existing entry.
 * @throws {SyftError} `E_INPUT` naming the path and the rule it breaks.
 */
export async function parseInboundPathAt(
  rootDir: string,
  raw: string,
  options: InboundPathAtOptions,
): Promise<DatasitePath> {
  const path = parseInboundPath(raw, { what: options.what });
  if (!options.caseInsensitive) return path;
  const clash = await checkCaseCollision(rootDir, path, { listNames: options.listNames });
  if (clash === undefined) return path;
  throw refusalError(raw, caseRefusal(clash), options.what);
}

/** The segments of a parsed path: never empty, none empty, none `.` or `..`. */
export function segmentsOf(path: DatasitePath): readonly string[] {
  return path.split("/");
}

/**
 * Join a parsed path onto an absolute POSIX folder; the result is always inside it.
 *
 * Purely lexical: it does not look at the disk, so a symlink inside `root` is
 * the caller's to refuse (sync never writes through one).
 *
 * @example
 * ```ts
 * resolveInside("/home/a/SyftBox/a@b.org", parseInboundPath("public/x.csv"));
 * // "/home/a/SyftBox/a@b.org/public/x.csv"
 * ```
 * @throws {SyftError} `E_INTERNAL` when `root` is not absolute or `path` was cast rather than parsed.
 */
export function resolveInside(root: string, path: DatasitePath): string {
  if (!root.startsWith("/")) {
    throw new SyftError("E_INTERNAL", `datasite root ${quote(root)} is not an absolute path`);
  }
  // The brand is only a compile-time promise; a cast could forge it, and this is
  // the last step before a write, so check again (cheap: paths are short).
  const check = checkInboundPath(path);
  if (!check.ok) {
    throw new SyftError(
      "E_INTERNAL",
      `path ${quote(path)} reached resolveInside() without being parsed: ${check.reason}`,
    );
  }
  const base = posix.normalize(root).replace(/\/+$/, "");
  return `${base}/${path}`;
}

/** A refusal. */
function refuse(rule: InboundPathRule, reason: string): InboundPathCheck {
  return { ok: false, rule, reason };
}

/** The refusal for a clash with the existing entry `existing` (a datasite-relative path). */
function caseRefusal(existing: string): InboundPathCheck & { ok: false } {
  return {
    ok: false,
    rule: "case-collision",
    reason: `it differs only by case from the existing ${quote(existing)}`,
  };
}

/** Walk the path's folders through `siblings` and report the first case clash. */
function findSiblingCollision(
  segments: readonly string[],
  siblings: SiblingLookup,
): InboundPathCheck | undefined {
  for (let i = 0; i < segments.length; i++) {
    const names = siblings(segments.slice(0, i));
    if (names === undefined) return undefined;
    const clash = findCaseCollision(names, segments[i] ?? "");
    if (clash !== undefined) return caseRefusal([...segments.slice(0, i), clash].join("/"));
  }
  return undefined;
}

/** The error thrown for a refused path. */
function refusalError(
  raw: string,
  check: InboundPathCheck & { ok: false },
  what = "path",
): SyftError {
  return new SyftError(
    "E_INPUT",
    `${what} ${quote(raw)} is not a valid datasite path: ${check.reason}`,
    {
      hint: check.rule === "case-collision" ? CASE_HINT : PATH_HINT,
    },
  );
}
