import assert from "node:assert/strict";
import { SyftError } from "../../../core/errors/mod.ts";
import { parseQueryPath } from "../../../core/paths/mod.ts";

const CASES: readonly [string, string, readonly string[], boolean][] = [
  ["an ordinary path", "public/data.csv", ["public", "data.csv"], false],
  [
    "a doubled slash, dropping the empty segment",
    "public//data.csv",
    ["public", "data.csv"],
    false,
  ],
  ["a trailing slash, dropping it", "public/data.csv/", ["public", "data.csv"], false],
  ["a leading slash, dropping it", "/public/data.csv", ["public", "data.csv"], false],
  ["a//b/ as a and b", "a//b/", ["a", "b"], false],
  ["an empty path as the datasite root", "", [], false],
  ["a lone slash as the datasite root", "/", [], false],
  [
    "a .. segment, keeping it in place",
    "public/../private/x",
    ["public", "..", "private", "x"],
    true,
  ],
  ["a leading ..", "../carol@example.com/x", ["..", "carol@example.com", "x"], true],
  ["a . segment, keeping it in place", "./public/x", [".", "public", "x"], true],
  ["a trailing . segment", "public/.", ["public", "."], true],
  ["names that only start with dots", ".env/...", [".env", "..."], false],
  [
    "a permission file with a trailing slash",
    "public/syft.pub.yaml/",
    ["public", "syft.pub.yaml"],
    false,
  ],
  ["control characters other than NUL", "a\nb/c\u0085", ["a\nb", "c\u0085"], false],
  ["a backslash, as a plain character", "a\\b", ["a\\b"], false],
  ["unicode names", "données/été.csv", ["données", "été.csv"], false],
  ["exactly 4096 bytes", "a".repeat(4096), ["a".repeat(4096)], false],
];

for (const [what, raw, segments, hasDotSegment] of CASES) {
  Deno.test(`parseQueryPath() reads ${what}`, () => {
    const query = parseQueryPath(raw);
    assert.deepEqual(query.segments, segments);
    assert.equal(query.hasDotSegment, hasDotSegment);
    assert.equal(query.text, segments.join("/"));
  });
}

const REJECTED: readonly [string, string, RegExp][] = [
  ["a NUL character", "public/x\u0000.csv", /NUL character \(U\+0000\) at index 8$/],
  ["a lone NUL", "\u0000", /NUL character/],
  ["a path over 4096 bytes", "a".repeat(4097), /longer than 4096 bytes$/],
  [
    "a path over 4096 bytes in fewer code units",
    "é".repeat(2049),
    /4098 bytes long, more than 4096$/,
  ],
  ["a lone surrogate", "a/\udc00", /lone surrogate U\+DC00 at index 2$/],
];

for (const [what, raw, message] of REJECTED) {
  Deno.test(`parseQueryPath() rejects ${what}`, () => {
    assert.throws(() => parseQueryPath(raw), (err: unknown) => {
      assert.ok(err instanceof SyftError);
      assert.equal(err.code, "E_INPUT");
      assert.match(err.message, /^path ".*" cannot name a file: /);
      assert.match(err.message, message);
      assert.ok(!/\p{Cc}/u.test(err.message), "the message must be one printable line");
      return true;
    });
  });
}

Deno.test("parseQueryPath() uses the caller's word for the path in its message", () => {
  assert.throws(() => parseQueryPath("\u0000", "query"), {
    message: 'query "\\u0000" cannot name a file: it contains a NUL character (U+0000) at index 0',
  });
});

Deno.test("parseQueryPath() returns segments that cannot be changed", () => {
  const query = parseQueryPath("a/b");
  assert.ok(Object.isFrozen(query.segments));
});
