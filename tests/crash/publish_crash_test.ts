/**
 * Crash points of a publishing round (issue 16, item 4, scenario a): the owner
 * publishes a batch of new, edited and deleted files, some in subfolders and
 * one past the inline limit (a blob), and dies after any operation of it.
 */
import { assert, assertEquals } from "../assert.ts";
import { DS, OWNER, publishing, regranted } from "./_scenarios.ts";
import { disagreements, record, type Restarted, timedSweep } from "./_sweep.ts";

Deno.test("a crash anywhere in the owner's publishing round: restarted, every mirror converges", async () => {
  const r = await publishing();
  const result = await timedSweep(r, { judge: (w) => disagreements(w, OWNER, DS, ["public/"]) });
  assertEquals(result.failures, []);
  assert(result.points.barrier > 3, `only ${result.points.barrier} barriers`);
});

/** What a grant of notes/ and a revocation of shared/ must leave at the reader once settled. */
function regrantedProblems(w: Restarted): string[] {
  const problems = disagreements(w, OWNER, DS, ["public/", "notes/"]);
  const ds = w.site.get(DS)!;
  if (ds.read(`${OWNER}/notes/x.txt`) !== "note x") problems.push("the grant did not reach it");
  const shared = ds.files(`${OWNER}/shared`).filter((f) => !f.endsWith("syft.pub.yaml"));
  if (shared.length > 0) problems.push(`revoked files still mirrored: ${shared.join(", ")}`);
  return problems;
}

Deno.test("a crash anywhere in the owner's round publishing a grant and a revocation: the reader's projection follows", async () => {
  const { world, owner } = await regranted();
  const r = await record(world, owner, (site) => site.sync());
  const result = await timedSweep(r, { judge: regrantedProblems });
  assertEquals(result.failures, []);
});

Deno.test("a crash anywhere in the reader's round applying a grant and a revocation: its mirror follows", async () => {
  const { world, owner, ds } = await regranted();
  await owner.sync();
  const r = await record(world, ds, (site) => site.sync());
  assertEquals(r.after[`${OWNER}/notes/x.txt`], "note x", "the recorded round applied the grant");
  assertEquals(r.after[`${OWNER}/shared/a.txt`], undefined, "and the revocation");
  const result = await timedSweep(r, { judge: regrantedProblems });
  assertEquals(result.failures, []);
});
