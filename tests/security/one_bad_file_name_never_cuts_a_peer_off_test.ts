/**
 * Issue 12 item 8: a file in the owner's datasite whose name the protocol
 * cannot carry (a backslash, a newline) used to be published; the peer refused
 * the whole batch, asked for a resync, refused the answer too, and nothing from
 * that owner arrived any more, while the owner was never told. The writer now
 * skips such a name, says so once, and `syft status` lists it.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { peered, peerUp, put, world } from "../e2e/_rig.ts";

const BACKSLASH = "public/back\\slash.txt";
const NEWLINE = "public/new\nline.txt";
const EARLY = "public/early\\one.txt";

Deno.test("one bad file name never cuts a peer off: the peer gets the good files and later ones, the owner is warned once and status lists the bad names", async () => {
  const w = await world();
  try {
    const owner = await w.site("owner@hospital.org");
    const ds = await w.site("ds@lab.org");
    // One before the peer exists (its first projection), the others in batches.
    await put(owner.datasite, EARLY, "early");
    await put(owner.datasite, "public/good0.txt", "good0");
    await peerUp(ds, owner);
    await ds.ok(["sync"]);
    await put(owner.datasite, BACKSLASH, "b");
    await put(owner.datasite, NEWLINE, "n");
    await put(owner.datasite, "public/good1.txt", "good1");
    const first = await owner.ok(["sync"]);
    assertMatch(first.stderr, /back\\\\slash\.txt/);
    assertMatch(first.stderr, /new\\nline\.txt/);
    await ds.ok(["sync"]);
    const mirror = ds.mirror(owner);
    assertEquals(await Deno.readTextFile(posix.join(mirror, "public/good0.txt")), "good0");
    assertEquals(await Deno.readTextFile(posix.join(mirror, "public/good1.txt")), "good1");

    // Later files keep arriving, and the owner is not told again every round.
    await put(owner.datasite, "public/good2.txt", "good2");
    const second = await owner.ok(["sync"]);
    assert(!/slash|line\.txt|early/.test(second.stderr), `warned again:\n${second.stderr}`);
    await ds.ok(["sync"]);
    assertEquals(await Deno.readTextFile(posix.join(mirror, "public/good2.txt")), "good2");
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);

    const dsStatus = JSON.parse((await ds.ok(["status", "--json"])).stdout);
    assertEquals(dsStatus.quarantined, [], JSON.stringify(dsStatus));
    assertEquals(dsStatus.problems, [], JSON.stringify(dsStatus));

    const status = JSON.parse((await owner.ok(["status", "--json"])).stdout);
    const skipped = status.skipped.map((s: { path: string }) => s.path).sort();
    assertEquals(skipped, [EARLY, BACKSLASH, NEWLINE].sort());
    for (const bad of [EARLY, BACKSLASH, NEWLINE]) {
      assert(
        status.problems.some((p: string) => p.includes(JSON.stringify(bad))),
        `${JSON.stringify(bad)} not among ${JSON.stringify(status.problems)}`,
      );
    }
    // Gone from the datasite: no longer a problem.
    await Deno.remove(posix.join(owner.datasite, NEWLINE));
    await owner.ok(["sync"]);
    const after = JSON.parse((await owner.ok(["status", "--json"])).stdout);
    assertEquals(
      after.skipped.map((s: { path: string }) => s.path).sort(),
      [EARLY, BACKSLASH].sort(),
    );
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});

Deno.test("one bad file name never cuts a peer off: a symlink in the datasite is reported once, not every round", async () => {
  const { w, owner } = await peered("ds@lab.org", "owner@hospital.org");
  try {
    await Deno.symlink("/etc/hostname", posix.join(owner.datasite, "public/link.txt"));
    const first = await owner.ok(["sync"]);
    assertMatch(first.stderr, /public\/link\.txt/);
    const second = await owner.ok(["sync"]);
    assert(!/link\.txt/.test(second.stderr), `warned again:\n${second.stderr}`);
    const status = JSON.parse((await owner.ok(["status", "--json"])).stdout);
    assert(
      status.problems.some((p: string) => p.includes("public/link.txt")),
      JSON.stringify(status.problems),
    );
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});
