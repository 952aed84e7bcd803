/**
 * Checkpoints and resync in memory: a reader that lost its state and mirror
 * restores from the writer's checkpoints to the same tree; a gap in the
 * sequence waits, never skips, asks for a resync after the timeout (moved on
 * the manual clock, not waited for) and converges.
 */
import { assert, assertEquals } from "../../../assert.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";
import { said, tree } from "./_trees.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";
const channel = { sender: OWNER, recipient: DS };

Deno.test("a reader whose state/ and mirror are lost restores from the checkpoints to the same tree", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  owner.ctx.thresholds = { checkpoint: 5, compact: 2 };
  for (let i = 0; i < 8; i++) owner.writeOwn(`public/early/e${i}.txt`, `early ${i}`);
  await world.connect(ds, owner);
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 4; i++) {
      owner.writeOwn(`public/r${round}/f${i}.txt`, `round ${round} file ${i}`);
    }
    owner.writeOwn("public/early/e0.txt", `edited in round ${round}`);
    if (round === 3) owner.remove(`${OWNER}/public/early/e1.txt`);
    await owner.sync();
    await ds.sync();
  }
  const names = world.storage.names(channel);
  assert(names.some((n) => n.startsWith("ci-")), names.join(", "));
  assert(names.some((n) => n.startsWith("cf-")), names.join(", "));
  assertEquals(tree(ds, OWNER), tree(owner, OWNER));

  world.fs.removeSync(`/sites/${DS}/home/state`, { recursive: true });
  world.fs.removeSync(`${ds.ctx.root}/${OWNER}`, { recursive: true });
  await world.settle();
  assertEquals(tree(ds, OWNER), tree(owner, OWNER));
  assertEquals((await ds.store.get(OWNER))?.state, "accepted", "the relationship is intact");
});

Deno.test("a gap in seq: the reader waits, asks for a resync after the timeout, and converges", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  owner.writeOwn("public/a.txt", "a");
  await world.settle();
  owner.writeOwn("public/b.txt", "b");
  await owner.sync();
  const hidden = world.storage.names(channel).filter((n) => n.startsWith("b-")).pop()!;
  owner.writeOwn("public/c.txt", "c");
  await owner.sync();
  world.storage.tamper(channel, hidden, undefined);

  await ds.sync();
  assert(/waiting for a missing batch from owner@hospital\.org/.test(said(ds)), said(ds));
  assertEquals(ds.read(`${OWNER}/public/c.txt`), null, "the batch after the gap is not applied");

  world.clock.advance(61_000); // past the default gap timeout
  await ds.sync(); // asks for a resync
  await owner.sync(); // answers with a fresh cf
  await ds.sync();
  assertEquals(tree(ds, OWNER), tree(owner, OWNER));
});
