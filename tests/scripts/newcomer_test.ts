/**
 * The README's "Use" section works as written: `scripts/newcomer.sh` replays
 * its code blocks verbatim (install, then three people on one machine) with an
 * empty HOME and only the system and Node on PATH, from folders outside the
 * clone, and fails on the first command that fails or on a file left in the clone.
 * @module
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { tempDir } from "../_temp.ts";

const SCRIPT = fileURLToPath(new URL("../../scripts/newcomer.sh", import.meta.url));

Deno.test("a newcomer's walk through the README's Use section passes as written", async () => {
  // The script makes and removes its own folder under TMPDIR; this one catches a leak.
  const tmp = await tempDir("syft-newcomer-test-");
  const r = await new Deno.Command("bash", {
    args: [SCRIPT],
    env: { TMPDIR: tmp },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout);
  const err = new TextDecoder().decode(r.stderr);
  assertEquals(r.code, 0, `newcomer.sh failed:\n${out.slice(-3000)}\n${err.slice(-3000)}`);
  assertStringIncludes(out, 'the README\'s "Use" section works as written');
  // The tour ends by printing both owners' means, computed on the real rows.
  assertStringIncludes(out, "59\n");
  assertStringIncludes(out, "39\n");
  assert(!/uncaught|stack trace|internal error/i.test(out + err), err.slice(-2000));
  assertEquals([...Deno.readDirSync(tmp)], [], "newcomer.sh removes what it made");
  await Deno.remove(tmp);
});

Deno.test("newcomer.sh replays exactly the README's Use blocks, in order", async () => {
  const r = await new Deno.Command("bash", { args: [SCRIPT, "--print"], stdout: "piped" })
    .output();
  assertEquals(r.code, 0);
  const tour = new TextDecoder().decode(r.stdout);
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const use = readme.slice(
    readme.indexOf("## Use\n"),
    readme.indexOf("\n## ", readme.indexOf("## Use\n") + 1),
  );
  const blocks = [...use.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert(blocks.length >= 5, "the tour has blocks");
  // One blank line between blocks, as the script joins them.
  assertEquals(tour, blocks.join("\n"));
  assertStringIncludes(tour, "npx -y deno@2.9.6 task install");
});
