/**
 * Crash points of a fresh reader's restore (issue 16, item 4, scenario d, the
 * reading side): a reader that lost its state and mirror restores from the
 * owner's full checkpoint (one content a blob) and dies after any operation
 * of that round; restarted, its mirror converges to the owner's files.
 */
import { assert, assertEquals } from "../assert.ts";
import { beforeCheckpoint, DS, OWNER } from "./_checkpoint_world.ts";
import { disagreements, record, timedSweep } from "./_sweep.ts";

Deno.test("a crash anywhere in a fresh reader's round restoring from the full checkpoint: its mirror converges", async () => {
  const { world, owner, ds } = await beforeCheckpoint();
  await owner.sync(); // writes the full checkpoint and collects the batches it covers
  world.fs.removeSync(`/sites/${DS}/home/state`, { recursive: true });
  world.fs.removeSync(`${ds.ctx.root}/${OWNER}`, { recursive: true });
  const r = await record(world, ds, (site) => site.sync());
  assertEquals(r.after[`${OWNER}/public/keep.txt`], "edited", "one round restores");
  assertEquals(r.after[`${OWNER}/public/big.bin`]?.length, 300 * 1024);
  const result = await timedSweep(r, { judge: (w) => disagreements(w, OWNER, DS, ["public/"]) });
  assertEquals(result.failures, []);
  assert(result.points.barrier > 3, `only ${result.points.barrier} barriers`);
});
