/**
 * The sweep itself: it catches a round that is not crash-safe (a planted
 * in-place rewrite of a user file shows torn on disk and spreads to the
 * mirror), tries each distinct disk and storage once, and its tree
 * comparisons mean what they say.
 */
import { assert, assertEquals } from "../assert.ts";
import { DS, OWNER, peers } from "./_scenarios.ts";
import { crashPoints, disagreements, record, restartAt, sweep, torn, unstamped } from "./_sweep.ts";

async function twoSites() {
  const { world, owner, ds } = await peers();
  owner.writeOwn("public/a.txt", "old");
  await world.settle();
  return { world, owner, ds };
}

Deno.test("a round that rewrites a user's file in place is caught: torn on disk, and a mirror settled to the torn content", async () => {
  const { world, owner } = await twoSites();
  const path = `${owner.datasite}/public/a.txt`;
  const r = await record(world, owner, async (site) => {
    // Planted: truncate and write, no temp file, no fsync (what the engine must never do).
    world.fs.writeFileSync(path, new TextEncoder().encode("new content"));
    await site.sync();
  });
  const result = await sweep(r);
  const failures = result.failures.join("\n");
  assert(
    /^in-order prefix 1\/\d+ \(after truncate .*\): torn on disk: owner@hospital\.org\/public\/a\.txt$/m
      .test(failures),
    failures,
  );
  assert(
    /ds@lab\.org settled to "" at owner@hospital\.org\/public\/a\.txt/.test(failures),
    failures,
  );
  // Under the barrier model the planted write is all there or not at all (the
  // state's fsync covers it): never torn, though a crash before it loses it.
  assertEquals(result.failures.filter((f) => f.startsWith("barrier") && /torn/.test(f)), []);
});

Deno.test("an honest round passes, and each distinct disk and storage is tried once per model", async () => {
  const { world, owner } = await twoSites();
  owner.writeOwn("public/a.txt", "new");
  const r = await record(world, owner, (site) => site.sync());
  const inOrder = crashPoints(r, "in-order");
  const barrier = crashPoints(r, "barrier");
  assertEquals(
    inOrder.length,
    r.rec.length + 1,
    "every operation here changes the disk or storage",
  );
  const syncs = r.rec.ops.filter((o) => o.kind === "sync").length;
  const notes = r.rec.ops.filter((o) => o.kind === "note").length;
  assert(barrier.length <= 1 + syncs + notes, `${barrier.length} > 1 + ${syncs} + ${notes}`);
  assert(barrier.length > 2);
  const result = await sweep(r);
  assertEquals(result.failures, []);
  assertEquals(result.points, {
    "in-order": inOrder.length,
    barrier: barrier.length,
    // As many points as the barrier model (it changes at the same syncs), each restarted once.
    "file-sync": barrier.length,
  });
});

Deno.test("torn lists the paths whose content is neither the old nor the new, absence included", () => {
  const before = { a: "1", gone: "x", kept: "k" };
  const after = { a: "2", added: "y", kept: "k" };
  assertEquals(torn(before, after, { a: "1", kept: "k" }), []);
  assertEquals(torn(before, after, { a: "2", gone: "x", added: "y", kept: "k" }), []);
  assertEquals(torn(before, after, { a: "", kept: "k", stray: "s" }), ["a", "stray"]);
});

Deno.test("unstamped names markers by file, and a second marker of one file stays visible", () => {
  assertEquals(
    unstamped({
      "p/x.csv.rejected.20261205T011502Z": "mine",
      "p/x.csv.rejected.20261205T011503Z-2": "mine again",
      "p/x.csv.conflict.20261205T011502Z": "theirs",
      "p/x.csv": "owner's",
    }),
    {
      "p/x.csv": "owner's",
      "p/x.csv.conflict.*": "theirs",
      "p/x.csv.rejected.*": "mine",
      "p/x.csv.rejected.*#2": "mine again",
    },
  );
});

Deno.test("disagreements names each mirror file that differs from the owner's, markers and permission files aside", async () => {
  const { world, owner } = await twoSites();
  const r = await record(world, owner, (site) => site.sync());
  const w = restartAt(r, r.rec.length, "in-order");
  await w.world.settle();
  assertEquals(disagreements(w, OWNER, DS, ["public/"]), []);
  const ds = w.site.get(DS)!;
  w.world.fs.writeFileSync(`${ds.ctx.root}/${OWNER}/public/a.txt`, new TextEncoder().encode("x"));
  w.world.fs.writeFileSync(
    `${ds.ctx.root}/${OWNER}/public/a.txt.rejected.20260101T000000Z`,
    new TextEncoder().encode("a marker"),
  );
  assertEquals(disagreements(w, OWNER, DS, ["public/"]), [
    `${DS}'s mirror holds "x" at public/a.txt, the owner "old"`,
  ]);
  assertEquals(disagreements(w, OWNER, DS, ["private/"]), []);
});
