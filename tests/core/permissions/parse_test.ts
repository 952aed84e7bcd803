import {
  formatPermissionFileError,
  MAX_PERMISSION_FILE_BYTES,
  MAX_RULES,
  parsePermissionFile,
  type ParseResult,
  type PermissionFileError,
  type RuleSet,
} from "../../../core/permissions/mod.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../assert.ts";

function ok(result: ParseResult): RuleSet {
  if (!result.ok) {
    throw new Error(`expected a valid file, got ${formatPermissionFileError(result.error)}`);
  }
  return result.ruleSet;
}

function invalid(result: ParseResult): PermissionFileError {
  if (result.ok) throw new Error(`expected an invalid file, got ${JSON.stringify(result.ruleSet)}`);
  return result.error;
}

/** Runs `fn`, asserting it took less than `ms`: "refused fast" made checkable. */
function fast<T>(ms: number, fn: () => T): T {
  const start = performance.now();
  const out = fn();
  const took = performance.now() - start;
  assert(took < ms, `took ${took.toFixed(0)} ms, more than ${ms} ms`);
  return out;
}

Deno.test("parse reads terminal and rules with their lines", () => {
  const text = [
    "# comment",
    "terminal: true",
    "rules:",
    "  - pattern: '**/*.csv'",
    "    access:",
    "      admin: [a@x.org]",
    "      write: []",
    "      read: ['*', 'USER']",
    "  - pattern: reports/q1.csv",
    "    access: {read: ['*@hospital.org']}",
  ].join("\n");
  assertEquals(ok(parsePermissionFile(text, "public")), {
    terminal: true,
    rules: [
      {
        pattern: "**/*.csv",
        access: { admin: ["a@x.org"], write: [], read: ["*", "USER"] },
        line: 4,
      },
      {
        pattern: "reports/q1.csv",
        access: { admin: [], write: [], read: ["*@hospital.org"] },
        line: 9,
      },
    ],
  });
});

Deno.test("parse accepts bytes, and a byte-order mark", () => {
  const bytes = new TextEncoder().encode(
    "\ufeffrules:\n  - pattern: a\n    access: {read: [b@x.org]}\n",
  );
  assertEquals(ok(parsePermissionFile(bytes, "")).rules[0]?.access.read, ["b@x.org"]);
});

Deno.test("an empty file, or one with only comments, grants nothing", () => {
  for (const text of ["", "\n\n", "# nothing here\n", "~\n"]) {
    assertEquals(
      ok(parsePermissionFile(text, "")),
      { terminal: false, rules: [] },
      JSON.stringify(text),
    );
  }
});

Deno.test("absent terminal, rules and access lists take their defaults", () => {
  assertEquals(ok(parsePermissionFile("terminal: false\n", "")), { terminal: false, rules: [] });
  assertEquals(
    ok(parsePermissionFile("rules:\n  - pattern: ''\n    access: {}\n", "")).rules[0]?.access,
    { admin: [], write: [], read: [] },
  );
});

Deno.test("unknown keys are ignored at every level", () => {
  const text = [
    "version: 2",
    "owner: {nested: [1, 2]}",
    "rules:",
    "  - pattern: a",
    "    comment: hello",
    "    access:",
    "      read: [b@x.org]",
    "      execute: [c@x.org]",
    "    123: numeric key",
  ].join("\n");
  assertEquals(ok(parsePermissionFile(text, "")).rules, [
    { pattern: "a", access: { admin: [], write: [], read: ["b@x.org"] }, line: 4 },
  ]);
});

const INVALID: readonly [string, string, number | null, RegExp][] = [
  ["a rule without pattern", "rules:\n  - access: {read: ['*']}\n", 2, /rule 1 has no `pattern`/],
  [
    "a rule without access",
    "rules:\n  - pattern: a\n  - pattern: b\n",
    2,
    /rule 1 has no `access`/,
  ],
  [
    "a second rule without access",
    "rules:\n  - pattern: a\n    access: {}\n  - pattern: b\n",
    4,
    /rule 2 has no `access`/,
  ],
  [
    "an access list that is a string",
    "rules:\n  - pattern: '**'\n    access:\n      read: '*'\n",
    4,
    /`read` must be a list of strings/,
  ],
  [
    "a number in an access list",
    "rules:\n  - pattern: a\n    access:\n      read: ['a@x.org', 42]\n",
    4,
    /`read` must be a list of strings \(found the number 42\)/,
  ],
  [
    "a boolean in an access list",
    "rules:\n  - pattern: a\n    access:\n      write:\n        - true\n",
    5,
    /found the boolean true/,
  ],
  [
    "a nested list in an access list",
    "rules:\n  - pattern: a\n    access:\n      admin: [[a@x.org]]\n",
    4,
    /found a nested collection/,
  ],
  [
    "an empty access list value",
    "rules:\n  - pattern: a\n    access:\n      read:\n",
    4,
    /write read: \[\] for nobody/,
  ],
  [
    "a mapping as an access list",
    "rules:\n  - pattern: a\n    access:\n      read: {a: b}\n",
    4,
    /found a mapping/,
  ],
  ["a string terminal", "terminal: 'yes'\n", 1, /`terminal` must be true or false/],
  ["a YAML 1.1 yes terminal", "terminal: yes\n", 1, /`terminal` must be true or false/],
  ["a numeric terminal", "\nterminal: 1\n", 2, /`terminal` must be true or false/],
  ["rules that are not a list", "rules: {pattern: a}\n", 1, /`rules` must be a list/],
  ["a rule that is a string", "rules:\n  - '**'\n", 2, /rule 1 must be a mapping/],
  [
    "a numeric pattern",
    "rules:\n  - pattern: 2024\n    access: {}\n",
    2,
    /`pattern` must be a string/,
  ],
  [
    "an access that is a list",
    "rules:\n  - pattern: a\n    access: [a]\n",
    3,
    /`access` must be a mapping/,
  ],
  ["a file that is a list", "- a\n- b\n", 1, /must be a mapping/],
  ["a file that is a string", "hello\n", 1, /must be a mapping/],
  ["unparsable YAML", "rules:\n  - pattern: [\n", 3, /not valid YAML/],
  ["a tab-indented YAML", "rules:\n\t- pattern: a\n", 2, /not valid YAML/],
  ["two documents", "rules: []\n---\nrules: []\n", 2, /not valid YAML/],
  ["a repeated key", "rules: []\nterminal: true\nrules: []\n", 3, /repeats the key "rules"/],
  [
    "a repeated access list",
    "rules:\n  - pattern: a\n    access:\n      read: [a]\n      read: [b]\n",
    5,
    /repeats the key "read"/,
  ],
  [
    "another template in a pattern",
    "rules:\n  - pattern: '{{.User}}/**'\n    access: {}\n",
    2,
    /template "\{\{\.User\}\}"; only \{\{\.UserEmail\}\}/,
  ],
  [
    "a spaced template",
    "rules:\n  - pattern: '{{ .UserEmail }}/**'\n    access: {}\n",
    2,
    /template "\{\{ \.UserEmail \}\}"/,
  ],
  [
    "a template in an access entry",
    "rules:\n  - pattern: a\n    access:\n      read: ['{{.Owner}}']\n",
    4,
    /`read` entry uses the template/,
  ],
];

for (const [what, text, line, reason] of INVALID) {
  Deno.test(`parse refuses ${what}, naming the line`, () => {
    const e = invalid(parsePermissionFile(text, "data/in"));
    assertEquals(e.file, "data/in/syft.pub.yaml");
    assertMatch(e.reason, reason);
    assertEquals(e.line, line, e.reason);
  });
}

Deno.test("parse accepts {{.UserEmail}} in patterns", () => {
  assertEquals(
    ok(
      parsePermissionFile(
        "rules:\n  - pattern: '{{.UserEmail}}/**'\n    access: {write: [USER]}\n",
        "",
      ),
    )
      .rules[0]?.pattern,
    "{{.UserEmail}}/**",
  );
});

Deno.test("parse refuses bytes that are not UTF-8", () => {
  const e = invalid(parsePermissionFile(new Uint8Array([0x72, 0x75, 0xff, 0xfe]), ""));
  assertEquals(e, { file: "syft.pub.yaml", line: null, reason: "it is not valid UTF-8" });
});

Deno.test("a 10 MB permission file is refused fast, as text and as bytes", () => {
  const text = "rules: []\n# " + "x".repeat(10 * 1024 * 1024);
  const e1 = fast(50, () => invalid(parsePermissionFile(text, "")));
  assertStringIncludes(e1.reason, `more than the ${MAX_PERMISSION_FILE_BYTES} bytes`);
  const e2 = fast(50, () => invalid(parsePermissionFile(new Uint8Array(10 * 1024 * 1024), "")));
  assertStringIncludes(e2.reason, "10485760 bytes");
  assertEquals(e2.line, null);
});

Deno.test("the size cap counts UTF-8 bytes, not characters", () => {
  const cap = 100;
  const text = "# " + "é".repeat(60) + "\n"; // 63 characters, 123 bytes
  assertStringIncludes(
    invalid(parsePermissionFile(text, "", { maxBytes: cap })).reason,
    "123 bytes",
  );
  assert(parsePermissionFile("# " + "é".repeat(40) + "\n", "", { maxBytes: cap }).ok);
});

Deno.test("100,000 rules do not hang: a file that size is refused by its size at once", () => {
  let text = "rules:\n";
  for (let i = 0; i < 100_000; i++) {
    text += `  - {pattern: 'f${i}.csv', access: {read: [u${i}@x.org]}}\n`;
  }
  const e = fast(50, () => invalid(parsePermissionFile(text, "")));
  assertStringIncludes(e.reason, `more than the ${MAX_PERMISSION_FILE_BYTES} bytes`);
});

Deno.test("more rules than the cap are refused with the count, even when the size cap is lifted", () => {
  let text = "rules:\n";
  for (let i = 0; i <= MAX_RULES; i++) text += `  - {pattern: 'f${i}', access: {}}\n`;
  const e = fast(5_000, () => invalid(parsePermissionFile(text, "", { maxBytes: Infinity })));
  assertEquals(
    e.reason,
    `it has ${MAX_RULES + 1} rules, more than the ${MAX_RULES} a permission file may have`,
  );
  assertEquals(e.line, 2);
});

Deno.test("the largest file within the size cap parses in well under a second", () => {
  let text = "rules:\n";
  for (let i = 0; text.length < MAX_PERMISSION_FILE_BYTES - 100; i++) {
    text += `  - pattern: 'f${i}/**'\n    access:\n      read: ['*']\n`;
  }
  const rules = fast(2_000, () => ok(parsePermissionFile(text, ""))).rules;
  assert(rules.length > 4_000, `only ${rules.length} rules`);
});

const BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
  "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
  "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
  "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]",
  "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]",
  "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]",
].join("\n");

Deno.test("a YAML alias bomb in an access list is refused fast", () => {
  const text = `${BOMB}\nrules:\n  - pattern: '**'\n    access:\n      read: *i\n`;
  const e = fast(200, () => invalid(parsePermissionFile(text, "")));
  assertStringIncludes(e.reason, "`read` must be a list of strings");
});

Deno.test("a YAML alias bomb under an unknown key is never expanded", () => {
  const text = `${BOMB}\nrules:\n  - pattern: '**'\n    access: {read: ['*']}\n`;
  assertEquals(fast(200, () => ok(parsePermissionFile(text, ""))).rules.length, 1);
});

Deno.test("more than 100 aliases are refused as an alias bomb", () => {
  let text = "x: &r {pattern: '**', access: {read: ['*']}}\nrules:\n";
  for (let i = 0; i < 1000; i++) text += "  - *r\n";
  const e = fast(500, () => invalid(parsePermissionFile(text, "")));
  assertStringIncludes(e.reason, "more than 100 aliases");
  assertEquals(e.line, 103);
});

Deno.test("a few aliases are fine", () => {
  const text =
    "team: &team [a@x.org, b@x.org]\nrules:\n  - pattern: '**'\n    access:\n      read: *team\n";
  assertEquals(ok(parsePermissionFile(text, "")).rules[0]?.access.read, ["a@x.org", "b@x.org"]);
});

Deno.test("deep nesting is refused, not a crash", () => {
  const e = invalid(parsePermissionFile("rules: " + "[".repeat(50_000) + "]".repeat(50_000), ""));
  assertMatch(e.reason, /not valid YAML|nests too deeply/);
});

Deno.test("formatPermissionFileError names the file and line", () => {
  assertEquals(
    formatPermissionFileError({
      file: "a/syft.pub.yaml",
      line: 3,
      reason: "rule 1 has no `pattern`",
    }),
    "a/syft.pub.yaml:3: rule 1 has no `pattern`",
  );
  assertEquals(
    formatPermissionFileError({
      file: "syft.pub.yaml",
      line: null,
      reason: "it is not valid UTF-8",
    }),
    "syft.pub.yaml: it is not valid UTF-8",
  );
});

Deno.test("the error names the file from its folder, slashes normalised", () => {
  assertEquals(
    invalid(parsePermissionFile("x: [", "/public//data/")).file,
    "public/data/syft.pub.yaml",
  );
  assertEquals(invalid(parsePermissionFile("x: [", "")).file, "syft.pub.yaml");
});
