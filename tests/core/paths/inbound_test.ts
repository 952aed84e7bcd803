import assert from "node:assert/strict";
import { SyftError } from "../../../core/errors/mod.ts";
import {
  checkInboundPath,
  type InboundPathRule,
  MAX_SEGMENT_BYTES,
  parseInboundPath,
  resolveInside,
  segmentsOf,
} from "../../../core/paths/mod.ts";
import type { DatasitePath } from "../../../core/paths/mod.ts";

const ACCEPTED: readonly [string, string][] = [
  ["a plain file in public", "public/data.csv"],
  ["a job script in an inbox named by an email", "app_data/job/inbox/a@b.org/x/run.sh"],
  ["a single segment", "README.md"],
  ["unicode names", "données/été.csv"],
  ["names in other scripts and emoji", "日本語/файл/😀.txt"],
  ["names with spaces", "my folder/my file.txt"],
  ["names with #, @ and +", "notes/#1 a@b+c.md"],
  ["a percent-encoded dot, which is only text", "%2e%2e/%2e"],
  ["names that start with dots", ".env/..hidden/..."],
  ["a name with a colon after the first character", "ab:c/d:e"],
  ["a name of exactly 255 bytes", "a".repeat(MAX_SEGMENT_BYTES)],
  ["a name of 255 bytes of two-byte characters", "é".repeat(127) + "a"],
  ["a path of exactly 4096 bytes", Array(17).fill("a".repeat(240)).join("/")],
  ["a path of exactly 64 segments", "a/".repeat(63) + "z"],
  ["a tilde, which the shell expands but the parser does not", "~/x"],
  ["a permission file", "public/syft.pub.yaml"],
];

const REJECTED: readonly [string, string, InboundPathRule][] = [
  ["an empty string", "", "empty"],
  ["an absolute path", "/etc/passwd", "absolute"],
  ["a lone slash", "/", "absolute"],
  ["a double leading slash", "//server/share", "absolute"],
  ["a Windows drive letter", "C:/Windows/x", "drive-letter"],
  ["a lower-case drive-relative path", "c:x", "drive-letter"],
  ["a path that climbs out with ..", "../x", "dot-segment"],
  ["a path that climbs out with .. in the middle", "public/../../etc/passwd", "dot-segment"],
  ["a path that ends with ..", "public/..", "dot-segment"],
  ["a lone ..", "..", "dot-segment"],
  ["a . segment", "./public/x", "dot-segment"],
  ["a . segment in the middle", "public/./x", "dot-segment"],
  ["a lone .", ".", "dot-segment"],
  ["an empty segment", "public//data.csv", "empty-segment"],
  ["a trailing slash", "public/", "empty-segment"],
  ["a NUL character", "public/x\u0000.csv", "control-character"],
  ["a newline", "public/x\n.csv", "control-character"],
  ["a tab", "a\tb", "control-character"],
  ["an escape character", "a\u001b[31mb", "control-character"],
  ["U+001F", "a\u001f", "control-character"],
  ["DEL", "a\u007f", "control-character"],
  ["a C1 control", "a\u0085b", "control-character"],
  ["the C1 CSI", "a\u009bb", "control-character"],
  ["U+009F", "a\u009f", "control-character"],
  ["a backslash", "public\\x.csv", "backslash"],
  ["a backslash climbing out", "..\\..\\x", "backslash"],
  ["a lone high surrogate", "a\ud800b", "invalid-unicode"],
  ["a lone low surrogate", "a\udc00b", "invalid-unicode"],
  ["a high surrogate at the end", "a\ud83d", "invalid-unicode"],
  ["swapped surrogates", "a\ude00\ud83d", "invalid-unicode"],
  ["a segment over 255 bytes", "public/" + "a".repeat(256), "segment-too-long"],
  ["a segment over 255 bytes of two-byte characters", "é".repeat(128), "segment-too-long"],
  ["a segment over 255 bytes of emoji", "😀".repeat(64), "segment-too-long"],
  ["a path over 4096 bytes", "a/".repeat(2048) + "a", "too-long"],
  [
    "a path of 4097 bytes in 4096 code units",
    [...Array(16).fill("a".repeat(240)), "é" + "a".repeat(239)].join("/"),
    "too-long",
  ],
  ["a path over 4096 bytes of three-byte characters", "日/".repeat(1025), "too-long"],
  ["a huge string", "a".repeat(10_000_000), "too-long"],
  ["a path of 65 segments", "a/".repeat(64) + "z", "too-deep"],
  ["a deep path", "a/".repeat(1000) + "z", "too-deep"],
];

for (const [what, raw] of ACCEPTED) {
  Deno.test(`parseInboundPath() accepts ${what}`, () => {
    const path = parseInboundPath(raw);
    assert.equal(path, raw, "the parser must not rewrite an accepted path");
    assert.deepEqual(checkInboundPath(raw), { ok: true, path: raw });
  });
}

for (const [what, raw, rule] of REJECTED) {
  Deno.test(`parseInboundPath() rejects ${what}`, () => {
    const check = checkInboundPath(raw);
    assert.equal(check.ok, false);
    if (check.ok) return;
    assert.equal(check.rule, rule);
    assert.throws(() => parseInboundPath(raw), (err: unknown) => {
      assert.ok(err instanceof SyftError);
      assert.equal(err.code, "E_INPUT");
      assert.ok(err.message.endsWith(check.reason), err.message);
      assert.ok(
        !/[\p{Cc}\u2028\u2029]/u.test(err.message),
        "the message must be one printable line",
      );
      assert.ok(err.message.length < 300, "the message must stay short whatever the input");
      assert.ok(err.hint !== undefined && err.hint.length > 0);
      return true;
    });
  });
}

Deno.test("parseInboundPath() names the path and the reason in one line", () => {
  assert.throws(() => parseInboundPath("public/../x"), {
    name: "SyftError",
    message: 'path "public/../x" is not a valid datasite path: it climbs out with ".."',
  });
});

Deno.test("parseInboundPath() escapes control characters when it quotes a path", () => {
  assert.throws(() => parseInboundPath("a\u0000\u009b\nb"), {
    message: 'path "a\\u0000\\u009b\\nb" is not a valid datasite path: ' +
      "it contains a NUL character (U+0000) at index 1",
  });
});

Deno.test("parseInboundPath() uses the caller's word for the path in its message", () => {
  assert.throws(() => parseInboundPath("/x", { what: "event path" }), {
    message: 'event path "/x" is not a valid datasite path: it is absolute (starts with "/")',
  });
});

Deno.test("parseInboundPath() cuts a long path short in its message", () => {
  assert.throws(() => parseInboundPath("a".repeat(300)), (err: unknown) => {
    assert.ok(err instanceof SyftError);
    assert.match(
      err.message,
      /^path "a{80}…" is not a valid datasite path: segment 1 is 300 bytes/,
    );
    return true;
  });
});

Deno.test("parseInboundPath() refuses a name that differs only by case when given siblings", () => {
  const tree = new Map<string, string[]>([
    ["", ["public", "private"]],
    ["public", ["Data.csv", "notes"]],
  ]);
  const siblings = (parent: readonly string[]) => tree.get(parent.join("/"));
  assert.equal(parseInboundPath("public/Data.csv", { siblings }), "public/Data.csv");
  assert.equal(parseInboundPath("public/new.csv", { siblings }), "public/new.csv");
  assert.equal(parseInboundPath("elsewhere/DATA.CSV", { siblings }), "elsewhere/DATA.CSV");
  assert.deepEqual(checkInboundPath("public/data.csv", { siblings }), {
    ok: false,
    rule: "case-collision",
    reason: 'it differs only by case from the existing "public/Data.csv"',
  });
  assert.throws(() => parseInboundPath("PUBLIC/x", { siblings }), {
    message: 'path "PUBLIC/x" is not a valid datasite path: ' +
      'it differs only by case from the existing "public"',
  });
});

Deno.test("checkInboundPath() does not run the case check without siblings", () => {
  assert.equal(checkInboundPath("PUBLIC/x").ok, true);
});

Deno.test("segmentsOf() splits a parsed path into its segments", () => {
  assert.deepEqual(segmentsOf(parseInboundPath("a/b c/d.txt")), ["a", "b c", "d.txt"]);
  assert.deepEqual(segmentsOf(parseInboundPath("x")), ["x"]);
});

Deno.test("resolveInside() joins a parsed path onto the root", () => {
  const path = parseInboundPath("public/data.csv");
  assert.equal(
    resolveInside("/home/u/SyftBox/a@b.org", path),
    "/home/u/SyftBox/a@b.org/public/data.csv",
  );
});

Deno.test("resolveInside() normalises the root it is given", () => {
  const path = parseInboundPath("x");
  assert.equal(resolveInside("/srv/data/", path), "/srv/data/x");
  assert.equal(resolveInside("/srv//a/../data", path), "/srv/data/x");
  assert.equal(resolveInside("/", path), "/x");
});

Deno.test("resolveInside() refuses a relative root", () => {
  assert.throws(() => resolveInside("SyftBox", parseInboundPath("x")), {
    name: "SyftError",
    code: "E_INTERNAL",
  });
});

Deno.test("resolveInside() refuses a path that was cast instead of parsed", () => {
  assert.throws(() => resolveInside("/srv", "../etc/passwd" as DatasitePath), {
    name: "SyftError",
    code: "E_INTERNAL",
  });
});
