import { SyftError } from "../../../core/errors/mod.ts";
import { parseQueryPath } from "../../../core/paths/mod.ts";
import { buildBenchFixture } from "../../../core/permissions/bench.ts";
import { splitSimplePath } from "../../../core/permissions/engine.ts";
import {
  ACCESS_LEVELS,
  type AccessLevel,
  PermissionEngine,
  type RuleSet,
} from "../../../core/permissions/mod.ts";
import { DEFAULT_PERMISSION_FILES } from "../../../core/datasite/layout.ts";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../../assert.ts";
import { prng } from "../../../core/random/prng.ts";

const OWNER = "owner@test.com";

function rule(
  pattern: string,
  access: { admin?: string[]; write?: string[]; read?: string[] },
): string {
  const list = (xs: string[] | undefined) => JSON.stringify(xs ?? []);
  return `  - pattern: ${JSON.stringify(pattern)}\n    access:\n      admin: ${
    list(access.admin)
  }\n      write: ${list(access.write)}\n      read: ${list(access.read)}\n`;
}

function engineWith(files: Record<string, string>): PermissionEngine {
  const engine = new PermissionEngine();
  for (const [folder, text] of Object.entries(files)) engine.setFile(folder, text);
  return engine;
}

function can(
  e: PermissionEngine,
  user: string,
  path: string,
  level: AccessLevel = "read",
): boolean {
  const d = e.check(OWNER, path, user, level);
  assertEquals(
    e.allows(OWNER, path, user, level),
    d.allowed,
    `allows() and check() disagree: ${d.reason}`,
  );
  return d.allowed;
}

Deno.test("check() answers {allowed, governing_file, rule, reason} for the CLI's --json", () => {
  const e = engineWith({ public: "rules:\n" + rule("**", { read: ["*"] }) });
  const d = e.check(OWNER, "public/a.csv", "bob@x.org", "read");
  assertEquals(d.allowed, true);
  assertEquals(d.governing_file, "public/syft.pub.yaml");
  assertEquals(d.rule, { index: 0, pattern: "**", line: 2 });
  assertEquals(d.level, "read");
  assertEquals(d.file_error, null);
  assertStringIncludes(d.reason, `grants "bob@x.org" read through read: "*"`);
  const json = JSON.parse(JSON.stringify(d));
  for (const key of ["allowed", "governing_file", "rule", "reason"]) assert(key in json, key);
});

Deno.test("the specificity ladder picks the most specific matching rule, whatever the file order", () => {
  const ladder = ["**", "**/*.csv", "*.csv", "reports/**", "reports/q1.csv", "{{.UserEmail}}/**"];
  const text = "rules:\n" +
    ladder.map((p, i) => rule(p, { read: [`r${i}@x.org`, "probe@x.org"] })).join("");
  const e = engineWith({ "": text });
  const consulted = (path: string, user = "probe@x.org") =>
    e.check(OWNER, path, user, "read").rule?.pattern;
  assertEquals(consulted("probe@x.org/reports/q1.csv"), "{{.UserEmail}}/**");
  assertEquals(consulted("reports/q1.csv"), "reports/q1.csv");
  assertEquals(consulted("reports/q2.csv"), "reports/**");
  assertEquals(consulted("data.csv"), "*.csv");
  assertEquals(consulted("sub/data.csv"), "**/*.csv");
  assertEquals(consulted("notes.txt"), "**");
  // Only the first match counts: the ** rule's reader gets nothing from reports/q1.csv.
  assertEquals(can(e, "r0@x.org", "reports/q1.csv"), false);
  assertEquals(can(e, "r4@x.org", "reports/q1.csv"), true);
  // Indexes are file positions, not sorted positions.
  assertEquals(e.check(OWNER, "reports/q1.csv", "probe@x.org", "read").rule?.index, 4);
});

Deno.test("rules of equal specificity are tried in file order", () => {
  const e = engineWith({
    "": "rules:\n" + rule("a*", { read: ["first@x.org"] }) +
      rule("*.csv", { read: ["second@x.org"] }),
  });
  assertEquals(can(e, "first@x.org", "ab.csv"), true);
  assertEquals(can(e, "second@x.org", "ab.csv"), false);
  assertEquals(can(e, "second@x.org", "b.csv"), true);
});

Deno.test("admin ⊇ write ⊇ read", () => {
  const e = engineWith({
    "": "rules:\n" + rule("**", { admin: ["a@x.org"], write: ["w@x.org"], read: ["r@x.org"] }),
  });
  const table: [string, AccessLevel, boolean][] = [
    ["a@x.org", "admin", true],
    ["a@x.org", "write", true],
    ["a@x.org", "read", true],
    ["w@x.org", "admin", false],
    ["w@x.org", "write", true],
    ["w@x.org", "read", true],
    ["r@x.org", "admin", false],
    ["r@x.org", "write", false],
    ["r@x.org", "read", true],
  ];
  for (const [user, level, expected] of table) {
    assertEquals(can(e, user, "f", level), expected, `${user} ${level}`);
  }
});

Deno.test("the owner is allowed by exact string equality only", () => {
  const e = engineWith({ "": "terminal: true\nrules: []\n" });
  assertEquals(can(e, OWNER, "any/file", "admin"), true);
  assertEquals(can(e, "Owner@test.com", "any/file"), false);
  assertEquals(can(e, "owner@test.com ", "any/file"), false);
  assertEquals(e.check(OWNER, "x", OWNER, "write").governing_file, null);
});

Deno.test("a terminal file governs its whole subtree; deeper files are ignored, never merged", () => {
  const e = engineWith({
    "": "rules:\n" + rule("**", { read: ["*"] }),
    "a": "terminal: true\nrules:\n" + rule("**", { read: ["alice@x.org"] }),
    "a/b": "rules:\n" + rule("**", { read: ["bob@x.org"] }),
  });
  assertEquals(can(e, "bob@x.org", "a/b/f.txt"), false);
  assertEquals(can(e, "alice@x.org", "a/b/f.txt"), true);
  assertEquals(e.check(OWNER, "a/b/f.txt", "bob@x.org", "read").governing_file, "a/syft.pub.yaml");
  assertEquals(e.explain(OWNER, "a/b/f.txt").ignored_files, ["a/b/syft.pub.yaml"]);
  // The root's ** read * does not leak into a/ either.
  assertEquals(can(e, "carol@x.org", "a/f.txt"), false);
  assertEquals(can(e, "carol@x.org", "f.txt"), true);
});

Deno.test("a non-terminal file is replaced, not merged, by a deeper one", () => {
  const e = engineWith({
    "": "rules:\n" + rule("**", { read: ["*"] }),
    "a/b": "rules:\n" + rule("*.csv", { read: ["alice@x.org"] }),
  });
  assertEquals(can(e, "bob@x.org", "a/b/x.txt"), false, "no rule matches in a/b: deny");
  assertEquals(
    e.check(OWNER, "a/b/x.txt", "bob@x.org", "read").reason.startsWith("no rule in"),
    true,
  );
  assertEquals(can(e, "bob@x.org", "a/x.txt"), true);
});

Deno.test("a folder's own file governs the folder itself", () => {
  const e = engineWith({
    "": "rules: []\n",
    "shared": "rules:\n" + rule("", { read: ["bob@x.org"] }),
  });
  assertEquals(can(e, "bob@x.org", "shared"), true);
  assertEquals(can(e, "bob@x.org", "shared/"), true);
  assertEquals(can(e, "bob@x.org", "shared/x"), false);
});

Deno.test("an invalid file governs its subtree as terminal and denies everything, naming the problem", () => {
  const e = engineWith({
    "": "rules:\n" + rule("**", { read: ["*"] }),
    "broken": "rules:\n  - pattern: '**'\n    access:\n      read: '*'\n",
    "broken/deeper": "rules:\n" + rule("**", { read: ["*"] }),
  });
  const d = e.check(OWNER, "broken/deeper/x.txt", "bob@x.org", "read");
  assertEquals(d.allowed, false);
  assertEquals(d.governing_file, "broken/syft.pub.yaml");
  assertEquals(d.file_error?.line, 4);
  assertStringIncludes(d.reason, "is invalid at line 4");
  assertEquals(can(e, "bob@x.org", "other.txt"), true);
  assertEquals(e.invalidFiles().map((f) => f.file), ["broken/syft.pub.yaml"]);
  assertEquals(e.check(OWNER, "broken/x", OWNER, "admin").allowed, true, "the owner still can");
});

Deno.test("no permission file at all denies everyone but the owner", () => {
  const e = new PermissionEngine();
  const d = e.check(OWNER, "a.txt", "bob@x.org", "read");
  assertEquals([d.allowed, d.governing_file, d.rule], [false, null, null]);
  assertEquals(can(e, OWNER, "a.txt", "admin"), true);
});

Deno.test("a permission file needs admin, also read, also with a trailing slash", () => {
  const e = engineWith({
    "": "rules:\n" + rule("**", { write: ["w@x.org"], read: ["*"] }),
    "public": "rules:\n" + rule("**", { admin: ["adm@x.org"], write: ["w@x.org"], read: ["*"] }),
  });
  for (const path of ["public/syft.pub.yaml", "public/syft.pub.yaml/", "/public//syft.pub.yaml"]) {
    for (const level of ACCESS_LEVELS) {
      const d = e.check(OWNER, path, "w@x.org", level);
      assertEquals(d.allowed, false, `${path} ${level}`);
      assertEquals(d.level, "admin");
    }
    assertEquals(can(e, "adm@x.org", path, "write"), true);
    assertEquals(can(e, "adm@x.org", path, "read"), true);
  }
  assertStringIncludes(
    e.check(OWNER, "public/syft.pub.yaml", "w@x.org", "read").reason,
    "needs admin",
  );
  // Step 3 reads "ends with": a look-alike name is raised too.
  assertEquals(can(e, "w@x.org", "public/old.syft.pub.yaml", "read"), false);
  // A new nested permission file is governed by the nearest existing one.
  assertEquals(can(e, "adm@x.org", "public/new/deeper/syft.pub.yaml", "write"), true);
  assertEquals(can(e, "w@x.org", "public/new/deeper/syft.pub.yaml", "write"), false);
  assertEquals(can(e, "w@x.org", "top/syft.pub.yaml", "write"), false);
  assertEquals(can(e, "w@x.org", "public/data.csv", "write"), true);
});

Deno.test("the top-level private/ folder is never open to peers, and the reason says a rule tried", () => {
  const e = engineWith({
    "": "rules:\n" + rule("**", { admin: ["*"] }),
    "private": "rules:\n" + rule("**", { read: ["*"] }),
  });
  for (
    const path of ["private", "private/", "private/x.csv", "private/a/b/c", "private/syft.pub.yaml"]
  ) {
    for (const level of ACCESS_LEVELS) {
      assertEquals(can(e, "bob@x.org", path, level), false, `${path} ${level}`);
    }
    assertEquals(can(e, OWNER, path, "write"), true);
  }
  const d = e.check(OWNER, "private/x.csv", "bob@x.org", "read");
  assertStringIncludes(d.reason, "never shared with peers");
  assertStringIncludes(d.reason, "which is ignored");
  assertEquals(d.governing_file, "private/syft.pub.yaml");
  // Only the top-level folder: others of that name are ordinary.
  assertEquals(can(e, "bob@x.org", "a/private/x"), true);
  assertEquals(can(e, "bob@x.org", "privates/x"), true);
  assertEquals(can(e, "bob@x.org", "Private/x"), true);
});

Deno.test("the default datasite layout: public readable, the rest owner-only", () => {
  const e = new PermissionEngine();
  for (const [path, text] of Object.entries(DEFAULT_PERMISSION_FILES)) {
    e.setFile(path.split("/").slice(0, -1).join("/"), text);
  }
  assertEquals(e.invalidFiles(), []);
  assertEquals(can(e, "bob@x.org", "public/data.csv"), true);
  assertEquals(can(e, "bob@x.org", "public/data.csv", "write"), false);
  assertEquals(can(e, "bob@x.org", "notes.txt"), false);
  assertEquals(can(e, "bob@x.org", "private/notes.txt"), false);
});

Deno.test(". and .. segments deny, without normalising", () => {
  const e = engineWith({
    "": "rules:\n" + rule("**", { read: ["*"] }) + rule("a/..b/c", { read: ["*"] }),
  });
  for (const path of ["a/../b", "../x", "./a", "a/.", "public/../private/x"]) {
    const d = e.check(OWNER, path, "bob@x.org", "read");
    assertEquals(d.allowed, false, path);
    assertStringIncludes(d.reason, `"." or ".." segment`);
  }
  assertEquals(can(e, "bob@x.org", "a/..b/c"), true, "names that only start with dots are names");
});

Deno.test("a path that cannot name a file is denied, not thrown", () => {
  const e = engineWith({ "": "rules:\n" + rule("**", { read: ["*"] }) });
  for (const path of ["a\u0000b", "a".repeat(5000), "x/\ud800"]) {
    const d = e.check(OWNER, path, "bob@x.org", "read");
    assertEquals(d.allowed, false);
    assertStringIncludes(d.reason, "cannot be checked");
    assertEquals(e.allows(OWNER, path, "bob@x.org", "read"), false);
  }
  // Valid astral characters go through the full parser and are fine.
  assertEquals(can(e, "bob@x.org", "data/😀.csv"), true);
});

Deno.test("USER is the checking user with a template, and any user without", () => {
  const e = engineWith({
    "": "rules:\n" + rule("{{.UserEmail}}/**", { write: ["USER"] }) +
      rule("public/**", { read: ["USER"] }),
  });
  assertEquals(can(e, "alice@x.org", "alice@x.org/f", "write"), true);
  assertEquals(can(e, "alice@x.org", "bob@x.org/f", "write"), false);
  assertEquals(can(e, "anyone@y.org", "public/f"), true);
  assertEquals(can(e, "anyone@y.org", "public/f", "write"), false);
});

Deno.test("a user id with glob characters cannot widen a template rule", () => {
  const e = engineWith({ "": "rules:\n" + rule("{{.UserEmail}}/**", { write: ["USER"] }) });
  assertEquals(can(e, "*", "alice@x.org/f", "write"), false);
  assertEquals(can(e, "[a-z]*", "alice@x.org/f", "write"), false);
  assertEquals(can(e, "**", "alice@x.org/f", "write"), false);
});

Deno.test("incremental updates change only the updated folder's subtree", () => {
  const fixture = buildBenchFixture({ files: 300, seed: 7 });
  const e = fixture.engine;
  const folder = [...fixture.files.keys()].find((f) => f.split("/").length === 2) as string;
  const snapshot = () =>
    fixture.paths.slice(0, 3000).flatMap((p) =>
      fixture.users.slice(0, 6).map((u) => `${p}|${u}|${e.allows(fixture.owner, p, u, "read")}`)
    );
  const before = snapshot();
  const sizeBefore = e.size;
  e.setFile(folder, "terminal: true\nrules:\n" + rule("**", { read: ["*"] }));
  assertEquals(e.size, sizeBefore);
  const after = snapshot();
  const changed = before.filter((line, i) => line !== after[i]).map((line) =>
    line.split("|")[0] as string
  );
  assert(changed.length > 0, "the update changed nothing; pick another folder");
  for (const p of changed) {
    assert(p === folder || p.startsWith(`${folder}/`), `${p} changed outside ${folder}`);
  }
  // Removing the file hands the subtree back to the nearest ancestor file.
  assertEquals(e.removeFile(folder), true);
  assertEquals(e.removeFile(folder), false);
  assertEquals(e.size, sizeBefore - 1);
  const gone = e.check(fixture.owner, `${folder}/zz.txt`, "user1@lab.org", "read").governing_file;
  assert(gone !== `${folder}/syft.pub.yaml`, `still governed by the removed file`);
});

Deno.test("setFile replaces a file; removeFile prunes empty folders", () => {
  const e = new PermissionEngine();
  e.setFile("a/b/c", "rules:\n" + rule("**", { read: ["*"] }));
  assertEquals(can(e, "bob@x.org", "a/b/c/x"), true);
  e.setFile("a/b/c", "rules: []\n");
  assertEquals(can(e, "bob@x.org", "a/b/c/x"), false);
  assertEquals(e.size, 1);
  e.removeFile("a/b/c");
  assertEquals(e.size, 0);
  assertEquals(e.files(), []);
  assertEquals(e.getFile("a/b/c"), null);
});

Deno.test("files() lists every file with its rules in trial order; getFile() finds one", () => {
  const e = engineWith({
    "": "rules:\n" + rule("**", { read: ["*"] }) + rule("a.csv", { read: [] }),
    "b": "x: [",
  });
  const files = e.files();
  assertEquals(files.map((f) => [f.file, f.terminal, f.error === null]), [
    ["b/syft.pub.yaml", true, false],
    ["syft.pub.yaml", false, true],
  ]);
  assertEquals(files[1]?.ordered.map((r) => r.pattern), ["a.csv", "**"]);
  assertEquals(e.getFile("/")?.file, "syft.pub.yaml");
});

Deno.test("setFile refuses a folder with . or ..", () => {
  const e = new PermissionEngine();
  assertThrows(() => e.setFile("a/../b", "rules: []"), (err) => {
    assert(err instanceof SyftError && err.code === "E_INPUT");
  });
});

Deno.test("setParsedFile installs a prebuilt 100,000-rule set and checks stay bounded", () => {
  const rules: RuleSet["rules"] = Array.from({ length: 100_000 }, (_, i) => ({
    pattern: `f${i}.csv`,
    access: { admin: [], write: [], read: [`u${i}@x.org`] },
    line: 0,
  }));
  const e = new PermissionEngine();
  let start = performance.now();
  e.setParsedFile("big", {
    ok: true,
    file: "big/syft.pub.yaml",
    ruleSet: { terminal: false, rules },
  });
  assert(performance.now() - start < 5_000, "installing 100,000 rules took too long");
  start = performance.now();
  assertEquals(can(e, "u99999@x.org", "big/f99999.csv"), true);
  assertEquals(can(e, "u1@x.org", "big/f99999.csv"), false);
  assert(performance.now() - start < 1_000, "a worst-case check over 100,000 rules took too long");
});

Deno.test("explain lists the rules in trial order and the decisions per level", () => {
  const e = engineWith({
    "": "rules:\n" + rule("**", { read: ["*"] }) + rule("{{.UserEmail}}/**", { write: ["USER"] }),
  });
  const x = e.explain(OWNER, "/bob@x.org//f.txt", "bob@x.org");
  assertEquals(x.path, "bob@x.org/f.txt");
  assertEquals(x.governing_file, "syft.pub.yaml");
  assertEquals(x.rules.map((r) => [r.pattern, r.matches]), [["{{.UserEmail}}/**", true], [
    "**",
    true,
  ]]);
  assertEquals(x.rule?.pattern, "{{.UserEmail}}/**");
  assertEquals(x.access, { admin: [], write: ["USER"], read: [] });
  assertEquals(
    [x.decisions?.read.allowed, x.decisions?.write.allowed, x.decisions?.admin.allowed],
    [
      true,
      true,
      false,
    ],
  );
  const anon = e.explain(OWNER, "bob@x.org/f.txt");
  assertEquals(anon.rules.map((r) => r.matches), [null, true]);
  assertEquals(anon.rule?.pattern, "**");
  assertEquals(anon.decisions, null);
});

Deno.test("allows() agrees with check() on random checks (seeded)", () => {
  const seed = Number(Deno.env.get("SEED") ?? Date.now() % 100_000);
  const rand = prng(seed);
  const f = buildBenchFixture({ files: 200, seed });
  for (let i = 0; i < 20_000; i++) {
    const path = f.paths[Math.floor(rand() * f.paths.length)] as string;
    const user = f.users[Math.floor(rand() * f.users.length)] as string;
    const level = ACCESS_LEVELS[i % 3] as AccessLevel;
    const d = f.engine.check(f.owner, path, user, level);
    const parsed = f.engine.allows(f.owner, parseQueryPath(path), user, level);
    assertEquals(
      f.engine.allows(f.owner, path, user, level),
      d.allowed,
      `seed ${seed}: ${path} ${user} ${level}`,
    );
    assertEquals(parsed, d.allowed, `seed ${seed}: parsed path ${path}`);
  }
});

Deno.test("the engine's fast path splitter agrees with parseQueryPath (seeded)", () => {
  const seed = Number(Deno.env.get("SEED") ?? Date.now() % 100_000);
  const rand = prng(seed);
  const alphabet = [
    "/",
    "/",
    "a",
    ".",
    "..",
    "é",
    "\u0000",
    "\ud83d\ude00",
    "\ud800",
    "x",
    "syft.pub.yaml",
  ];
  const out: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    let raw = "";
    const n = Math.floor(rand() * 12);
    for (let j = 0; j < n; j++) raw += alphabet[Math.floor(rand() * alphabet.length)];
    if (rand() < 0.01) raw = "a/".repeat(600 + Math.floor(rand() * 200));
    if (!splitSimplePath(raw, out)) continue;
    assertEquals(out, [...parseQueryPath(raw).segments], `seed ${seed}: ${JSON.stringify(raw)}`);
  }
});
