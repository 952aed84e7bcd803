/**
 * Bounded channels (issue 5), in memory: a thousand rounds with the recipient
 * (and, for a while, the owner) offline for long stretches and the clock once
 * jumping back an hour. The objects in each channel stay bounded by the
 * checkpoint thresholds, never growing with the rounds, and both sides end
 * with the same files. `SYFT_BOUNDED_ROUNDS` sets the length (default 1,000:
 * twenty compactions, six times the channel bound; 5,000 or more for a soak).
 */
import { assert, assertEquals } from "../../../assert.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";
import { tree } from "./_trees.ts";

const ROUNDS = Number(Deno.env.get("SYFT_BOUNDED_ROUNDS") ?? 1000);
/** Small thresholds so a thousand rounds cross many checkpoints and compactions. */
const THRESHOLDS = { checkpoint: 10, compact: 4 };
/** Objects a channel may hold: two cf periods of batches and cis, two cfs, the collector's slack. */
const BOUND = 2 * (THRESHOLDS.checkpoint * (THRESHOLDS.compact + 1) + THRESHOLDS.compact + 1) +
  2 + 32 + 8;

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

Deno.test(`bounded channels: ${ROUNDS} rounds, recipient offline for long stretches, objects stay bounded both ways`, async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  owner.ctx.thresholds = THRESHOLDS;
  ds.ctx.thresholds = THRESHOLDS;
  const objects = (sender: string, recipient: string) =>
    world.storage.names({ sender, recipient }).length;
  // Offline stretches as fractions of the run, so a shorter run keeps their shape.
  const span = (from: number, to: number) => (r: number) =>
    r >= Math.floor(ROUNDS * from) && r < Math.floor(ROUNDS * to);
  const dsAway = [span(0.16, 0.46), span(0.72, 0.78)];
  const ownerAway = [span(0.6, 0.68)];
  const away = (spans: ((r: number) => boolean)[], r: number) => spans.some((s) => s(r));
  const backwards = Math.floor(ROUNDS * 0.52);
  const max = { toDs: 0, toOwner: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    if (r === backwards) world.clock.advance(-3_600_000); // the clock jumps back an hour
    if (!away(ownerAway, r)) {
      const f = `public/data/f${r % 12}.txt`;
      if (r % 17 === 5) {
        if (owner.read(`${OWNER}/${f}`) !== null) owner.remove(`${OWNER}/${f}`);
      } else owner.writeOwn(f, `owner round ${r}${"!".repeat(r % 5)}`);
      await owner.sync();
    }
    if (!away(dsAway, r)) {
      if (r % 3 === 0) {
        ds.writeOwn(`public/notes/n${r % 6}.txt`, `ds round ${r}${"?".repeat(r % 4)}`);
      }
      await ds.sync();
    }
    max.toDs = Math.max(max.toDs, objects(OWNER, DS));
    max.toOwner = Math.max(max.toOwner, objects(DS, OWNER));
  }
  await world.settle();
  assertEquals(tree(ds, `${OWNER}/public`), tree(owner, `${OWNER}/public`), "ds's mirror");
  assertEquals(tree(owner, `${DS}/public`), tree(ds, `${DS}/public`), "the owner's mirror");
  assert(max.toDs <= BOUND, `owner→ds channel peaked at ${max.toDs} objects (bound ${BOUND})`);
  assert(
    max.toOwner <= BOUND,
    `ds→owner channel peaked at ${max.toOwner} objects (bound ${BOUND})`,
  );
  // The channels were used: more objects than one checkpoint period at some point.
  assert(max.toDs > THRESHOLDS.checkpoint, `owner→ds peaked at only ${max.toDs} objects`);
  if (ROUNDS >= 2000) {
    // Far fewer than one object per round: the collector really ran.
    assert(max.toDs < ROUNDS / 10, `owner→ds peaked at ${max.toDs}`);
  }
});
