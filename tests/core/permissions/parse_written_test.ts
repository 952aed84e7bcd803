/**
 * The quick reader of permission files (parse_written.ts) against the YAML
 * parser (parse_yaml.ts): it takes what syft writes, and whatever it takes,
 * random or mutated, the parser reads to the same rule set.
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { DEFAULT_PERMISSION_FILES } from "../../../core/datasite/layout.ts";
import { datasetPermissionFile } from "../../../core/datasets/meta.ts";
import { inboxLockText, reviewPermissionText } from "../../../core/jobs/layout.ts";
import { inboxPermissionText } from "../../../core/peers/service.ts";
import { addGrant, removeUser } from "../../../core/permissions/edit.ts";
import {
  MAX_ALIASES,
  MAX_RULES,
  parsePermissionFile,
  type RuleSet,
} from "../../../core/permissions/parse.ts";
import {
  loadYamlParserOnDemand,
  PermissionParserNeeded,
} from "../../../core/permissions/parse_on_demand.ts";
import { readWrittenPermissionFile } from "../../../core/permissions/parse_written.ts";
import { parseYamlPermissionText } from "../../../core/permissions/parse_yaml.ts";
import { prng } from "../../../core/random/prng.ts";

function viaParser(text: string): RuleSet | undefined {
  const r = parseYamlPermissionText(text, MAX_RULES, MAX_ALIASES);
  return r.ok ? r.ruleSet : undefined;
}

/** The quick reader takes `text` or declines it; when it takes it, the parser agrees. */
function agrees(text: string): boolean {
  const quick = readWrittenPermissionFile(text, MAX_RULES);
  if (quick === undefined) return false;
  assertEquals(quick, viaParser(text), JSON.stringify(text));
  return true;
}

/** Texts syft writes: every writer, and grants and revokes over them. */
function writtenTexts(): string[] {
  const texts = [
    ...Object.values(DEFAULT_PERMISSION_FILES),
    datasetPermissionFile(["*"]),
    datasetPermissionFile(["bob@x.org", "o'hara@y.org"]),
    reviewPermissionText("bob@x.org", false),
    reviewPermissionText("bob@x.org", true),
    inboxLockText(),
    inboxPermissionText("carol@z.org"),
  ];
  let grown = addGrant("", "f", "data/**", "bob@x.org", "read").text;
  texts.push(grown);
  grown = addGrant(grown, "f", "data/**", "o'hara@y.org", "write").text;
  grown = addGrant(grown, "f", "*.csv", "d@x.org", "admin", [], {
    admin: [],
    write: ["e@x.org"],
    read: ["*"],
  }).text;
  grown = addGrant(grown, "f", "{{.UserEmail}}/**", "{{.UserEmail}}", "write").text;
  texts.push(grown, removeUser(grown, "f", new Set(["data/**"]), "bob@x.org").text);
  for (const base of [...texts]) {
    texts.push(addGrant(base, "f", "reports/2024/*.pdf", "eve@x.org", "read").text);
  }
  return texts;
}

Deno.test("every permission file syft writes is read without the YAML parser, to the parser's rule set", () => {
  for (const text of writtenTexts()) assert(agrees(text), text);
  // Line numbers too: the rule starts on its `- pattern` line.
  const rules = readWrittenPermissionFile(reviewPermissionText("b@x.org", true), MAX_RULES)!.rules;
  assertEquals(rules.map((r) => r.line), [4, 7]);
});

Deno.test("texts the quick reader declines: not as syft writes, or not a valid file", () => {
  const base = DEFAULT_PERMISSION_FILES["public/syft.pub.yaml"]!;
  const declined = [
    base.replace("'**'", "**"), // `*` starts an alias
    base.replace("['*']", "[null]"), // not a string: the parser says why
    base.replace("['*']", "[1e5]"),
    base.replace("['*']", "[true]"),
    base.replace("['*']", "['{{.Other}}']"), // a template syft does not support
    base.replace("  - pattern", "\n  - pattern"), // a blank line
    base.replace("'**'", "'**' # all"), // a comment after a value
    base.replace("['*']", "[ '*' ]"),
    base.replace("['*']", '["a\\tb"]'), // an escape YAML reads its own way
    base.replace("    access:\n      read: ['*']\n", ""), // a rule without access
    base.replaceAll("\n", "\r\n"),
    "rules:\n", // null rules
    "terminal: yes\n",
    "terminal: false\nterminal: true\n",
    "rules: []\n  - pattern: x\n",
    "\uFEFFrules: []\n",
    "---\nrules: []\n",
  ];
  for (const text of declined) {
    assertEquals(readWrittenPermissionFile(text, MAX_RULES), undefined, text);
  }
  const twoRules = reviewPermissionText("b@x.org", true);
  assertEquals(readWrittenPermissionFile(twoRules, 1), undefined, "more rules than allowed");
});

const SCALARS = [
  "x",
  "data/**",
  "*.csv",
  "**",
  "*",
  "bob@x.org",
  "o'hara@y.org",
  "{{.UserEmail}}/**",
  "{{.Other}}",
  "null",
  "Null",
  "true",
  "No",
  "y",
  "~",
  "1e5",
  "0x1F",
  "0o7",
  "12",
  "1bob@x.org",
  "2024/*.csv",
  ".inf",
  "-x",
  "a b",
  "a#b",
  "a: b",
  "a,b",
  "[x]",
  "",
  "'",
  '"',
  "\\",
  "é/**",
  "\u{1F600}",
  "a\tb",
  "@x",
  "&a",
  "!t",
  "%x",
  "a'*",
  "/abs",
] as const;

function quoted(s: string, style: number): string {
  if (style === 0) return s; // plain, whatever it makes of it
  if (style === 1) return `'${s.replaceAll("'", "''")}'`;
  if (style === 2) return JSON.stringify(s);
  return `'${s}'`; // quotes not doubled: often invalid
}

/** A random file in (mostly) the written layout, with random scalars in random quoting. */
function randomFile(next: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const scalar = () => quoted(pick(SCALARS), Math.floor(next() * 4));
  const lines: string[] = [];
  const comment = () => {
    if (next() < 0.15) lines.push(pick(["# c", "#", "# é \u{1F600}", "#\tx", " # indented"]));
  };
  const top: string[] = [];
  if (next() < 0.6) top.push(`terminal: ${pick(["true", "false", "True", "no", "1", "'true'"])}`);
  if (next() < 0.9) top.push("rules");
  if (next() < 0.2) top.reverse();
  for (const key of top) {
    comment();
    if (key !== "rules") {
      lines.push(key);
      continue;
    }
    const n = next() < 0.15 ? 0 : Math.floor(next() * 4);
    lines.push(n === 0 && next() < 0.8 ? "rules: []" : "rules:");
    for (let r = 0; r < n; r++) {
      comment();
      lines.push(`  - pattern: ${scalar()}`);
      if (next() < 0.05) continue;
      lines.push("    access:");
      const names = ["admin", "write", "read", "read", "other"].filter(() => next() < 0.5);
      for (const name of names) {
        comment();
        const k = Math.floor(next() * 4);
        const entries = Array.from({ length: k }, scalar);
        lines.push(`      ${name}: [${entries.join(pick([", ", ", ", ",", " ,"]))}]`);
      }
    }
  }
  comment();
  const text = lines.join("\n");
  return next() < 0.9 ? text + "\n" : text;
}

Deno.test("on random permission files, whatever the quick reader takes the YAML parser reads the same", () => {
  const next = prng(0x9e12);
  let taken = 0;
  for (let i = 0; i < 3000; i++) if (agrees(randomFile(next))) taken++;
  assert(taken > 300, `only ${taken} of 3000 random files were taken`);
});

Deno.test("on random edits of written files, whatever the quick reader takes the YAML parser reads the same", () => {
  const next = prng(0x51ed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const pieces = [
    "'",
    '"',
    "\\",
    " ",
    "\n",
    ":",
    "#",
    "-",
    "*",
    "0",
    "a",
    "@",
    ",",
    "[",
    "]",
    "\t",
    "é",
  ];
  const bases = writtenTexts();
  let taken = 0;
  for (let i = 0; i < 3000; i++) {
    let text = pick(bases);
    for (let edits = 1 + Math.floor(next() * 2); edits > 0; edits--) {
      const at = Math.floor(next() * text.length);
      text = next() < 0.5
        ? text.slice(0, at) + pick(pieces) + text.slice(at)
        : text.slice(0, at) + text.slice(at + 1);
    }
    if (agrees(text)) taken++;
  }
  assert(taken > 300, `only ${taken} of 3000 edited files were taken`);
});

Deno.test("errors are the YAML parser's, line and reason, whichever route a file would take", () => {
  const bad = "rules:\n  - pattern: '**'\n    access:\n      read: ['{{.Other}}']\n";
  const r = parsePermissionFile(bad, "public");
  assertEquals(r.ok, false);
  if (!r.ok) {
    assertEquals(r.error.line, 4);
    assertEquals(
      r.error.reason,
      'rule 1: `read` entry uses the template "{{.Other}}"; only {{.UserEmail}} is supported',
    );
  }
});

Deno.test("with the parser on demand, a written file parses without it and another asks for it once", async () => {
  // A fresh parse.ts, evaluated while on demand is asked for (it reads the choice once).
  loadYamlParserOnDemand();
  let fresh: typeof import("../../../core/permissions/parse.ts");
  try {
    fresh = await import(
      new URL("../../../core/permissions/parse.ts?on-demand", import.meta.url).href
    );
  } finally {
    loadYamlParserOnDemand(false);
  }
  const written = DEFAULT_PERMISSION_FILES["public/syft.pub.yaml"]!;
  assertEquals(
    fresh.parsePermissionFile(written, "public"),
    parsePermissionFile(written, "public"),
  );
  const hand = "rules:\n  - pattern: '**'  # everything\n    access: {read: ['*']}\n";
  let runs = 0;
  const work = () => {
    runs++;
    return Promise.resolve(fresh.parsePermissionFile(hand, "public"));
  };
  await assertRejects(work, (err) => assert(err instanceof PermissionParserNeeded, String(err)));
  runs = 0;
  assertEquals(await fresh.withPermissionParser(work), parsePermissionFile(hand, "public"));
  assertEquals(runs, 2, "refused without the parser, then run again with it");
  runs = 0;
  await fresh.withPermissionParser(work);
  assertEquals(runs, 1, "once loaded, the parser stays");
});
