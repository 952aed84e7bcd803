/**
 * Editing a `syft.pub.yaml` in place for `syft perm grant` / `revoke`, with the
 * `yaml` Document API so other rules, comments and formatting survive. Pure:
 * text in, text out; the caller re-parses the result before writing it.
 * @module
 */
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap, YAMLSeq } from "yaml";
import { SyftError } from "../errors/mod.ts";
import type { AccessLevel } from "./engine.ts";
import type { AccessLists } from "./parse.ts";

/** The result of an edit. */
export interface EditResult {
  /** The new file text. */
  text: string;
  /** False when the file already said this (nothing to write). */
  changed: boolean;
}

/** Keep flow lists as people write them: `['*']`, not `[ '*' ]`. */
const FORMAT = { lineWidth: 0, flowCollectionPadding: false } as const;

const NEW_FILE_HEADER = "# Written by `syft perm grant`; edit freely, comments are kept.\n";

function load(text: string, file: string) {
  const doc = parseDocument(text.trim() === "" ? "terminal: false\nrules:\n" : text, {
    uniqueKeys: false,
  });
  if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents))) {
    throw new SyftError("E_INPUT", `${file} is not a valid permission file`, {
      hint: "fix it first (syft perm list shows the problem), then run the command again",
    });
  }
  if (doc.contents === null) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  return doc;
}

function rulesOf(doc: ReturnType<typeof load>): YAMLSeq {
  const root = doc.contents as unknown as YAMLMap;
  let rules: unknown = root.get("rules", true);
  if (rules === undefined || rules === null || (isScalar(rules) && rules.value === null)) {
    rules = new YAMLSeq();
    root.set("rules", rules);
  }
  // `rules: []` would keep every added rule on one flow line: switch to block style.
  if (isSeq(rules) && rules.items.length === 0) rules.flow = false;
  if (!isSeq(rules)) {
    throw new SyftError("E_INPUT", "the file's rules are not a list", {
      hint: "fix it first (syft perm list shows the problem)",
    });
  }
  return rules;
}

function patternOf(item: unknown): string | undefined {
  if (!isMap(item)) return undefined;
  const p = item.get("pattern");
  return typeof p === "string" ? p : undefined;
}

function entriesOf(list: unknown): string[] {
  return isSeq(list) ? list.items.map((i) => (isScalar(i) ? String(i.value) : "")) : [];
}

/**
 * Add `user` at `level` to the rule with exactly `pattern` (created at the end
 * when missing). Lower lists are left alone: admin ⊇ write ⊇ read already.
 * @param extraPatterns other rules of the file that must also name the user,
 *   so a more specific rule cannot shadow the grant (first match wins)
 */
export function addGrant(
  text: string,
  file: string,
  pattern: string,
  user: string,
  level: AccessLevel,
  extraPatterns: readonly string[] = [],
  seed: AccessLists | null = null,
): EditResult {
  const doc = load(text, file);
  const rules = rulesOf(doc);
  let changed = false;
  const grantIn = (rule: YAMLMap) => {
    const found: unknown = rule.get("access", true);
    let accessMap: YAMLMap;
    if (isMap(found)) accessMap = found;
    else {
      accessMap = doc.createNode({}) as YAMLMap;
      rule.set("access", accessMap);
    }
    const list = accessMap.get(level, true);
    if (isSeq(list)) {
      if (entriesOf(list).includes(user)) return;
      list.add(doc.createNode(user));
    } else {
      const seq = doc.createNode([user]) as YAMLSeq;
      seq.flow = true;
      accessMap.set(level, seq);
    }
    changed = true;
  };
  let target = rules.items.find((item) => patternOf(item) === pattern);
  if (!target) {
    const lists: Record<string, string[]> = {};
    for (const l of ["admin", "write", "read"] as const) {
      if (seed && seed[l].length) lists[l] = [...seed[l]];
    }
    const node = doc.createNode({ pattern, access: lists }) as YAMLMap;
    for (const value of (node.get("access", true) as unknown as YAMLMap).items) {
      if (isSeq(value.value)) value.value.flow = true;
    }
    rules.add(node);
    target = node;
  }
  grantIn(target as YAMLMap);
  for (const item of rules.items) {
    const p = patternOf(item);
    if (p !== undefined && p !== pattern && extraPatterns.includes(p)) grantIn(item as YAMLMap);
  }
  const out = doc.toString(FORMAT);
  return { text: text.trim() === "" ? NEW_FILE_HEADER + out : out, changed };
}

/**
 * Remove `user` (the exact entry) from every access list of the rules whose
 * pattern is in `patterns`. Returns the patterns it was removed from.
 */
export function removeUser(
  text: string,
  file: string,
  patterns: ReadonlySet<string>,
  user: string,
): EditResult & { removedFrom: string[] } {
  const doc = load(text, file);
  const rules = rulesOf(doc);
  const removedFrom: string[] = [];
  for (const item of rules.items) {
    const p = patternOf(item);
    if (p === undefined || !patterns.has(p)) continue;
    const access: unknown = (item as YAMLMap).get("access", true);
    if (!isMap(access)) continue;
    let removed = false;
    for (const level of ["admin", "write", "read"] as const) {
      const list = access.get(level, true);
      if (!isSeq(list)) continue;
      const before = list.items.length;
      list.items = list.items.filter((i) => !(isScalar(i) && i.value === user));
      if (list.items.length !== before) removed = true;
    }
    if (removed) removedFrom.push(p);
  }
  return { text: doc.toString(FORMAT), changed: removedFrom.length > 0, removedFrom };
}
