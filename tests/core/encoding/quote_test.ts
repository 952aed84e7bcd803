import { assertEquals } from "../../assert.ts";
import { quote } from "../../../core/encoding/quote.ts";

Deno.test("quote() writes an ordinary string exactly as JSON.stringify does", () => {
  for (
    const s of ["", "public/a.csv", 'say "hi"', "back\\slash", "tab\tand\nnewline\r", "café ☕ 𝄞"]
  ) {
    assertEquals(quote(s), JSON.stringify(s), s);
  }
});

Deno.test("quote() escapes everything a terminal acts on instead of showing", () => {
  const table: [string, string][] = [
    ["a\u001b[2Jb", '"a\\u001b[2Jb"'],
    ["\u0000", '"\\u0000"'],
    ["del\u007f", '"del\\u007f"'],
    ["csi\u009b31m", '"csi\\u009b31m"'],
    ["evil\u202etxt.exe", '"evil\\u202etxt.exe"'],
    ["\u2066iso\u2069", '"\\u2066iso\\u2069"'],
    ["\u061c\u200e\u200f", '"\\u061c\\u200e\\u200f"'],
    ["line\u2028para\u2029", '"line\\u2028para\\u2029"'],
    ["lone\ud800", '"lone\\ud800"'],
  ];
  for (const [s, want] of table) assertEquals(quote(s), want, want);
});

Deno.test("quote() cuts at max code points (80 by default) and says so with …", () => {
  assertEquals(quote("x".repeat(80)), `"${"x".repeat(80)}"`);
  assertEquals(quote("x".repeat(81)), `"${"x".repeat(80)}…"`);
  assertEquals(quote("abcdef", 3), '"abc…"');
  assertEquals(quote("𝄞𝄞𝄞𝄞", 3), '"𝄞𝄞𝄞…"');
});
