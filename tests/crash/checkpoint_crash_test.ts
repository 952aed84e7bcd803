/**
 * Crash points of a round that writes a checkpoint (issue 16, item 4,
 * scenario d): the owner publishes a batch that makes a full checkpoint due,
 * writes it (one content past the inline limit, so a blob too) and collects
 * the batches it covers; it dies after any operation of that round. Restarted,
 * the reader that followed converges, and so does a fresh reader (state and
 * mirror lost) restoring from the checkpoints as the crash left them.
 */
import { assert, assertEquals } from "../assert.ts";
import { MemoryWorld } from "../../core/testing/world.ts";
import { beforeCheckpoint, DS, OWNER } from "./_checkpoint_world.ts";
import {
  disagreements,
  record,
  type Recording,
  reference,
  restartAt,
  type Restarted,
  timedSweep,
  type Tree,
  treeOf,
} from "./_sweep.ts";
import type { CrashModel } from "../../core/testing/memory_fs.ts";

const channel = { sender: OWNER, recipient: DS };

/** The files under the owner's datasite at `site` (its mirror of it). */
function ownerFiles(site: Restarted["crashed"]): Tree {
  const out: Tree = {};
  for (const [path, text] of Object.entries(treeOf(site))) {
    if (path.startsWith(`${OWNER}/`)) out[path] = text;
  }
  return out;
}

/** Restart from prefix `i`, restart the owner, then lose the reader's state and mirror and settle. */
async function freshReader(r: Recording, i: number, model: CrashModel): Promise<Restarted> {
  const w = restartAt(r, i, model);
  await w.crashed.sync();
  const ds = w.site.get(DS)!;
  w.world.fs.removeSync(`/sites/${DS}/home/state`, { recursive: true });
  w.world.fs.removeSync(`${ds.ctx.root}/${OWNER}`, { recursive: true });
  await w.world.settle();
  return w;
}

Deno.test("a crash anywhere in the owner's checkpoint round: the reader and a fresh reader restoring from the checkpoints converge", async () => {
  const { world, owner } = await beforeCheckpoint();
  const before = world.storage.names(channel);
  const r = await record(world, owner, (site) => site.sync());
  const after = world.storage.names(channel);
  const cf = after.filter((n) => n.startsWith("cf-") && !before.includes(n));
  assertEquals(cf.length, 1, `the recorded round writes one full checkpoint: ${after.join(", ")}`);
  assert(
    before.length - after.length > 20,
    `the round collects: ${before.length} -> ${after.length}`,
  );

  // What the reader that followed every batch holds of the owner's datasite.
  const fresh = ownerFiles((await reference(r)).site.get(DS)!);
  assertEquals(fresh[`${OWNER}/public/keep.txt`], "edited");
  const result = await timedSweep(r, {
    // Only atomic writes and uploads: the bytes-by-own-fsync model must hold too.
    models: ["in-order", "barrier", "file-sync"],
    judge: async (settled, i, model) => {
      const problems = disagreements(settled, OWNER, DS, ["public/"]);
      const w = await freshReader(r, i, model);
      const got = ownerFiles(w.site.get(DS)!);
      for (const path of new Set([...Object.keys(fresh), ...Object.keys(got)])) {
        if (got[path] !== fresh[path]) problems.push(`a fresh reader restored ${path} wrong`);
      }
      const quarantined = w.site.get(DS)!.rounds.reduce((n, x) => n + x.quarantined, 0);
      if (quarantined > 0) problems.push(`a fresh reader quarantined ${quarantined}`);
      return problems;
    },
  });
  assertEquals(result.failures, []);
  assert(result.points.barrier > 3, `only ${result.points.barrier} barriers`);
});

Deno.test("a crash anywhere in the owner's round writing an incremental checkpoint: the reader and a fresh reader converge", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  owner.ctx.thresholds = { checkpoint: 4, compact: 100 };
  await world.connect(ds, owner);
  owner.writeOwn("public/a.txt", "a");
  owner.writeOwn("public/gone.txt", "to be deleted");
  await world.settle();
  owner.writeOwn("public/a.txt", "a edited");
  owner.remove(`${OWNER}/public/gone.txt`);
  owner.writeOwn("public/sub/b.txt", "b");
  const before = world.storage.names(channel);
  const r = await record(world, owner, (site) => site.sync());
  const ci = world.storage.names(channel).filter((n) => n.startsWith("ci-") && !before.includes(n));
  assertEquals(ci.length, 1, `the recorded round writes one incremental checkpoint`);
  const fresh = ownerFiles((await reference(r)).site.get(DS)!);
  const result = await timedSweep(r, {
    // Only atomic writes and uploads: the bytes-by-own-fsync model must hold too.
    models: ["in-order", "barrier", "file-sync"],
    judge: async (settled, i, model) => {
      const got = ownerFiles((await freshReader(r, i, model)).site.get(DS)!);
      return [...new Set([...Object.keys(fresh), ...Object.keys(got)])]
        .filter((path) => got[path] !== fresh[path])
        .map((path) => `a fresh reader restored ${path} wrong`)
        .concat(disagreements(settled, OWNER, DS, ["public/"]));
    },
  });
  assertEquals(result.failures, []);
});
