/**
 * Crash points of a publishing round (issue 16, item 4, scenario a): the owner
 * publishes a batch of new, edited and deleted files, some in subfolders and
 * one past the inline limit (a blob), and dies after any operation of it.
 */
import { assert, assertEquals } from "../assert.ts";
import { DS, OWNER, publishing } from "./_scenarios.ts";
import { disagreements, timedSweep } from "./_sweep.ts";

Deno.test("a crash anywhere in the owner's publishing round: restarted, every mirror converges", async () => {
  const r = await publishing();
  const result = await timedSweep(r, { judge: (w) => disagreements(w, OWNER, DS, ["public/"]) });
  assertEquals(result.failures, []);
  assert(result.points.barrier > 3, `only ${result.points.barrier} barriers`);
});
