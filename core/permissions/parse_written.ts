/**
 * `syft.pub.yaml` in exactly the form syft writes, read without the `yaml`
 * package, whose load was a third of `syft status`'s start-up. The forms are
 * those of core/permissions/edit.ts (the yaml package's own output, which
 * keeps existing quoting), core/datasite/layout.ts, core/datasets/meta.ts,
 * core/jobs/layout.ts and core/peers/service.ts:
 *
 * ```yaml
 * # comments at the start of a line
 * terminal: false
 * rules:
 *   - pattern: data/**
 *     access:
 *       read: [bob@x.org, '*']
 *       write: ["*.csv"]
 * ```
 *
 * (or `rules: []`). Anything else, errors included, is declined (undefined)
 * and goes to the YAML parser: this reader must never read a text
 * differently from it, so it admits only scalars YAML reads as the same
 * string: plain ones of a few ASCII characters that no schema takes for a
 * number, boolean or null; single-quoted ones (`''` the only escape); and
 * double-quoted ones whose only escapes are `\"` and `\\`; all of printable
 * characters. tests/core/permissions/parse_written_test.ts checks it against
 * the parser on random files and random edits of written ones.
 * @module
 */
import { findForeignTemplate } from "./glob.ts";
import type { Rule, RuleSet } from "./parse.ts";

type ListName = "admin" | "write" | "read";

interface OpenRule {
  pattern: string;
  line: number;
  lists: Partial<Record<ListName, string[]>>;
}

/** Where the reader is: what the next non-comment line may be. */
type State =
  | "top" // a top-level key
  | "first rule" // after `rules:`, its first item
  | "access" // after `- pattern: …`, the rule's `access:`
  | "first list" // after `access:`, its first list
  | "lists"; // another list, the next rule, or a top-level key

const TOP_TERMINAL = /^terminal: (true|false)$/;
const TOP_RULES = /^rules:( \[\])?$/;
const RULE = /^ {2}- pattern: (.+)$/;
const ACCESS = /^ {4}access:$/;
const LIST = /^ {6}(admin|write|read): \[(.*)\]$/;

/**
 * The rule set of `text` when it is in the written form, with at most
 * `maxRules` rules and no template but `{{.UserEmail}}`; else undefined.
 */
export function readWrittenPermissionFile(text: string, maxRules: number): RuleSet | undefined {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  let terminal: boolean | undefined;
  let rules: Rule[] | undefined;
  let open: OpenRule | undefined;
  let state: State = "top";
  const close = () => {
    if (open !== undefined) {
      rules!.push({
        pattern: open.pattern,
        access: {
          admin: open.lists.admin ?? [],
          write: open.lists.write ?? [],
          read: open.lists.read ?? [],
        },
        line: open.line,
      });
      open = undefined;
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("#")) {
      if (!allPrintable(line)) return undefined;
      continue;
    }
    let m: RegExpExecArray | null;
    if (state === "lists" || state === "first rule") {
      if ((m = RULE.exec(line)) !== null) {
        close();
        const pattern = blockScalar(m[1]!);
        if (pattern === undefined) return undefined;
        open = { pattern, line: i + 1, lists: {} };
        state = "access";
        continue;
      }
      if (state === "first rule") return undefined; // `rules:` with nothing under it is null
    }
    if (state === "access") {
      if (!ACCESS.test(line)) return undefined;
      state = "first list";
      continue;
    }
    if (state === "first list" || state === "lists") {
      if ((m = LIST.exec(line)) !== null) {
        const name = m[1] as ListName;
        const entries = flowEntries(m[2]!);
        if (entries === undefined || open!.lists[name] !== undefined) return undefined;
        open!.lists[name] = entries;
        state = "lists";
        continue;
      }
      if (state === "first list") return undefined; // `access:` with nothing under it is null
    }
    // A top-level key: it ends the rules list, if one was open.
    close();
    if ((m = TOP_TERMINAL.exec(line)) !== null) {
      if (terminal !== undefined) return undefined;
      terminal = m[1] === "true";
      state = "top";
      continue;
    }
    if ((m = TOP_RULES.exec(line)) !== null) {
      if (rules !== undefined) return undefined;
      rules = [];
      state = m[1] === undefined ? "first rule" : "top";
      continue;
    }
    return undefined;
  }
  if (state !== "top" && state !== "lists") return undefined;
  close();
  const ruleSet: RuleSet = { terminal: terminal ?? false, rules: rules ?? [] };
  if (ruleSet.rules.length > maxRules) return undefined;
  for (const rule of ruleSet.rules) {
    const { admin, write, read } = rule.access;
    for (const text of [rule.pattern, ...admin, ...write, ...read]) {
      if (findForeignTemplate(text) !== null) return undefined;
    }
  }
  return ruleSet;
}

/** The value of a block mapping's scalar that is the whole rest of its line. */
function blockScalar(s: string): string | undefined {
  const r = scalarAt(s, 0, "block");
  return r !== undefined && r.end === s.length ? r.value : undefined;
}

/** The entries of a flow list's inside (`a, 'b', "c"`), written with `, ` between them. */
function flowEntries(s: string): string[] | undefined {
  const out: string[] = [];
  if (s === "") return out;
  let at = 0;
  for (;;) {
    const r = scalarAt(s, at, "flow");
    if (r === undefined) return undefined;
    out.push(r.value);
    if (r.end === s.length) return out;
    if (!s.startsWith(", ", r.end)) return undefined;
    at = r.end + 2;
  }
}

/** First character of a plain scalar: never an indicator, a sign, a dot or a space. */
const PLAIN_FIRST = /[A-Za-z0-9_/]/;
/** Later characters of a plain scalar: none that ends or splits one, in block or flow. */
const PLAIN_REST = /[A-Za-z0-9_/.@*+'-]/;
/** Plain scalars some YAML schema reads as null, a boolean or a number (declined, not judged). */
const PLAIN_NOT_STRING = /^(?:null|true|false|yes|no|on|off|y|n)$|^[0-9][0-9A-Za-z._+-]*$/i;

/** The scalar starting at `s[at]`, and where it ends; undefined when not of the admitted kinds. */
function scalarAt(
  s: string,
  at: number,
  context: "block" | "flow",
): { value: string; end: number } | undefined {
  const first = s[at];
  if (first === "'") {
    let value = "";
    for (let i = at + 1; i < s.length; i++) {
      const c = s[i]!;
      if (c === "'") {
        if (s[i + 1] !== "'") return { value, end: i + 1 };
        value += "'";
        i++;
      } else if (!printable(c.codePointAt(0)!)) {
        return undefined;
      } else {
        value += c;
      }
    }
    return undefined;
  }
  if (first === '"') {
    for (let i = at + 1; i < s.length; i++) {
      const c = s[i]!;
      if (c === "\\") {
        if (s[i + 1] !== '"' && s[i + 1] !== "\\") return undefined;
        i++;
      } else if (c === '"') {
        const token = s.slice(at, i + 1);
        return allPrintable(token) ? { value: JSON.parse(token) as string, end: i + 1 } : undefined;
      }
    }
    return undefined;
  }
  if (first === undefined || !PLAIN_FIRST.test(first)) return undefined;
  let end = at + 1;
  while (end < s.length && PLAIN_REST.test(s[end]!)) end++;
  // In a flow list a plain scalar ends at `,` or the end; in a block, only at the end.
  if (end < s.length && (context === "block" || s[end] !== ",")) return undefined;
  const value = s.slice(at, end);
  return PLAIN_NOT_STRING.test(value) ? undefined : { value, end };
}

function allPrintable(s: string): boolean {
  for (const ch of s) if (!printable(ch.codePointAt(0)!)) return false;
  return true;
}

/** YAML's printable characters, less the ones some readers take for line breaks or a BOM. */
function printable(c: number): boolean {
  return (c >= 0x20 && c <= 0x7e) ||
    (c >= 0xa0 && c <= 0xd7ff && c !== 0x2028 && c !== 0x2029) ||
    (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff) ||
    c >= 0x10000;
}
