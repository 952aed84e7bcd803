/**
 * The e2e rig's world templates: each copy is a world of its own, its homes
 * pointing at its own folders, with the template's mtimes; a named template
 * is built once for every test file of a suite run.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { type World, worldTemplate } from "./_rig.ts";
import { tempDir } from "../_temp.ts";

/** A stand-in for `syft init`: a home whose config names the world's folders. */
async function fakeSite(w: World, name: string): Promise<void> {
  const home = posix.join(w.base, name, ".syft");
  await Deno.mkdir(home, { recursive: true });
  await Deno.writeTextFile(
    posix.join(home, "config.yaml"),
    `root: "${posix.join(w.base, name, "SyftBox")}"\ntransport: "local:${w.shared}"\n`,
  );
  await Deno.mkdir(posix.join(w.base, name, "SyftBox", "public"), { recursive: true });
  await Deno.writeTextFile(posix.join(w.base, name, "SyftBox", "public", "a.txt"), "a");
  await Deno.utime(posix.join(w.base, name, "SyftBox", "public", "a.txt"), 1_000, 1_000);
}

Deno.test("worldTemplate copies are separate worlds whose homes name their own folders", async () => {
  let builds = 0;
  const make = worldTemplate(async (w) => {
    builds++;
    await fakeSite(w, "alice");
  });
  const [one, two] = [await make(), await make()];
  try {
    assertEquals(builds, 1);
    assert(one.base !== two.base);
    for (const w of [one, two]) {
      const config = await Deno.readTextFile(posix.join(w.base, "alice/.syft/config.yaml"));
      assertEquals(
        config,
        `root: "${w.base}/alice/SyftBox"\ntransport: "local:${w.base}/shared"\n`,
      );
      const a = await Deno.stat(posix.join(w.base, "alice/SyftBox/public/a.txt"));
      assertEquals(a.mtime?.getTime(), 1_000_000, "the copy keeps the template's mtimes");
      assertEquals(w.open("alice@example.org").home, posix.join(w.base, "alice/.syft"));
    }
    await Deno.writeTextFile(posix.join(one.base, "alice/SyftBox/public/a.txt"), "changed");
    assertEquals(await Deno.readTextFile(posix.join(two.base, "alice/SyftBox/public/a.txt")), "a");
  } finally {
    for (const w of [one, two]) await Deno.remove(w.base, { recursive: true });
  }
});

Deno.test("a template that names its own folder outside a home is refused, not copied half-pointed", async () => {
  const make = worldTemplate(async (w) => {
    await Deno.writeTextFile(posix.join(w.base, "note.txt"), `see ${w.base}`);
  });
  await assertRejects(() => make(), (err) => assertMatch(String(err), /names its own folder in/));
});

Deno.test("a named template is built once for every test file of a suite run, and copies point at their own folders", async () => {
  const shared = await tempDir("syft-templates-test-");
  const made: World[] = [];
  try {
    let builds = 0;
    const build = async (w: World) => {
      builds++;
      await fakeSite(w, "alice");
    };
    // Two files of one run: two templates of the same name, each with its own memo.
    const options = { shareAs: "rig test pair", sharedIn: shared };
    const [first, second] = [worldTemplate(build, options), worldTemplate(build, options)];
    made.push(await first(), await second());
    assertEquals(builds, 1);
    assertEquals([...Deno.readDirSync(shared)].map((e) => e.name), ["rig%20test%20pair"]);
    for (const w of made) {
      const config = await Deno.readTextFile(posix.join(w.base, "alice/.syft/config.yaml"));
      assert(config.includes(`"${w.base}/alice/SyftBox"`), config);
    }
  } finally {
    for (const w of made) await Deno.remove(w.base, { recursive: true });
    await Deno.remove(shared, { recursive: true });
  }
});
