/**
 * `syft.pub.yaml` read with the YAML parser: any text, hand-edited or not,
 * with the line and the field of every complaint. Loaded only when a text is
 * not in the form syft writes (parse_written.ts), or up front wherever the
 * program did not ask for it on demand (parse.ts).
 *
 * Imports nothing of parse.ts but types: parse.ts loads this module from its
 * own evaluation (a top-level await), so a value import back would wait on
 * itself.
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
import { findForeignTemplate } from "./glob.ts";
import type { Rule, RuleSet } from "./parse.ts";

/** A rule set, or why the text is not a valid permission file. */
export type YamlParse =
  | { readonly ok: true; readonly ruleSet: RuleSet }
  | { readonly ok: false; readonly line: number | null; readonly reason: string };

/**
 * Parse a permission file's text (size and encoding already checked).
 * @throws {RangeError} when the text nests too deeply for the parser
 */
export function parseYamlPermissionText(
  text: string,
  maxRules: number,
  maxAliases: number,
): YamlParse {
  try {
    return { ok: true, ruleSet: parseOrThrow(text, maxRules, maxAliases) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, line: err.line, reason: err.reason };
    throw err;
  }
}

/** A permission file refused while parsing. */
class Invalid {
  constructor(readonly line: number | null, readonly reason: string) {}
}

function parseOrThrow(text: string, maxRules: number, maxAliases: number): RuleSet {
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
