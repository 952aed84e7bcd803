import { assert, assertEquals } from "../assert.ts";
import { mutateBytes, mutateJson, mutateYaml, Rand } from "./mutate.ts";
import { assertInsideDatasite, Finding } from "./targets.ts";
import { targetFor } from "./run.ts";

const enc = new TextEncoder();
const JSON_DOC = enc.encode(JSON.stringify({ path: "a/b.txt", n: 1, list: [1, 2, { x: "y" }] }));
const YAML_DOC = enc.encode("rules:\n  - pattern: '**'\n    access: {read: ['*']}\n");

Deno.test("the same seed gives the same mutation, so a failing case replays", () => {
  for (let seed = 0; seed < 300; seed++) {
    for (const mutate of [mutateBytes, mutateJson, mutateYaml]) {
      const doc = mutate === mutateYaml ? YAML_DOC : JSON_DOC;
      assertEquals(mutate(doc, new Rand(seed)), mutate(doc, new Rand(seed)));
    }
  }
});

Deno.test("mutations change the input almost always and never touch the original", () => {
  const before = new Uint8Array(JSON_DOC);
  let changed = 0;
  for (let seed = 0; seed < 500; seed++) {
    const out = mutateBytes(JSON_DOC, new Rand(seed));
    if (out.length !== JSON_DOC.length || out.some((b, i) => b !== JSON_DOC[i])) changed++;
  }
  assertEquals(JSON_DOC, before);
  assert(changed > 450, `only ${changed} of 500 mutations changed the bytes`);
});

Deno.test("a case's seed alone picks its target", () => {
  const targets = ["a", "b", "c"].map((name) => ({ name }));
  // deno-lint-ignore no-explicit-any
  assertEquals(targetFor(7, targets as any).name, "b");
});

Deno.test("a path outside the datasite is a finding, a relative one is not", () => {
  assertInsideDatasite("public/a.txt", "test");
  for (const bad of ["../x", "/etc/passwd", "a/../b", "a//b", "a/./b", "a\0b", "a\\b", ""]) {
    let threw = false;
    try {
      assertInsideDatasite(bad, "test");
    } catch (err) {
      threw = err instanceof Finding;
    }
    assert(threw, `${JSON.stringify(bad)} was not caught`);
  }
});
