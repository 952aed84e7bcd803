/**
 * Crash points of a publishing round (issue 16, item 4, scenario a): the owner
 * publishes a batch of new, edited and deleted files, some in subfolders and
 * one past the inline limit (a blob), and dies after any operation of it.
 */
import { assert, assertEquals } from "../assert.ts";
import { MemoryWorld } from "../../core/testing/world.ts";
import { disagreements, record, timedSweep } from "./_sweep.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

Deno.test("a crash anywhere in the owner's publishing round: restarted, every mirror converges", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  owner.writeOwn("public/keep.txt", "kept");
  owner.writeOwn("public/gone.txt", "to be deleted");
  owner.writeOwn("public/sub/old.txt", "old");
  await world.settle();
  owner.writeOwn("public/keep.txt", "edited");
  owner.remove(`${OWNER}/public/gone.txt`);
  owner.writeOwn("public/sub/old.txt", "edited too");
  for (let i = 0; i < 3; i++) owner.writeOwn(`public/new/f${i}.txt`, `new ${i}`);
  owner.writeOwn("public/big.bin", "b".repeat(300 * 1024));
  const r = await record(world, owner, (site) => site.sync());
  const result = await timedSweep(r, { judge: (w) => disagreements(w, OWNER, DS, ["public/"]) });
  assertEquals(result.failures, []);
  assert(result.points.barrier > 3, `only ${result.points.barrier} barriers`);
});
