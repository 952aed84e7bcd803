/**
 * `deno task check` type-checks every `@example` of the code, and the way it
 * does so fails on an example that does not compile.
 * @module
 */
import { posix } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { tempDir } from "../_temp.ts";

const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

Deno.test("deno task check type-checks the examples of main.ts, core/, cli/, plugins/ and scripts/", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(CONFIG)).tasks as Record<string, string>;
  assertStringIncludes(tasks.check!, "deno check --doc main.ts core/ cli/ plugins/ scripts/");
});

async function checkDoc(dir: string): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--doc", "--no-config", "mod.ts"],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

function moduleWithExample(example: string): string {
  return [
    "/**",
    " * Twice `n`.",
    " * @example",
    " * ```ts",
    ...example.split("\n").map((line) => ` * ${line}`),
    " * ```",
    " */",
    "export function twice(n: number): number {",
    "  return 2 * n;",
    "}",
    "",
  ].join("\n");
}

Deno.test("the doc check fails on an example naming an undeclared value, and passes once it is declared", async () => {
  const dir = await tempDir();
  const mod = posix.join(dir, "mod.ts");
  await Deno.writeTextFile(mod, moduleWithExample("twice(count);"));
  const broken = await checkDoc(dir);
  assert(broken.code !== 0, "a broken example fails the check");
  assertStringIncludes(broken.stderr, "count");
  await Deno.writeTextFile(mod, moduleWithExample("declare const count: number;\ntwice(count);"));
  assertEquals((await checkDoc(dir)).code, 0, "declared: it type-checks");
});
