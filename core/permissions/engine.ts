/**
 * The permission engine: a tree of folders holding compiled `syft.pub.yaml`
 * rule sets, answering "may this user read/write/admin this path?" exactly as
 * docs/permissions.md "Resolution" steps 1–8 say, plus the `private/` rule.
 *
 * Pure logic: it never touches the disk (see load.ts for that). Each file is
 * parsed and compiled once, its rules sorted by specificity once; a check is a
 * walk down the path's folders plus one compiled match per rule tried.
 * {@linkcode PermissionEngine.setFile} and
 * {@linkcode PermissionEngine.removeFile} touch only their own folder's node.
 * @module
 */
import { SyftError } from "../errors/mod.ts";
import { parseQueryPath, type QueryPath } from "../paths/mod.ts";
import { PERMISSION_FILE, PRIVATE_FOLDER } from "../datasite/names.ts";
import {
  compareSpecificity,
  type CompiledEmailGlob,
  type CompiledPattern,
  compileEmailGlob,
  compilePattern,
  hasGlobChars,
} from "./glob.ts";
import {
  type AccessLists,
  type ParseOptions,
  parsePermissionFile,
  type ParseResult,
  type PermissionFileError,
  permissionFilePath,
  type Rule,
  type RuleSet,
} from "./parse.ts";
import { quote } from "../encoding/quote.ts";

/** What a check asks for. admin ⊇ write ⊇ read. */
export type AccessLevel = "read" | "write" | "admin";

/** The levels, weakest first. */
export const ACCESS_LEVELS: readonly AccessLevel[] = ["read", "write", "admin"];

// The top-level folder that never opens to peers, whatever a rule says (a naming rule).
export { PRIVATE_FOLDER };

/** The access-list entry that means the checking user (docs/permissions.md step 7). */
export const USER_ENTRY = "USER";

/** The rule a decision rests on. */
export interface RuleRef {
  /** 0-based position of the rule in its file, in file order. */
  readonly index: number;
  /** The rule's pattern as written. */
  readonly pattern: string;
  /** 1-based line of the rule in its file (0 when it did not come from a file). */
  readonly line: number;
}

/**
 * The answer to a check. `syft perm check --json` prints `allowed`,
 * `governing_file`, `rule` and `reason`.
 */
export interface Decision {
  /** True when the access is allowed. */
  readonly allowed: boolean;
  /** Datasite-relative path of the governing `syft.pub.yaml`, or null when none governs. */
  readonly governing_file: string | null;
  /** The first matching rule of the governing file, or null when none matched. */
  readonly rule: RuleRef | null;
  /** One sentence saying why, for humans. */
  readonly reason: string;
  /** The level actually checked: admin for a permission file (step 3). */
  readonly level: AccessLevel;
  /** The problem with the governing file when it is invalid (the CLI names it on stderr). */
  readonly file_error: PermissionFileError | null;
}

/** A permission file held by the engine. */
export interface PermissionFileInfo {
  /** Datasite-relative folder holding the file (`""` for the root). */
  readonly folder: string;
  /** Datasite-relative path of the file. */
  readonly file: string;
  /** True when the file stops the walk: `terminal: true`, or invalid. */
  readonly terminal: boolean;
  /** The rules, when valid. */
  readonly ruleSet: RuleSet | null;
  /** The problem, when invalid. */
  readonly error: PermissionFileError | null;
  /** The rules in the order they are tried (most specific first), with their file positions. */
  readonly ordered: readonly RuleRef[];
}

/** One rule as `explain` shows it. */
export interface ExplainedRule extends RuleRef {
  /** The access lists as written. */
  readonly access: AccessLists;
  /** Whether the pattern matches the path; null when it depends on a user that was not given. */
  readonly matches: boolean | null;
}

/** Everything `syft perm explain` needs about one path. */
export interface Explanation {
  /** The path, normalised (empty segments dropped). */
  readonly path: string;
  /** The governing file, or null. */
  readonly governing_file: string | null;
  /** Why the governing file is invalid, when it is. */
  readonly file_error: PermissionFileError | null;
  /** True when the governing file is terminal (or invalid, which acts as terminal). */
  readonly terminal: boolean;
  /** Permission files deeper on the path, ignored because a terminal file governs. */
  readonly ignored_files: readonly string[];
  /** The path relative to the governing file's folder. */
  readonly relative_path: string;
  /** The governing file's rules, most specific first. */
  readonly rules: readonly ExplainedRule[];
  /**
   * The rule consulted: the first match for the user; without a user, the
   * first match among rules without a template (a template rule, listed with
   * `matches: null`, would come first for the user it names).
   */
  readonly rule: RuleRef | null;
  /** That rule's access lists, as written. */
  readonly access: AccessLists | null;
  /** True for the top-level `private/` folder, never open to peers. */
  readonly private: boolean;
  /** The decision for each level, when a user was given. */
  readonly decisions: Readonly<Record<AccessLevel, Decision>> | null;
}

// ---------------------------------------------------------------------------
// Compiled forms.

/** An access list compiled for membership tests. */
class AccessSet {
  readonly everyone: boolean;
  readonly exact: ReadonlySet<string>;
  readonly globs: readonly CompiledEmailGlob[];

  constructor(entries: readonly string[]) {
    // `USER` always names the checking user: with a template it is "that
    // user", without one "any user" (step 7), so either way it admits them.
    this.everyone = entries.some((e) => e === "*" || e === USER_ENTRY);
    this.exact = new Set(entries.filter((e) => !hasGlobChars(e)));
    this.globs = entries.filter((e) => e !== "*" && hasGlobChars(e)).map(compileEmailGlob);
  }

  has(user: string): boolean {
    if (this.everyone || this.exact.has(user)) return true;
    for (const g of this.globs) if (g.matches(user)) return true;
    return false;
  }
}

/** The entry of `entries` that admits `user`, for reasons; null when none. */
function admittingEntry(entries: readonly string[], user: string): string | null {
  for (const e of entries) {
    if (e === "*" || e === USER_ENTRY || e === user) return e;
    if (hasGlobChars(e) && compileEmailGlob(e).matches(user)) return e;
  }
  return null;
}

class CompiledRule {
  readonly ref: RuleRef;
  readonly pattern: CompiledPattern;
  readonly admins: AccessSet;
  readonly writers: AccessSet;
  readonly readers: AccessSet;

  constructor(readonly rule: Rule, index: number) {
    this.ref = Object.freeze({ index, pattern: rule.pattern, line: rule.line });
    this.pattern = compilePattern(rule.pattern);
    const { admin, write, read } = rule.access;
    // Step 8, precomputed: a level's set holds every stronger level's entries.
    this.admins = new AccessSet(admin);
    this.writers = new AccessSet([...admin, ...write]);
    this.readers = new AccessSet([...admin, ...write, ...read]);
  }

  grants(level: AccessLevel, user: string): boolean {
    const set = level === "read" ? this.readers : level === "write" ? this.writers : this.admins;
    return set.has(user);
  }
}

class CompiledFile {
  readonly file: string;
  /** Invalid files act as terminal: they govern their whole subtree. */
  readonly terminal: boolean;
  /** Most specific first; Array.prototype.sort is stable, so file order breaks ties. */
  readonly ordered: readonly CompiledRule[];
  readonly info: PermissionFileInfo;

  constructor(readonly folder: string, readonly result: ParseResult) {
    this.file = permissionFilePath(folder);
    if (result.ok) {
      const rules = result.ruleSet.rules.map((r, i) => new CompiledRule(r, i));
      rules.sort((a, b) => compareSpecificity(a.pattern.key, b.pattern.key));
      this.ordered = rules;
      this.terminal = result.ruleSet.terminal;
    } else {
      this.ordered = [];
      this.terminal = true;
    }
    this.info = Object.freeze({
      folder,
      file: this.file,
      terminal: this.terminal,
      ruleSet: result.ok ? result.ruleSet : null,
      error: result.ok ? null : { ...result.error, file: this.file },
      ordered: this.ordered.map((r) => r.ref),
    });
  }

  get error(): PermissionFileError | null {
    return this.info.error;
  }
}

/**
 * Files compiled, by their parse result: the loader hands the same result for
 * the same folder and text (load.ts caches parses), and a round loads every
 * permission file of the datasite, so compiling their globs again each round
 * was most of what loading cost. A compiled file is never changed, so
 * engines share it; a result dropped from the parse cache drops its entry.
 */
const compiled = new WeakMap<ParseResult, CompiledFile>();

function compiledOnce(folder: string, result: ParseResult): CompiledFile {
  const known = compiled.get(result);
  if (known?.folder === folder) return known;
  const file = new CompiledFile(folder, result);
  compiled.set(result, file);
  return file;
}

class FolderNode {
  children: Map<string, FolderNode> | null = null;
  file: CompiledFile | null = null;
  constructor(readonly name: string, readonly parent: FolderNode | null) {}
}

// Outcomes of a resolution, kept as small integers so the hot path allocates nothing.
const OWNER = 0;
const BAD_PATH = 1;
const DOT_SEGMENT = 2;
const NO_FILE = 3;
const INVALID_FILE = 4;
const NO_RULE = 5;
const GRANTED = 6;
const NOT_GRANTED = 7;

const EMPTY: readonly string[] = Object.freeze([]);

/**
 * The permission engine of one datasite's `syft.pub.yaml` files.
 *
 * @example
 * ```ts
 * const engine = new PermissionEngine();
 * engine.setFile("public", "rules:\n  - pattern: '**'\n    access: {read: ['*']}\n");
 * engine.check("alice@example.org", "public/data.csv", "bob@example.org", "read").allowed; // true
 * engine.check("alice@example.org", "notes.txt", "bob@example.org", "read").allowed; // false
 * ```
 */
export class PermissionEngine {
  readonly #root = new FolderNode("", null);
  #count = 0;

  // Scratch results of #resolve, read by check()/allows(): no per-check objects.
  #segments: readonly string[] = EMPTY;
  #node: FolderNode | null = null;
  #depth = 0;
  #rule: CompiledRule | null = null;
  #level: AccessLevel = "read";
  #pathError = "";
  /** Reused by splitSimplePath; valid until the next check. */
  readonly #scratch: string[] = [];

  /** Number of permission files held. */
  get size(): number {
    return this.#count;
  }

  /**
   * Parse and install (or replace) the permission file of `folder`
   * (datasite-relative, `""` for the root). Only that folder's node changes.
   * Returns the parse result so the caller can report an invalid file; an
   * invalid file is installed too and denies everything it governs.
   *
   * @throws {SyftError} `E_INPUT` when `folder` has a `.`/`..` segment or cannot name a folder.
   */
  setFile(folder: string, content: string | Uint8Array, options: ParseOptions = {}): ParseResult {
    const segments = folderSegments(folder);
    const result = parsePermissionFile(content, segments.join("/"), options);
    this.#install(segments, result);
    return result;
  }

  /**
   * Install an already parsed file, or a loader's verdict (a symbolic link,
   * an unreadable file) as an `{ ok: false }` result.
   *
   * @throws {SyftError} `E_INPUT` for a folder with a `.`/`..` segment.
   */
  setParsedFile(folder: string, result: ParseResult): void {
    this.#install(folderSegments(folder), result);
  }

  /**
   * Forget the permission file of `folder`; the nearest ancestor file governs
   * its subtree again. Returns false when there was none.
   *
   * @throws {SyftError} `E_INPUT` for a folder with a `.`/`..` segment.
   */
  removeFile(folder: string): boolean {
    let node: FolderNode | undefined = this.#root;
    for (const s of folderSegments(folder)) {
      node = node.children?.get(s);
      if (node === undefined) return false;
    }
    if (node.file === null) return false;
    node.file = null;
    this.#count--;
    // Prune folders that no longer lead to any file, so walks stay short.
    while (node.parent !== null && node.file === null && (node.children?.size ?? 0) === 0) {
      node.parent.children?.delete(node.name);
      node = node.parent;
    }
    return true;
  }

  /** Forget every permission file. */
  clear(): void {
    this.#root.children = null;
    this.#root.file = null;
    this.#count = 0;
  }

  /** The permission file of exactly `folder`, or null. */
  getFile(folder: string): PermissionFileInfo | null {
    let node: FolderNode | undefined = this.#root;
    for (const s of folderSegments(folder)) {
      node = node.children?.get(s);
      if (node === undefined) return null;
    }
    return node.file?.info ?? null;
  }

  /** Every permission file, sorted by path (for `syft perm list` and `syft status`). */
  files(): PermissionFileInfo[] {
    const out: PermissionFileInfo[] = [];
    const visit = (node: FolderNode) => {
      if (node.file !== null) out.push(node.file.info);
      for (const child of node.children?.values() ?? []) visit(child);
    };
    visit(this.#root);
    return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }

  /** The invalid permission files, sorted by path. */
  invalidFiles(): PermissionFileError[] {
    return this.files().flatMap((f) => (f.error === null ? [] : [f.error]));
  }

  /**
   * The decision for `user` doing `level` on `path` in `owner`'s datasite,
   * with the governing file, the rule and a reason.
   *
   * `path` is datasite-relative, raw (normalised here by the permission-query
   * parser) or already parsed. A path that cannot name a file (NUL, over-long)
   * is denied, never thrown, for anyone but the owner (step 1 comes first).
   */
  check(owner: string, path: string | QueryPath, user: string, level: AccessLevel): Decision {
    const outcome = this.#resolve(owner, path, user, level);
    return this.#decide(outcome, owner, user, level);
  }

  /**
   * The same answer as `check(...).allowed`, without building the reason:
   * the hot path for sync and projections.
   */
  allows(owner: string, path: string | QueryPath, user: string, level: AccessLevel): boolean {
    const outcome = this.#resolve(owner, path, user, level);
    if (outcome === OWNER) return true;
    return outcome === GRANTED && !this.#isPrivate();
  }

  /**
   * Which file and rule govern `path`, every rule in the order it is tried,
   * and, when `user` is given, the decision for each level.
   *
   * @throws {SyftError} `E_INPUT` for a path that cannot name a file (NUL, over-long).
   */
  explain(owner: string, path: string | QueryPath, user?: string): Explanation {
    const q = typeof path === "string" ? parseQueryPath(path) : path;
    const decisions = user === undefined ? null : {
      read: this.check(owner, q, user, "read"),
      write: this.check(owner, q, user, "write"),
      admin: this.check(owner, q, user, "admin"),
    };
    const isPrivate = q.segments[0] === PRIVATE_FOLDER;
    const empty = {
      path: q.text,
      governing_file: null,
      file_error: null,
      terminal: false,
      ignored_files: [],
      relative_path: q.text,
      rules: [],
      rule: null,
      access: null,
      private: isPrivate,
      decisions,
    };
    if (q.hasDotSegment) return empty;
    const { node, depth } = this.#governing(q.segments);
    const file = node?.file;
    if (file === undefined || file === null) return empty;
    const ignored: string[] = [];
    if (file.terminal) {
      let n: FolderNode | undefined = node ?? undefined;
      for (let i = depth; i < q.segments.length && n !== undefined; i++) {
        n = n.children?.get(q.segments[i] as string);
        if (n?.file) ignored.push(n.file.file);
      }
    }
    let chosen: CompiledRule | null = null;
    const rules = file.ordered.map((r): ExplainedRule => {
      const matches = user === undefined && r.pattern.hasTemplate
        ? null
        : r.pattern.matches(q.segments, depth, user ?? "");
      if (matches === true && chosen === null) chosen = r;
      return { ...r.ref, access: r.rule.access, matches };
    });
    const picked = chosen as CompiledRule | null;
    return {
      ...empty,
      governing_file: file.file,
      file_error: file.error,
      terminal: file.terminal,
      ignored_files: ignored,
      relative_path: q.segments.slice(depth).join("/"),
      rules,
      rule: picked?.ref ?? null,
      access: picked?.rule.access ?? null,
    };
  }

  #install(segments: readonly string[], result: ParseResult): void {
    let node = this.#root;
    for (const s of segments) {
      node.children ??= new Map();
      let child = node.children.get(s);
      if (child === undefined) {
        child = new FolderNode(s, node);
        node.children.set(s, child);
      }
      node = child;
    }
    if (node.file === null) this.#count++;
    node.file = compiledOnce(segments.join("/"), result);
  }

  /** Step 4: the deepest file on the walk, stopping at a terminal (or invalid) one. */
  #governing(segments: readonly string[]): { node: FolderNode | null; depth: number } {
    let node = this.#root;
    let gov: FolderNode | null = null;
    let depth = 0;
    if (node.file !== null) {
      gov = node;
      if (node.file.terminal) return { node: gov, depth };
    }
    for (let i = 0; i < segments.length; i++) {
      const child = node.children?.get(segments[i] as string);
      if (child === undefined) break;
      node = child;
      if (child.file !== null) {
        gov = child;
        depth = i + 1;
        if (child.file.terminal) break;
      }
    }
    return { node: gov, depth };
  }

  /** Steps 1–8, leaving the details in the scratch fields. */
  #resolve(owner: string, path: string | QueryPath, user: string, level: AccessLevel): number {
    this.#node = null;
    this.#rule = null;
    this.#depth = 0;
    this.#level = level;
    this.#segments = EMPTY;
    // 1. The owner, by exact string equality, before anything else.
    if (user === owner) return OWNER;
    // 2. Split, dropping empty segments; `.`/`..` deny.
    let segments: readonly string[];
    let hasDot: boolean;
    if (typeof path !== "string") {
      segments = path.segments;
      hasDot = path.hasDotSegment;
    } else if (splitSimplePath(path, this.#scratch)) {
      segments = this.#scratch;
      hasDot = this.#scratch.some(isDotSegment);
    } else {
      try {
        const q = parseQueryPath(path);
        segments = q.segments;
        hasDot = q.hasDotSegment;
      } catch (err) {
        this.#pathError = err instanceof Error ? err.message : String(err);
        return BAD_PATH;
      }
    }
    this.#segments = segments;
    if (hasDot) return DOT_SEGMENT;
    // 3. A permission file (after normalising, so `x/syft.pub.yaml/` counts) needs admin.
    const last = segments[segments.length - 1];
    if (last !== undefined && last.endsWith(PERMISSION_FILE)) this.#level = level = "admin";
    // 4. The governing file.
    let node = this.#root;
    let gov: FolderNode | null = null;
    let depth = 0;
    if (node.file !== null) gov = node;
    if (gov === null || !(gov.file as CompiledFile).terminal) {
      for (let i = 0; i < segments.length; i++) {
        const child = node.children?.get(segments[i] as string);
        if (child === undefined) break;
        node = child;
        if (child.file !== null) {
          gov = child;
          depth = i + 1;
          if (child.file.terminal) break;
        }
      }
    }
    if (gov === null) return NO_FILE;
    this.#node = gov;
    this.#depth = depth;
    const file = gov.file as CompiledFile;
    if (!file.result.ok) return INVALID_FILE;
    // 5–7. Relative to the governing folder (an offset, not a copy); the
    // first match in specificity order is the only rule consulted.
    const ordered = file.ordered;
    for (let i = 0; i < ordered.length; i++) {
      const rule = ordered[i] as CompiledRule;
      if (rule.pattern.matches(segments, depth, user)) {
        this.#rule = rule;
        // 8. admin ⊇ write ⊇ read.
        return rule.grants(level, user) ? GRANTED : NOT_GRANTED;
      }
    }
    return NO_RULE;
  }

  #isPrivate(): boolean {
    return this.#segments[0] === PRIVATE_FOLDER;
  }

  /** A snapshot of the last check's segments (the scratch array is reused). */
  #segmentsText(): string {
    return this.#segments.join("/");
  }

  #decide(outcome: number, owner: string, user: string, asked: AccessLevel): Decision {
    const level = this.#level;
    const file = this.#node?.file ?? null;
    const rule = this.#rule;
    const where = file === null ? "" : quoteInReason(file.file);
    const path = quoteInReason(this.#segmentsText());
    const raised = level !== asked ? ` (${path} is a permission file, so it needs admin)` : "";
    const base = {
      governing_file: file?.file ?? null,
      rule: rule?.ref ?? null,
      level,
      file_error: file?.error ?? null,
    };
    const deny = (reason: string): Decision => ({ ...base, allowed: false, reason });
    let decision: Decision;
    switch (outcome) {
      case OWNER:
        return {
          allowed: true,
          governing_file: null,
          rule: null,
          reason: `${quoteInReason(user)} owns this datasite (${
            quoteInReason(owner)
          }) and may do anything in it`,
          level,
          file_error: null,
        };
      case BAD_PATH:
        return deny(`the path cannot be checked: ${this.#pathError}`);
      case DOT_SEGMENT:
        return deny(
          `the path has a "." or ".." segment, which is never resolved, so it is denied`,
        );
      case NO_FILE:
        decision = deny(`no ${PERMISSION_FILE} governs ${path}, so only the owner has access`);
        break;
      case INVALID_FILE: {
        const e = file?.error;
        const at = e?.line === null || e?.line === undefined ? "" : ` at line ${e.line}`;
        decision = deny(
          `${where} governs ${path} but is invalid${at} (${
            e?.reason ?? "unknown problem"
          }), so everything it governs is denied`,
        );
        break;
      }
      case NO_RULE:
        decision = deny(
          `no rule in ${where} matches ${
            quoteInReason(this.#relative())
          }, so only the owner has access`,
        );
        break;
      case GRANTED:
      case NOT_GRANTED: {
        const r = rule as CompiledRule;
        const which = `the rule ${quoteInReason(r.ref.pattern)}${
          r.ref.line > 0 ? ` at line ${r.ref.line}` : ""
        } of ${where}`;
        if (outcome === GRANTED) {
          const via = grantingEntry(r.rule.access, level, user);
          decision = {
            ...base,
            allowed: true,
            reason: `${which} grants ${quoteInReason(user)} ${level}${
              via === null ? "" : ` through ${via.list}: ${quoteInReason(via.entry)}`
            }${raised}`,
          };
        } else {
          decision = deny(
            `${which} matches but does not grant ${quoteInReason(user)} ${level}${raised}`,
          );
        }
        break;
      }
      default:
        return deny("internal error: unknown outcome");
    }
    if (this.#isPrivate()) {
      const tried = decision.allowed ? `; ${decision.reason}, which is ignored` : "";
      return {
        ...decision,
        allowed: false,
        reason: `the top-level ${PRIVATE_FOLDER}/ folder is never shared with peers${tried}`,
      };
    }
    return decision;
  }

  #relative(): string {
    return this.#segments.slice(this.#depth).join("/");
  }
}

/** The list and entry that grant `level` to `user` (admin first, as it is the widest). */
function grantingEntry(
  access: AccessLists,
  level: AccessLevel,
  user: string,
): { list: AccessLevel; entry: string } | null {
  const lists: AccessLevel[] = level === "admin"
    ? ["admin"]
    : level === "write"
    ? ["admin", "write"]
    : ["admin", "write", "read"];
  for (const list of lists) {
    const entry = admittingEntry(access[list], user);
    if (entry !== null) return { list, entry };
  }
  return null;
}

/**
 * Longest string {@linkcode splitSimplePath} takes: 1365 UTF-16 code units are
 * at most 4095 UTF-8 bytes, under parseQueryPath's 4096-byte limit, so such a
 * string can never be refused for its length.
 */
const SIMPLE_PATH_MAX = 1365;

/**
 * Split `raw` into `out` exactly as {@linkcode parseQueryPath} would (on `/`,
 * dropping empty segments), without its allocations, when `raw` is one the
 * parser is sure to accept: no NUL, no surrogate at all (the parser rejects
 * lone ones; pairs are left to it too) and short enough. Returns false, with
 * `out` unspecified, to send anything else to parseQueryPath, so the two can
 * never disagree (tests pin this on random strings).
 */
export function splitSimplePath(raw: string, out: string[]): boolean {
  out.length = 0;
  if (raw.length > SIMPLE_PATH_MAX) return false;
  let from = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 47) {
      if (i > from) out.push(raw.slice(from, i));
      from = i + 1;
    } else if (c === 0 || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  if (raw.length > from) out.push(raw.slice(from));
  return true;
}

function isDotSegment(s: string): boolean {
  return s === "." || s === "..";
}

/** A folder path as segments, refusing what could never be a folder of the datasite. */
function folderSegments(folder: string): readonly string[] {
  const q = parseQueryPath(folder, "permission folder");
  if (q.hasDotSegment) {
    throw new SyftError(
      "E_INPUT",
      `permission folder ${quoteInReason(folder)} has a "." or ".." segment`,
      {
        hint: "give the folder relative to the datasite, without . or ..",
      },
    );
  }
  return q.segments;
}

/** Reasons show paths and patterns up to 120 code points: longer than other messages, still one line. */
function quoteInReason(s: string): string {
  return quote(s, 120);
}
