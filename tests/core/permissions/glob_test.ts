/**
 * Pins the glob dialect of docs/permissions.md, corner by corner: the places where
 * off-the-shelf matchers (picomatch, doublestar, fnmatch) disagree with it.
 */
import {
  compareSpecificity,
  compileEmailGlob,
  compilePattern,
  findForeignTemplate,
  matchPattern,
} from "../../../core/permissions/mod.ts";
import { assert, assertEquals } from "../../assert.ts";

/** [pattern, path, expected, why]; the user is "alice@x.org" unless a case says otherwise. */
const TABLE: readonly [string, string, boolean, string][] = [
  // `**` at zero depth and `dir/**` vs `dir`.
  ["**", "", true, "** alone matches the folder itself"],
  ["**", "a", true, "** matches one segment"],
  ["**", "a/b/c", true, "** matches many segments"],
  ["dir/**", "dir", false, "dir/** does not match dir itself"],
  ["dir/**", "dir/a", true, "dir/** matches a child"],
  ["dir/**", "dir/a/b", true, "dir/** matches a grandchild"],
  ["dir/**", "dirx/a", false, "dir/** needs the exact folder name"],
  ["a/**/b", "a/b", true, "a middle ** matches zero segments"],
  ["a/**/b", "a/x/y/b", true, "a middle ** matches several segments"],
  ["a/**/b", "a/x/y/c", false, "the segment after ** must still match"],
  ["**/*.csv", "x.csv", true, "a leading ** matches zero segments"],
  ["**/*.csv", "a/b/x.csv", true, "a leading ** matches several segments"],
  ["**/*.csv", "a/b/x.txt", false, "the last segment must match"],
  ["**/**", "", true, "consecutive ** behave as one ** alone"],
  ["a/**/**", "a", false, "a trailing ** run after a folder still needs a segment"],
  ["a/**/**", "a/b", true, "a trailing ** run matches a child"],
  ["**/a/**/b/**/c", "a/b/c/x", false, "several **: the trailing ** needs a segment"],
  ["**/a/**/b/**/c", "x/a/y/b/z/c", true, "several ** segments"],
  ["**/a/**/b/**/c", "a/b/c", true, "several ** segments, each empty"],
  // `*` stays within a segment; `**` inside a segment acts as `*`.
  ["*", "file.txt", true, "* matches a name"],
  ["*", "sub/file.txt", false, "* does not cross /"],
  ["*", "", false, "* needs a segment"],
  ["a**b", "axyzb", true, "** inside a segment acts as *"],
  ["x**", "x/y", false, "** inside a segment does not cross /"],
  ["*.CSV", "x.csv", false, "case-sensitive"],
  // Dotfiles.
  ["*", ".env", false, "* never matches a leading dot"],
  ["**", ".git/config", false, "** never steps over a dot segment"],
  ["**", "a/.git", false, "** never matches a dot segment at the end"],
  ["**/*.csv", ".hidden/x.csv", false, "** does not enter a dot folder"],
  ["**/*.csv", ".x.csv", false, "*.csv does not match a dotfile"],
  ["a/**/b", "a/.x/b", false, "a middle ** does not step over a dot segment"],
  ["?env", ".env", false, "? never matches a leading dot"],
  ["[.]env", ".env", false, "a class never matches a leading dot"],
  ["[!a]env", ".env", false, "a negated class never matches a leading dot"],
  [".env", ".env", true, "a literal leading dot matches"],
  [".*", ".env", true, "an explicit leading dot opens the wildcard"],
  ["**/.*", ".env", true, "**/.* matches a root dotfile"],
  ["**/.*", "a/b/.env", true, "**/.* matches a nested dotfile"],
  ["**/.*", ".git/config", false, "**/.* does not match inside a dot folder"],
  ["\\.e*", ".env", true, "an escaped leading dot is explicit too"],
  ["a.*", "a.b", true, "dots after the first character are ordinary"],
  // `?` and classes.
  ["?.txt", "a.txt", true, "? matches one character"],
  ["?.txt", "ab.txt", false, "? matches exactly one character"],
  ["?", "é", true, "? matches one non-ASCII character"],
  ["?", "😀", true, "? matches one astral character, not half of it"],
  ["[abc].txt", "b.txt", true, "a class lists characters"],
  ["[abc].txt", "d.txt", false, "a class excludes the rest"],
  ["[a-c]x", "bx", true, "a range"],
  ["[a-c]x", "dx", false, "outside a range"],
  ["[!0-9]*", "a1", true, "[!0-9] is a negated range"],
  ["[!0-9]*", "1a", false, "[!0-9] excludes digits"],
  ["[^a]", "^", true, "^ is not a negation: it is listed"],
  ["[^a]", "b", false, "^ is not a negation: b is not listed"],
  ["[]]", "]", true, "] first in a class is literal"],
  ["[!]]", "a", true, "] first in a negated class is literal"],
  ["[!]]", "]", false, "a negated ] excludes ]"],
  ["[a-]", "-", true, "a trailing - is literal"],
  ["[z-a]", "b", false, "a reversed range matches nothing"],
  ["[abc", "[abc", true, "an unclosed [ is a literal ["],
  ["[\\]]", "]", true, "an escaped ] inside a class"],
  // No braces, no extglob.
  ["{a,b}.txt", "a.txt", false, "braces do not expand"],
  ["{a,b}.txt", "{a,b}.txt", true, "braces are literal"],
  ["*.{csv,txt}", "x.{csv,txt}", true, "braces stay literal next to a wildcard"],
  ["!(a)", "b", false, "no extglob negation"],
  ["!(a)", "!(a)", true, "extglob syntax is literal"],
  ["+(a)*", "+(a)x", true, "extglob syntax is literal next to a wildcard"],
  // Escapes.
  ["\\*.txt", "*.txt", true, "an escaped * is a literal *"],
  ["\\*.txt", "a.txt", false, "an escaped * is not a wildcard"],
  ["a\\?", "a?", true, "an escaped ? is a literal ?"],
  ["\\[x]", "[x]", true, "an escaped [ is a literal ["],
  ["a\\b", "a\\b", true, "a backslash in a pattern without * ? [ is a plain character"],
  ["a\\b", "ab", false, "a literal segment compares as written"],
  ["*\\", "x\\", true, "a trailing backslash stands for itself"],
  // Exact paths and the empty pattern.
  ["", "", true, "the empty pattern matches the folder itself"],
  ["", "a", false, "the empty pattern matches nothing below"],
  ["reports/q1.csv", "reports/q1.csv", true, "an exact path"],
  ["reports/q1.csv", "reports/q1.csv.bak", false, "an exact path is whole"],
  ["/reports//q1.csv/", "reports/q1.csv", true, "empty pattern segments are dropped"],
  // The template is literal text: the user's id never acts as a glob.
  ["{{.UserEmail}}/**", "alice@x.org/f.txt", true, "the template names the user's folder"],
  ["{{.UserEmail}}/**", "bob@x.org/f.txt", false, "the template names only that user"],
  ["{{.UserEmail}}/**", "alice@x.org", false, "the template folder itself is not under /**"],
  ["{{.UserEmail}}.bak", "alice@x.org.bak", true, "the template within a segment"],
  ["*-{{.UserEmail}}", "in-alice@x.org", true, "the template after a wildcard"],
  ["*-{{.UserEmail}}", "in-bob@x.org", false, "the template after a wildcard, other user"],
];

for (const [pattern, path, expected, why] of TABLE) {
  Deno.test(`glob: ${JSON.stringify(pattern)} ${expected ? "matches" : "does not match"} ${JSON.stringify(path)}: ${why}`, () => {
    assertEquals(matchPattern(pattern, path, "alice@x.org"), expected);
  });
}

Deno.test("glob: a user id with glob characters matches only itself through the template", () => {
  const p = compilePattern("{{.UserEmail}}/**");
  assertEquals(p.matches(["alice@x.org", "f"], 0, "*"), false);
  assertEquals(p.matches(["*", "f"], 0, "*"), true);
  const q = compilePattern("pre-{{.UserEmail}}");
  assertEquals(q.matches(["pre-alice@x.org"], 0, "*"), false);
  assertEquals(q.matches(["pre-a.b"], 0, "a?b"), false);
  assertEquals(q.matches(["pre-a?b"], 0, "a?b"), true);
});

Deno.test("glob: a template segment opening with a dotted user id matches that user's dot folder", () => {
  assertEquals(matchPattern("{{.UserEmail}}x", ".ux", ".u"), true);
  assertEquals(matchPattern("*{{.UserEmail}}", ".u", ".u"), false);
});

Deno.test("glob: matching starts at the given offset (the governing folder's depth)", () => {
  const p = compilePattern("*.csv");
  assertEquals(p.matches(["public", "a.csv"], 1, ""), true);
  assertEquals(p.matches(["public", "a.csv"], 0, ""), false);
  assertEquals(compilePattern("").matches(["public"], 1, ""), true);
});

Deno.test("glob: many ** segments against a deep path finish quickly", () => {
  const pattern = Array(50).fill("**").join("/a/") + "/b";
  const path = Array(2000).fill("a");
  const start = performance.now();
  assertEquals(compilePattern(pattern).matches(path, 0, ""), false);
  assert(performance.now() - start < 500, "the ** matcher backtracked exponentially");
});

Deno.test("specificity: the docs/permissions.md ladder sorts most specific first", () => {
  const ladder = ["{{.UserEmail}}/**", "reports/q1.csv", "reports/**", "*.csv", "**/*.csv", "**"];
  const shuffled = [...ladder].reverse();
  const sorted = shuffled.map(compilePattern)
    .sort((a, b) => compareSpecificity(a.key, b.key))
    .map((p) => p.source);
  assertEquals(sorted, ladder);
});

Deno.test("specificity: keys count template, literal, wildcard, ** and total segments", () => {
  assertEquals(compilePattern("{{.UserEmail}}/**").key, [1, 0, 0, -1, 2]);
  assertEquals(compilePattern("reports/q1.csv").key, [0, 2, 0, 0, 2]);
  assertEquals(compilePattern("reports/**").key, [0, 1, 0, -1, 2]);
  assertEquals(compilePattern("*.csv").key, [0, 0, 1, 0, 1]);
  assertEquals(compilePattern("**/*.csv").key, [0, 0, 1, -1, 2]);
  assertEquals(compilePattern("**").key, [0, 0, 0, -1, 1]);
  assertEquals(compilePattern("").key, [0, 0, 0, 0, 0]);
  // Read as written: an escaped * still makes a wildcard segment.
  assertEquals(compilePattern("a\\*b").key, [0, 0, 1, 0, 1]);
  assertEquals(compilePattern("{a,b}").key, [0, 1, 0, 0, 1]);
});

const EMAILS: readonly [string, string, boolean][] = [
  ["*@hospital.org", "alice@hospital.org", true],
  ["*@hospital.org", "alice@sub.hospital.org", false],
  ["*@hospital.org", "eve@hospital.org.evil.org", false],
  ["*@hospital.org", "alice@HOSPITAL.org", false],
  ["user?@x.org", "user1@x.org", true],
  ["user?@x.org", "user12@x.org", false],
  ["[ab]*@x.org", "bob@x.org", true],
  ["[ab]*@x.org", "carol@x.org", false],
  ["alice@x.org", "alice@x.org", true],
  ["alice@x.org", "Alice@x.org", false],
  ["a\\b@x.org", "a\\b@x.org", true],
  ["{a,b}@x.org", "a@x.org", false],
  ["*", "anyone at all", true],
  ["*@x.org", ".dot@x.org", true],
];

for (const [entry, id, expected] of EMAILS) {
  Deno.test(`email glob: ${JSON.stringify(entry)} ${expected ? "admits" : "does not admit"} ${JSON.stringify(id)}`, () => {
    assertEquals(compileEmailGlob(entry).matches(id), expected);
  });
}

Deno.test("templates: only {{.UserEmail}} is recognised", () => {
  assertEquals(findForeignTemplate("{{.UserEmail}}/**"), null);
  assertEquals(findForeignTemplate("{{.UserEmail}}/{{.UserEmail}}"), null);
  assertEquals(findForeignTemplate("{{.User}}/**"), "{{.User}}");
  assertEquals(findForeignTemplate("{{ .UserEmail }}"), "{{ .UserEmail }}");
  assertEquals(findForeignTemplate("a/{{.UserEmail}}/{{.Date}}"), "{{.Date}}");
  assertEquals(findForeignTemplate("{{ unclosed"), null);
});
