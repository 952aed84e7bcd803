/**
 * `job results --out` (issue 14, item 6): each owner's outputs and logs land
 * in `<dir>/<owner>/outputs/` and `<dir>/<owner>/logs/`, so an output named
 * like a log never replaces it; existing files are never overwritten without
 * `--force` (checked before anything is written); the counts are what was
 * written; an owner that has not released is listed with its state.
 */
import { posix } from "node:path";
import { assertEquals, assertMatch } from "../assert.ts";
import { filesUnder, peerUp, put } from "../e2e/_rig.ts";
import { ALICE, code, json, pair, SANDBOX } from "../security/_jobs.ts";

const BOB = "bob@example.org";

const RUN_SH = [
  "#!/usr/bin/env bash",
  'echo "the log"',
  'echo "an output" > "$SYFT_OUTPUT_DIR/stdout.txt"',
  'echo 99 > "$SYFT_OUTPUT_DIR/returncode.txt"',
  'mkdir -p "$SYFT_OUTPUT_DIR/tables" && echo "a,b" > "$SYFT_OUTPUT_DIR/tables/t.csv"',
  "",
].join("\n");

interface Row {
  owner: string;
  status: string;
  outputs: number;
  logs: number;
  dir: string | null;
}

Deno.test("job results --out keeps outputs and logs apart per owner, counts them, lists owners not released, and overwrites only with --force", async () => {
  const { w, alice, carol, done } = await pair();
  try {
    const bob = await w.site(BOB);
    await peerUp(carol, bob);
    const dir = posix.join(w.base, "j");
    await put(dir, "run.sh", RUN_SH);
    const { id } = json<{ id: string }>(
      await carol.syft(["job", "submit", "--to", `${ALICE},${BOB}`, "--dir", dir, "--json"]),
    );
    await alice.ok(["sync"]);
    await alice.ok(["job", "approve", id]);
    await alice.ok(["job", "run", id, "--sandbox", SANDBOX, "--release"]);
    await carol.ok(["sync"]);

    const out = posix.join(w.base, "results");
    const rows = json<Row[]>(await carol.syft(["job", "results", id, "--out", out, "--json"]));
    assertEquals(rows.map((r) => [r.owner, r.status, r.outputs, r.logs, r.dir]), [
      [ALICE, "released", 3, 3, posix.join(out, ALICE)],
      [BOB, "pending", 0, 0, null],
    ]);
    assertEquals(await filesUnder(out), [
      `${ALICE}/logs/returncode.txt`,
      `${ALICE}/logs/stderr.txt`,
      `${ALICE}/logs/stdout.txt`,
      `${ALICE}/outputs/returncode.txt`,
      `${ALICE}/outputs/stdout.txt`,
      `${ALICE}/outputs/tables/t.csv`,
    ]);
    const read = (rel: string) => Deno.readTextFile(posix.join(out, ALICE, rel));
    assertEquals(await read("outputs/stdout.txt"), "an output\n");
    assertEquals(await read("logs/stdout.txt"), "the log\n");
    assertEquals(await read("outputs/returncode.txt"), "99\n");
    assertEquals(await read("logs/returncode.txt"), "0\n");

    // People read each owner once, the one not released with its state, and the total.
    const again = posix.join(w.base, "again");
    const human = await carol.ok(["job", "results", id, "--out", again]);
    assertEquals(human.stdout.split("\n").filter((l) => l !== ""), [
      `${ALICE}: released: 3 output file(s) and 3 log file(s) copied to ${
        posix.join(again, ALICE)
      }`,
      `${BOB}: pending (no answer yet): nothing to copy yet`,
      `6 file(s) from 1 owner(s) in ${again}`,
    ]);

    // A second copy into the same folder refuses, names the first clash, and writes nothing.
    await Deno.writeTextFile(posix.join(out, ALICE, "outputs/stdout.txt"), "my notes\n");
    await Deno.remove(posix.join(out, ALICE, "outputs/tables"), { recursive: true });
    const refused = await carol.syft(["job", "results", id, "--out", out]);
    code(refused, 2);
    assertMatch(
      refused.stderr,
      new RegExp(`^error: ${posix.join(out, ALICE, "outputs/returncode.txt")} already exists`, "m"),
    );
    assertMatch(refused.stderr, /^hint: pass --force to overwrite/m);
    assertEquals(await read("outputs/stdout.txt"), "my notes\n");
    assertEquals(
      await Deno.lstat(posix.join(out, ALICE, "outputs/tables")).catch(() => null),
      null,
    );

    const forced = json<Row[]>(
      await carol.syft(["job", "results", id, "--out", out, "--force", "--json"]),
    );
    assertEquals([forced[0]!.outputs, forced[0]!.logs], [3, 3]);
    assertEquals(await read("outputs/stdout.txt"), "an output\n");
    assertEquals(await read("outputs/tables/t.csv"), "a,b\n");
    // No temp file is left beside what was written.
    assertEquals((await filesUnder(out)).filter((f) => f.includes(".tmp-")), []);
  } finally {
    await done();
  }
});
