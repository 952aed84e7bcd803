/**
 * The simulation's independent model of who may read and write what: plain
 * maps and docs/permissions.md read afresh, for the subset of rules the
 * simulation and the jobs code write (patterns `**` and `<folder>/**`, lists
 * of exact emails or `*`, `terminal`), never the engine under test. A
 * permission file it does not understand throws, so the model never guesses.
 * @module
 */
import { parse } from "yaml";

/** A datasite's tree: datasite-relative path → content. */
export type Tree = ReadonlyMap<string, string>;

export type Level = "read" | "write";

const PERMISSION_FILE = "syft.pub.yaml";

/** `x.csv.rejected.20261205T011502Z` (maybe `-2`) or `.conflict.<epoch ms>`: a marker copy. */
export const MARKER = /\.(rejected|conflict)\.(\d{8}T\d{6}Z(-\d+)?|\d{13})$/;

interface Rule {
  /** The literal folders before the pattern's final `**`. */
  prefix: string[];
  read: string[];
  write: string[];
}

interface Rules {
  terminal: boolean;
  /** Most specific first (more literal folders); null: the file is invalid and denies its subtree. */
  rules: Rule[] | null;
}

/** One permission file's text as the model reads it (cached by text: files repeat). */
const parsed = new Map<string, Rules>();

function rulesOf(text: string): Rules {
  const known = parsed.get(text);
  if (known) return known;
  let rules: Rules;
  try {
    const doc = (parse(text) ?? {}) as { terminal?: unknown; rules?: unknown };
    const list = (doc.rules ?? []) as { pattern: string; access: Record<string, unknown> }[];
    const known = list.map((r): Rule => {
      const segments = r.pattern.split("/");
      const literal = segments.slice(0, -1);
      if (segments.at(-1) !== "**" || literal.some((s) => /[*?[\\{]/.test(s) || s === "")) {
        throw new Error(`the model only knows patterns '**' and '<folder>/**': ${text}`);
      }
      const names = (key: string) => (r.access[key] ?? []) as string[];
      if (names("admin").length > 0) throw new Error(`the model knows no admin grants: ${text}`);
      return { prefix: literal, read: names("read"), write: names("write") };
    });
    // Stable: file order breaks ties between equally specific rules.
    known.sort((a, b) => b.prefix.length - a.prefix.length);
    rules = { terminal: doc.terminal === true, rules: known };
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("the model")) throw err;
    rules = { terminal: true, rules: null };
  }
  parsed.set(text, rules);
  return rules;
}

/**
 * Whether `user` may read or write `path` of `owner`'s datasite whose files
 * (permission files included) are `tree`.
 */
export function may(tree: Tree, owner: string, user: string, path: string, level: Level): boolean {
  if (user === owner) return true;
  const segments = path.split("/");
  if (segments[0] === "private") return false;
  // A permission file needs admin, which the simulation never grants.
  if (segments[segments.length - 1]!.endsWith(PERMISSION_FILE)) return false;
  let governing: Rules | null = null;
  let at = 0;
  let folder = ""; // the first `depth` segments, each followed by "/"
  for (let depth = 0; depth <= segments.length - 1; depth++) {
    if (depth > 0) folder += `${segments[depth - 1]}/`;
    const text = tree.get(folder + PERMISSION_FILE);
    if (text === undefined) continue;
    governing = rulesOf(text);
    at = depth;
    if (governing.terminal) break;
  }
  if (governing === null || governing.rules === null) return false;
  const rel = segments.slice(at);
  // The first (most specific) rule whose literal folders lead to the path; `**`
  // never matches a segment that starts with a dot.
  const rule = governing.rules.find((r) =>
    rel.length > r.prefix.length && r.prefix.every((s, i) => rel[i] === s) &&
    rel.slice(r.prefix.length).every((s) => !s.startsWith("."))
  );
  if (!rule) return false;
  const listed = (list: string[]) => list.includes(user) || list.includes("*");
  return level === "write" ? listed(rule.write) : listed(rule.read) || listed(rule.write);
}

/** What `peer` should hold as its mirror of `owner`: the owner's files it may read. */
export function projection(tree: Tree, owner: string, peer: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, content] of tree) {
    if (may(tree, owner, peer, path, "read")) out.set(path, content);
  }
  return out;
}

/** A mirror without its marker copies (`.rejected.*`, `.conflict.*`). */
export function withoutMarkers(tree: Tree): Map<string, string> {
  return new Map([...tree].filter(([path]) => !MARKER.test(path)));
}

/** The differences between what a mirror holds and what it should, one line each (empty: equal). */
export function treeDiff(actual: Tree, expected: Tree): string[] {
  const out: string[] = [];
  for (const [path, content] of expected) {
    const got = actual.get(path);
    if (got === undefined) out.push(`missing ${path}`);
    else if (got !== content) out.push(`${path} holds ${short(got)}, not ${short(content)}`);
  }
  for (const path of actual.keys()) {
    if (!expected.has(path)) out.push(`extra ${path}`);
  }
  return out.sort();
}

function short(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
