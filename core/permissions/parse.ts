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
 * @module
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from "yaml";
import { PERMISSION_FILE } from "../datasite/names.ts";
import { findForeignTemplate } from "./glob.ts";

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

/** A permission file refused before or while parsing. */
class Invalid {
  constructor(readonly line: number | null, readonly reason: string) {}
}

/**
 * Parse a permission file. `folder` is the datasite-relative folder that
 * holds it (`""` for the root), used to name the file in errors.
 *
 * Never throws: every problem is an `{ ok: false }` result.
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

  const lineCounter = new LineCounter();
  // uniqueKeys is quadratic in the yaml package; duplicates are caught in the walk.
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: false,
    prettyErrors: false,
    logLevel: "error",
  });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0].line ?? lineCounter.linePos(first.pos[0]).line;
    throw new Invalid(line, `it is not valid YAML: ${firstLine(first.message)}`);
  }
  return new Walker(doc, lineCounter, maxRules, maxAliases).ruleSet();
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

function firstLine(message: string): string {
  const cut = message.split("\n")[0] ?? message;
  return cut.replace(/ at line \d+, column \d+:?$/, "").replace(/[.:]$/, "");
}

/** Walks the composed YAML nodes of the schema, with line numbers for every complaint. */
class Walker {
  #aliases = 0;

  constructor(
    readonly doc: Document,
    readonly lines: LineCounter,
    readonly maxRules: number,
    readonly maxAliases: number,
  ) {}

  ruleSet(): RuleSet {
    const root = this.#deref(this.doc.contents);
    // An empty file (or only comments, or a bare `~`) grants nothing.
    if (root === null || (isScalar(root) && root.value === null)) {
      return { terminal: false, rules: [] };
    }
    if (!isMap(root)) {
      throw new Invalid(this.#line(root), "the file must be a mapping with `terminal` and `rules`");
    }
    const fields = this.#fields(root, "the file");
    let terminal = false;
    const t = fields.get("terminal");
    if (t !== undefined) {
      const v = this.#deref(t.value);
      if (!isScalar(v) || typeof v.value !== "boolean") {
        throw new Invalid(this.#line(v ?? t.key), "`terminal` must be true or false");
      }
      terminal = v.value;
    }
    const rules: Rule[] = [];
    const r = fields.get("rules");
    if (r !== undefined) {
      const seq = this.#deref(r.value);
      if (!isSeq(seq)) {
        throw new Invalid(this.#line(seq ?? r.key), "`rules` must be a list of rules");
      }
      if (seq.items.length > this.maxRules) {
        throw new Invalid(
          this.#line(seq),
          `it has ${seq.items.length} rules, more than the ${this.maxRules} a permission file may have`,
        );
      }
      seq.items.forEach((item, i) => rules.push(this.#rule(item, i + 1, seq)));
    }
    return { terminal, rules };
  }

  #rule(item: unknown, n: number, parent: Node): Rule {
    const node = this.#deref(item);
    const line = this.#line(node ?? parent);
    if (!isMap(node)) {
      throw new Invalid(line, `rule ${n} must be a mapping with pattern and access`);
    }
    const fields = this.#fields(node, `rule ${n}`);
    const p = fields.get("pattern");
    if (p === undefined) throw new Invalid(line, `rule ${n} has no \`pattern\``);
    const pv = this.#deref(p.value);
    if (!isScalar(pv) || typeof pv.value !== "string") {
      throw new Invalid(this.#line(pv ?? p.key), `rule ${n}: \`pattern\` must be a string`);
    }
    const pattern = pv.value;
    this.#templates(pattern, this.#line(pv), `rule ${n}: the pattern`);
    const a = fields.get("access");
    if (a === undefined) throw new Invalid(line, `rule ${n} has no \`access\``);
    const av = this.#deref(a.value);
    if (!isMap(av)) {
      throw new Invalid(
        this.#line(av ?? a.key),
        `rule ${n}: \`access\` must be a mapping of admin, write and read lists`,
      );
    }
    const lists = this.#fields(av, `rule ${n}: access`);
    return {
      pattern,
      access: {
        admin: this.#list(lists.get("admin"), n, "admin"),
        write: this.#list(lists.get("write"), n, "write"),
        read: this.#list(lists.get("read"), n, "read"),
      },
      line: line ?? 0,
    };
  }

  #list(pair: Field | undefined, n: number, name: string): string[] {
    if (pair === undefined) return [];
    const seq = this.#deref(pair.value);
    const bad = (node: unknown, what: string) =>
      new Invalid(
        this.#line(node ?? pair.key),
        `rule ${n}: \`${name}\` must be a list of strings (${what}); write ${name}: [] for nobody`,
      );
    if (!isSeq(seq)) {
      throw bad(seq, isScalar(seq) ? `found ${describe(seq.value)}` : "found a mapping");
    }
    const out: string[] = [];
    for (const item of seq.items) {
      const v = this.#deref(item);
      if (!isScalar(v) || typeof v.value !== "string") {
        // Point at the entry as written (an alias), not at what it refers to.
        const at = isAlias(item) ? item : v ?? seq;
        throw bad(at, `found ${isScalar(v) ? describe(v.value) : "a nested collection"}`);
      }
      this.#templates(v.value, this.#line(v), `rule ${n}: \`${name}\` entry`);
      out.push(v.value);
    }
    return out;
  }

  #templates(text: string, line: number | null, what: string): void {
    const foreign = findForeignTemplate(text);
    if (foreign !== null) {
      throw new Invalid(
        line,
        `${what} uses the template ${JSON.stringify(foreign)}; only {{.UserEmail}} is supported`,
      );
    }
  }

  /** String keys of a mapping; a repeated key is an error (YAML forbids it, and which one wins would be a guess). */
  #fields(map: Node, what: string): Map<string, Field> {
    const out = new Map<string, Field>();
    if (!isMap(map)) return out;
    for (const pair of map.items) {
      if (!isPair(pair)) continue;
      const key = this.#deref(pair.key);
      // Unknown and non-string keys are ignored, as the spec says.
      if (!isScalar(key) || typeof key.value !== "string") continue;
      if (out.has(key.value)) {
        throw new Invalid(this.#line(key), `${what} repeats the key ${JSON.stringify(key.value)}`);
      }
      out.set(key.value, { key, value: pair.value });
    }
    return out;
  }

  /** Follow an alias, counting it; null for a missing node. */
  #deref(node: unknown): Node | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      if (++this.#aliases > this.maxAliases) {
        throw new Invalid(
          this.#line(node),
          `it uses more than ${this.maxAliases} aliases, which looks like an alias bomb`,
        );
      }
      const target = node.resolve(this.doc);
      // An alias to an alias is not valid YAML; refuse it rather than loop.
      if (target === undefined || isAlias(target)) {
        throw new Invalid(this.#line(node), `the alias *${node.source} points nowhere`);
      }
      return target as Node;
    }
    return node as Node;
  }

  #line(node: unknown): number | null {
    const range = (node as { range?: [number, number, number] | null } | null)?.range;
    if (!range) return null;
    return this.lines.linePos(range[0]).line;
  }
}

interface Field {
  readonly key: Node;
  readonly value: unknown;
}

function describe(value: unknown): string {
  if (value === null) return "an empty value";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "number" || typeof value === "bigint") return `the number ${value}`;
  if (typeof value === "boolean") return `the boolean ${value}`;
  return `a ${typeof value}`;
}
