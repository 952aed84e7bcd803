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
import {
  record,
  reference,
  restartAt,
  type Restarted,
  timedSweep,
  type Tree,
  treeOf,
} from "./_sweep.ts";
import type { CrashModel } from "../../core/testing/memory_fs.ts";
import type { Recording } from "./_sweep.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";
const channel = { sender: OWNER, recipient: DS };
/** Batches before the checkpoint: enough for its collection to run (GC_MIN_OBJECTS). */
const BATCHES = 34;

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
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  owner.ctx.thresholds = { checkpoint: BATCHES + 4, compact: 0 };
  owner.writeOwn("public/big.bin", "b".repeat(300 * 1024));
  owner.writeOwn("public/gone.txt", "to be deleted");
  await world.connect(ds, owner);
  for (let i = 0; i < BATCHES; i++) {
    owner.writeOwn(`public/log/${i % 5}.txt`, `round ${i}`);
    await owner.sync();
    await ds.sync();
  }
  owner.writeOwn("public/keep.txt", "edited");
  owner.remove(`${OWNER}/public/gone.txt`);
  for (let i = 0; i < 3; i++) owner.writeOwn(`public/sub/f${i}.txt`, `new ${i}`);
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
    judge: async (_w, i, model) => {
      const w = await freshReader(r, i, model);
      const got = ownerFiles(w.site.get(DS)!);
      const problems: string[] = [];
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
