/**
 * Issue 12 item 5 (init/doctor part): a datasite's `private/` is the owner's
 * alone. `init` makes it 0700 with 0600 files, `dataset create` copies private
 * data as 0600 files in 0700 folders, `doctor` reports anything wider and
 * `doctor --fix` narrows it, never following links.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { put, world } from "../e2e/_rig.ts";

async function modeOf(path: string): Promise<number> {
  return (await Deno.lstat(path)).mode! & 0o7777;
}

/** Every folder and file under `dir` (itself included) with its mode, links left out. */
async function modesUnder(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>([[dir, await modeOf(dir)]]);
  for await (const e of Deno.readDir(dir)) {
    const path = posix.join(dir, e.name);
    if (e.isSymlink) continue;
    if (e.isDirectory) { for (const [p, m] of await modesUnder(path)) out.set(p, m); }
    else out.set(path, await modeOf(path));
  }
  return out;
}

function assertOwnerOnly(modes: Map<string, number>): void {
  for (const [path, mode] of modes) {
    assert(mode === 0o700 || mode === 0o600, `${path} is ${mode.toString(8)}`);
  }
}

Deno.test("init makes private/ 0700 and its files 0600, public/ stays readable", async () => {
  const w = await world();
  try {
    const alice = await w.site("alice@example.org");
    const priv = posix.join(alice.datasite, "private");
    assertEquals(await modeOf(priv), 0o700);
    assertEquals(await modeOf(posix.join(priv, "syft.pub.yaml")), 0o600);
    assertEquals(await modeOf(posix.join(alice.datasite, "public")) & 0o755, 0o755);
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});

Deno.test("dataset create keeps private copies 0600 in 0700 folders, whatever the source's modes", async () => {
  const w = await world();
  try {
    const alice = await w.site("alice@example.org");
    const src = posix.join(w.base, "src");
    await put(src, "mock/ages.csv", "age\n1\n");
    await put(src, "real/ages.csv", "age\n42\n");
    await put(src, "real/nested/more.csv", "age\n43\n");
    await Deno.chmod(posix.join(src, "real/ages.csv"), 0o666);
    await Deno.chmod(posix.join(src, "real/nested/more.csv"), 0o755);
    await Deno.chmod(posix.join(src, "real/nested"), 0o777);
    await alice.ok([
      "dataset",
      "create",
      "ages",
      "--mock",
      posix.join(src, "mock"),
      "--private",
      posix.join(src, "real"),
    ]);
    const copies = await modesUnder(posix.join(alice.datasite, "private", "syft_datasets"));
    assert(copies.size >= 4, `copied: ${[...copies.keys()]}`);
    assertOwnerOnly(copies);
    const doctor = JSON.parse((await alice.syft(["doctor", "--json"])).stdout);
    const check = doctor.checks.find((c: { name: string }) => c.name === "private");
    assertEquals(check.status, "ok", check.detail);
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});

Deno.test("doctor reports wider private/ modes and doctor --fix narrows them without following links", async () => {
  const w = await world();
  try {
    const alice = await w.site("alice@example.org");
    const bob = await w.site("bob@example.org");
    const priv = posix.join(alice.datasite, "private");
    await put(priv, "notes.txt", "secret\n");
    await put(priv, "deep/er/data.csv", "x\n1\n");
    await Deno.chmod(priv, 0o755);
    await Deno.chmod(posix.join(priv, "notes.txt"), 0o644);
    await Deno.chmod(posix.join(priv, "deep/er"), 0o777);
    await Deno.chmod(posix.join(priv, "deep/er/data.csv"), 0o666);
    // A link inside private/ to someone else's file: neither judged nor changed.
    const outside = posix.join(w.base, "outside.txt");
    await Deno.writeTextFile(outside, "not alice's\n");
    await Deno.chmod(outside, 0o644);
    await Deno.symlink(outside, posix.join(priv, "link.txt"));

    const before = await alice.syft(["doctor", "--json"]);
    assertEquals(before.code, 1, before.stderr);
    const check = JSON.parse(before.stdout).checks.find((c: { name: string }) =>
      c.name === "private"
    );
    assertEquals(check.status, "fail");
    for (const p of [priv, "notes.txt", "deep/er", "data.csv"]) {
      assertStringIncludes(check.detail, p);
    }
    assert(!check.detail.includes("link.txt"), check.detail);
    assertStringIncludes(check.hint, "doctor --fix");

    const fix = await alice.syft(["doctor", "--fix", "--json"]);
    const report = JSON.parse(fix.stdout);
    assert(report.fixed.includes(posix.join(priv, "notes.txt")), fix.stdout);
    assertOwnerOnly(await modesUnder(priv));
    assertEquals(await modeOf(outside), 0o644, "a link's target is left alone");
    const after = report.checks.find((c: { name: string }) => c.name === "private");
    assertEquals(after.status, "ok", after.detail);

    // Bob's datasite, untouched by alice's doctor, keeps its own 0700 private/.
    assertEquals(await modeOf(posix.join(bob.datasite, "private")), 0o700);
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});

Deno.test("the datasite root is 0700 from init: mirrors and unreleased outputs are the owner's alone; doctor --fix narrows a wider one", async () => {
  const w = await world();
  try {
    const alice = await w.site("alice@example.org");
    assertEquals(await modeOf(alice.root), 0o700);
    await Deno.chmod(alice.root, 0o755);
    const doctor = await alice.syft(["doctor", "--json"]);
    assertEquals(doctor.code, 1);
    const check = JSON.parse(doctor.stdout).checks.find((c: { name: string }) =>
      c.name === "datasite"
    );
    assertEquals(check.status, "fail");
    assertStringIncludes(check.detail, alice.root);
    assertStringIncludes(check.detail, "0755");
    await alice.ok(["doctor", "--fix"]);
    assertEquals(await modeOf(alice.root), 0o700);
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});
