/**
 * The one parse function for `syft.pub.yaml` (docs/permissions.md, "The file"):
 * bytes or text in, a typed rule set or a typed error (file, line, reason) out.
 *
 * Fail closed: anything the spec calls invalid, and anything hostile (an alias
 * bomb, a huge file, a runaway rule count), becomes an error; the engine then
 * treats the file as terminal and denies everything it governs.
 *
 * Limits, and why:
 * - {@linkcode MAX_PERMISSION_FILE_BYTES} (256 KiB) is checked on the bytes
 *   before any YAML work, so a 10 MB file is refused in microseconds. The
 *   `yaml` package composes about 1 MB/s, and slower on adversarial nesting,
 *   so this bounds the worst parse to well under a second; real files are a
 *   few hundred bytes, and 256 KiB still holds about 5,000 rules.
 * - {@linkcode MAX_RULES} (10,000): with the size cap it is hard to reach
 *   (rules need about 25 bytes each at least), but it keeps the bound explicit
 *   when a caller raises the size cap. The engine itself handles large rule
 *   sets (it sorts once and tries rules in order), so the cap is a policy,
 *   not a performance crutch.
 * - {@linkcode MAX_ALIASES} (100): the walk below resolves aliases itself and
 *   only descends into the few places the schema has (rules, access lists, of
 *   strings), so an alias bomb cannot expand; the cap still refuses files
 *   that lean on aliases at all heavily, with a clear reason.
 * - Duplicate-key detection is done here with a Set: the `yaml` package's own
 *   `uniqueKeys` check is quadratic (minutes on a 1 MiB map), so it is off.
 *
 * Two readers: a text exactly in the form syft writes is read without the
 * `yaml` package (parse_written.ts); any other text, and every error, goes to
 * the YAML parser (parse_yaml.ts). That one is loaded here, up front, unless
 * the program asked for it on demand (parse_on_demand.ts): then a text that
 * needs it throws {@linkcode PermissionParserNeeded} and
 * {@linkcode withPermissionParser} loads it and runs the work again.
 * @module
 */
import { PERMISSION_FILE } from "../datasite/names.ts";
import { lazyImport } from "../lazy_import.ts";
import { readWrittenPermissionFile } from "./parse_written.ts";
import { PermissionParserNeeded, yamlParserOnDemand } from "./parse_on_demand.ts";

/** Largest permission file parsed, in bytes (UTF-8). */
export const MAX_PERMISSION_FILE_BYTES = 256 * 1024;
/** Most rules one permission file may hold. */
export const MAX_RULES = 10_000;
/** Most alias (`*name`) resolutions in one permission file. */
export const MAX_ALIASES = 100;

/** Who may do what, as written in a rule's `access` map. */
export interface AccessLists {
  /** Entries under `admin` (may also write and read). */
  readonly admin: readonly string[];
  /** Entries under `write` (may also read). */
  readonly write: readonly string[];
  /** Entries under `read`. */
  readonly read: readonly string[];
}

/** One rule of a permission file. */
export interface Rule {
  /** The glob, relative to the file's folder (see glob.ts). */
  readonly pattern: string;
  /** The access lists; absent lists are empty. */
  readonly access: AccessLists;
  /** 1-based line where the rule starts, for messages; 0 when not from a file. */
  readonly line: number;
}

/** A valid permission file. */
export interface RuleSet {
  /** True when deeper permission files are ignored. */
  readonly terminal: boolean;
  /** Rules in file order. */
  readonly rules: readonly Rule[];
}

/** Why a permission file is invalid. */
export interface PermissionFileError {
  /** Datasite-relative path of the file, e.g. `public/syft.pub.yaml`. */
  readonly file: string;
  /** 1-based line of the problem, or null when it concerns the whole file. */
  readonly line: number | null;
  /** The problem, one sentence, no trailing period. */
  readonly reason: string;
}

/** The outcome of {@linkcode parsePermissionFile}. */
export type ParseResult =
  | { readonly ok: true; readonly file: string; readonly ruleSet: RuleSet }
  | { readonly ok: false; readonly file: string; readonly error: PermissionFileError };

/** Limits for {@linkcode parsePermissionFile}; the defaults are the exported constants. */
export interface ParseOptions {
  /** Largest accepted file in bytes. */
  readonly maxBytes?: number;
  /** Most rules accepted. */
  readonly maxRules?: number;
  /** Most alias resolutions accepted. */
  readonly maxAliases?: number;
}

/**
 * Datasite-relative path of the permission file in `folder` (`""` is the
 * datasite root); empty segments in `folder` are dropped.
 *
 * @example
 * ```ts
 * permissionFilePath(""); // "syft.pub.yaml"
 * permissionFilePath("public/"); // "public/syft.pub.yaml"
 * ```
 */
export function permissionFilePath(folder: string): string {
  const clean = folder.split("/").filter((s) => s !== "").join("/");
  return clean === "" ? PERMISSION_FILE : `${clean}/${PERMISSION_FILE}`;
}

/**
 * One line for humans: `public/syft.pub.yaml:3: rule 1 has no "pattern"`.
 */
export function formatPermissionFileError(error: PermissionFileError): string {
  return error.line === null
    ? `${error.file}: ${error.reason}`
    : `${error.file}:${error.line}: ${error.reason}`;
}

type YamlRoute = typeof import("./parse_yaml.ts").parseYamlPermissionText;

let yamlRoute: YamlRoute | undefined;

/** Load the YAML parser for permission files (once). */
export async function loadPermissionParser(): Promise<void> {
  yamlRoute ??= (await lazyImport<typeof import("./parse_yaml.ts")>(
    new URL("./parse_yaml.ts", import.meta.url),
  )).parseYamlPermissionText;
}

if (!yamlParserOnDemand()) await loadPermissionParser();

/**
 * Run `work`; when it needed the YAML parser and that was left to load on
 * demand, load it and run `work` again (so `work` must be safe to repeat).
 * Without on demand, just `work`.
 */
export async function withPermissionParser<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof PermissionParserNeeded)) throw err;
    await loadPermissionParser();
    return await work();
  }
}

export { PermissionParserNeeded };

/** A permission file refused before or while parsing. */
class Invalid {
  constructor(readonly line: number | null, readonly reason: string) {}
}

/**
 * Parse a permission file. `folder` is the datasite-relative folder that
 * holds it (`""` for the root), used to name the file in errors.
 *
 * Never throws on a bad file: every problem is an `{ ok: false }` result.
 * Throws {@linkcode PermissionParserNeeded} only when the YAML parser was
 * left to load on demand and this text needs it.
 *
 * @example
 * ```ts
 * const r = parsePermissionFile("rules:\n  - pattern: '**'\n    access: {read: ['*']}\n", "public");
 * if (r.ok) r.ruleSet.rules[0]?.access.read; // ["*"]
 * else console.error(formatPermissionFileError(r.error));
 * ```
 */
export function parsePermissionFile(
  content: string | Uint8Array,
  folder: string,
  options: ParseOptions = {},
): ParseResult {
  const file = permissionFilePath(folder);
  try {
    return { ok: true, file, ruleSet: parseOrThrow(content, options) };
  } catch (err) {
    if (err instanceof Invalid) {
      return { ok: false, file, error: { file, line: err.line, reason: err.reason } };
    }
    if (err instanceof PermissionParserNeeded) throw err;
    // The yaml package can overflow the stack on deep nesting, and anything
    // else unexpected must still fail closed rather than crash a sync round.
    const reason = err instanceof RangeError
      ? "it nests too deeply to parse"
      : `it could not be parsed (${err instanceof Error ? err.message : String(err)})`;
    return { ok: false, file, error: { file, line: null, reason } };
  }
}

function parseOrThrow(content: string | Uint8Array, options: ParseOptions): RuleSet {
  const maxBytes = options.maxBytes ?? MAX_PERMISSION_FILE_BYTES;
  const maxRules = options.maxRules ?? MAX_RULES;
  const maxAliases = options.maxAliases ?? MAX_ALIASES;
  const tooBig = (size: string) =>
    new Invalid(null, `it is ${size}, more than the ${maxBytes} bytes a permission file may have`);

  let text: string;
  if (typeof content === "string") {
    // UTF-16 code units never outnumber UTF-8 bytes: refuse huge strings before measuring.
    if (content.length > maxBytes) throw tooBig(`at least ${content.length} bytes`);
    const bytes = utf8Length(content);
    if (bytes > maxBytes) throw tooBig(`${bytes} bytes`);
    text = content;
  } else {
    if (content.length > maxBytes) throw tooBig(`${content.length} bytes`);
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(content);
    } catch {
      throw new Invalid(null, "it is not valid UTF-8");
    }
  }

  const written = readWrittenPermissionFile(text, maxRules);
  if (written !== undefined) return written;
  if (yamlRoute === undefined) throw new PermissionParserNeeded();
  const parsed = yamlRoute(text, maxRules, maxAliases);
  if (!parsed.ok) throw new Invalid(parsed.line, parsed.reason);
  return parsed.ruleSet;
}

/** Bytes `s` takes in UTF-8, without allocating (a lone surrogate encodes as 3). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
