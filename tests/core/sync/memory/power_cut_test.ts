/**
 * A power cut at any fsync of a round, in memory: the reader's file system
 * loses everything written since the barrier before, and the next rounds
 * still bring its mirror to exactly the owner's tree, with nothing
 * quarantined. Every barrier of the round is tried, not a sample.
 */
import { assert, assertEquals } from "../../../assert.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";
import { tree } from "./_trees.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

/** Two peers, and an owner round the reader has not applied yet. */
async function pending() {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  owner.writeOwn("public/keep.txt", "kept");
  owner.writeOwn("public/gone.txt", "to be deleted");
  await world.settle();
  for (let i = 0; i < 6; i++) owner.writeOwn(`public/new/f${i}.txt`, `new ${i}`);
  owner.writeOwn("public/keep.txt", "edited");
  owner.remove(`${OWNER}/public/gone.txt`);
  await owner.sync();
  return { world, owner, ds };
}

Deno.test("a power cut before any fsync of the reader's round loses nothing the next rounds cannot redo", async () => {
  let cuts = 0;
  for (let cut = 1;; cut++) {
    const { world, owner, ds } = await pending();
    world.fs.powerCutAt = world.fs.syncs + cut;
    const died = await ds.sync().then(() => null, (err) => err);
    if (died === null && !world.fs.dead) break; // the round has fewer barriers: all were tried
    // The engine may wrap the error (a SyftError naming what it was reading): the cut is the cause.
    assert(world.fs.dead, `cut ${cut}: ${died}`);
    cuts++;
    world.fs.crash();
    await world.settle();
    assertEquals(tree(ds, OWNER), tree(owner, OWNER), `cut at fsync ${cut}`);
    assertEquals(ds.rounds.reduce((n, r) => n + r.quarantined, 0), 0, `cut ${cut}`);
  }
  assert(cuts > 3, `the round made only ${cuts} fsyncs`);
  if (Deno.env.get("SYFT_TEST_VERBOSE")) console.log(`  power cut tried at each of ${cuts} fsyncs`);
});

Deno.test("a file the user moves back after a power cut cut short the reader's round is the user's move, not redone (seed 2010260)", async () => {
  const inbox = `${OWNER}/app_data/job/inbox/${DS}`;
  let movedBack = 0;
  for (let cut = 1;; cut++) {
    const world = new MemoryWorld();
    const owner = await world.site(OWNER);
    const ds = await world.site(DS);
    await world.connect(ds, owner);
    ds.write(`${inbox}/a.txt`, "the same bytes under either name");
    await world.settle();
    world.clock.advance(1000);
    owner.fs.renameSync(`${owner.ctx.root}/${inbox}/a.txt`, `${owner.ctx.root}/${inbox}/b.txt`);
    await owner.sync();

    world.fs.powerCutAt = world.fs.syncs + cut;
    const died = await ds.sync().then(() => null, (err) => err);
    if (died === null && !world.fs.dead) break;
    assert(world.fs.dead, `cut ${cut}: ${died}`);
    world.fs.crash();
    // Where the owner's rename reached the reader's disk, its user moves the
    // file back while syft is down: the same inode, the same bytes.
    if (ds.read(`${inbox}/b.txt`) !== null && ds.read(`${inbox}/a.txt`) === null) {
      movedBack++;
      world.clock.advance(1000);
      ds.fs.renameSync(`${ds.ctx.root}/${inbox}/b.txt`, `${ds.ctx.root}/${inbox}/a.txt`);
      await world.settle();
      // The inbox is the peer's to write: its move is proposed and applied.
      const names = owner.files(inbox).filter((f) => f.endsWith(".txt"));
      assertEquals(names, [`${inbox}/a.txt`], `cut at fsync ${cut}`);
    } else {
      await world.settle();
    }
    assertEquals(tree(ds, OWNER), tree(owner, OWNER), `cut at fsync ${cut}`);
  }
  assert(movedBack > 0, "no cut left the owner's rename on the reader's disk before its state");
});
