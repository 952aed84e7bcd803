/**
 * Crash points of an applying round (issue 16, item 4, scenario b): the reader
 * applies the owner's batch of new, edited and deleted files, some in
 * subfolders and one past the inline limit (a blob), and dies after any
 * operation of it: its mirror holds each file's old or new version, never a
 * torn one, and converges once restarted.
 */
import { assert, assertEquals } from "../assert.ts";
import { applying, DS, OWNER, peers } from "./_scenarios.ts";
import { disagreements, record, timedSweep } from "./_sweep.ts";

Deno.test("a crash anywhere in the reader's applying round: its mirror is old or new per file, and converges", async () => {
  const r = await applying();
  assertEquals(
    r.after[`${OWNER}/public/keep.txt`],
    "edited",
    "the recorded round applied the batch",
  );
  assertEquals(r.after[`${OWNER}/public/gone.txt`], undefined);
  assertEquals(r.after[`${OWNER}/public/moved.txt`], "moved whole");
  const result = await timedSweep(r, { judge: (w) => disagreements(w, OWNER, DS, ["public/"]) });
  assertEquals(result.failures, []);
  assert(result.points.barrier > 3, `only ${result.points.barrier} barriers`);
});

/**
 * Found by these sweeps, for the lead to decide (core/sync/reader/apply.ts,
 * keepLocalEdit + journal.ts): the reader's own edit is moved aside by one
 * rename and the new content put in its place by a second, so a crash
 * between them (in order: the first rename reached the disk, the second did
 * not) leaves the path missing until the next round finishes the journal.
 * Nothing is lost (the old content is in the marker copy, the new one
 * staged), so the green sweeps below tolerate exactly this; the ignored ones
 * demand the path never be empty (a link to the marker, then one rename over
 * the path, would keep it full).
 */
const MOVED_ASIDE = /: missing on disk \(kept aside as /;

/** The reader applies an owner edit of a file it edited itself: its edit goes aside. */
async function conflictRound() {
  const { world, owner, ds } = await peers();
  owner.writeOwn("public/shared.txt", "v1");
  owner.writeOwn("public/other.txt", "o1");
  await world.settle();
  owner.writeOwn("public/shared.txt", "v2 from the owner");
  owner.writeOwn("public/other.txt", "o2");
  await owner.sync();
  ds.write(`${OWNER}/public/shared.txt`, "the reader's own edit");
  const r = await record(world, ds, (site) => site.sync());
  const copies = Object.keys(r.after).filter((p) => /\.(conflict|rejected)\./.test(p));
  assertEquals(copies.length, 1, `the recorded round kept the edit aside: ${copies.join(", ")}`);
  assertEquals(r.after[copies[0]!], "the reader's own edit");
  assertEquals(r.after[`${OWNER}/public/shared.txt`], "v2 from the owner");
  return r;
}

/** The proposer learns the owner refused its edit: the edit goes aside as .rejected. */
async function refusalRound() {
  const { world, owner, ds } = await peers();
  owner.writeOwn("public/readme.txt", "owner's version");
  await world.settle();
  ds.write(`${OWNER}/public/readme.txt`, "ds was here");
  await ds.sync(); // proposes
  await owner.sync(); // refuses
  const r = await record(world, ds, (site) => site.sync());
  const copies = Object.keys(r.after).filter((p) => p.includes(".rejected."));
  assertEquals(
    copies.length,
    1,
    `the recorded round kept the refused edit: ${Object.keys(r.after)}`,
  );
  assertEquals(r.after[copies[0]!], "ds was here");
  assertEquals(r.after[`${OWNER}/public/readme.txt`], "owner's version");
  return r;
}

Deno.test("a crash anywhere in the reader's round that keeps its own edit aside as a conflict copy: one copy, converged", async () => {
  const result = await timedSweep(await conflictRound(), {
    judge: (w) => disagreements(w, OWNER, DS, ["public/"]),
  });
  assertEquals(result.failures.filter((f) => !MOVED_ASIDE.test(f)), []);
});

Deno.test("a crash anywhere in the proposer's round that learns its refusal: one .rejected copy, the owner's version back", async () => {
  const result = await timedSweep(await refusalRound(), {
    judge: (w) => disagreements(w, OWNER, DS, ["public/"]),
  });
  assertEquals(result.failures.filter((f) => !MOVED_ASIDE.test(f)), []);
});

Deno.test({
  name:
    "a reader's edit moved aside as a conflict copy never leaves its path empty (in-order, the prefix after the rename aside)",
  ignore: true, // engine finding, see MOVED_ASIDE
  fn: async () => {
    const result = await timedSweep(await conflictRound());
    assertEquals(result.failures, []);
  },
});

Deno.test({
  name:
    "a refused edit moved aside as a .rejected copy never leaves its path empty (in-order, the prefix after the rename aside)",
  ignore: true, // engine finding, see MOVED_ASIDE
  fn: async () => {
    const result = await timedSweep(await refusalRound());
    assertEquals(result.failures, []);
  },
});
