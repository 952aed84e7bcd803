/** The world of the checkpoint sweeps: an owner one round away from a full checkpoint. */
import { MemoryWorld } from "../../core/testing/world.ts";

export const OWNER = "owner@hospital.org";
export const DS = "ds@lab.org";
/** Batches before the checkpoint: enough for its collection to run (GC_MIN_OBJECTS). */
export const BATCHES = 34;

/** Two peers, the owner a round away from a full checkpoint that collects what it covers. */
export async function beforeCheckpoint() {
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
  return { world, owner, ds };
}
