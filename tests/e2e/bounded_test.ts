/**
 * Bounded channels (issue 5): thousands of rounds in process with a fake
 * clock, the recipient (and, for a while, the owner) offline for long
 * stretches, the clock once jumping back an hour. The number of objects in
 * each channel must stay bounded by the checkpoint thresholds, never grow
 * with the number of rounds, and both sides must end with the same files.
 * `SYFT_BOUNDED_ROUNDS` sets the length (default 1,000: twenty compactions,
 * six times the channel bound; 5,000 or more for a soak).
 * @module
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { filesUnder, peerUp, put, world } from "./_rig.ts";
import { live } from "./_live.ts";

const ROUNDS = Number(Deno.env.get("SYFT_BOUNDED_ROUNDS") ?? 1000);
/** Small thresholds so thousands of rounds cross many checkpoints and compactions. */
const THRESHOLDS = { checkpoint: 10, compact: 4 };
/** Objects a channel may hold: two cf periods of batches and cis, two cfs, the collector's slack. */
const BOUND = 2 * (THRESHOLDS.checkpoint * (THRESHOLDS.compact + 1) + THRESHOLDS.compact + 1) +
  2 + 32 + 8;

async function objectsIn(dir: string): Promise<number> {
  return (await filesUnder(dir)).filter((f) => f.endsWith(".syft")).length;
}

async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await filesUnder(dir)) {
    // Permission files are not readable by peers (so never mirrored).
    if (!f.endsWith("syft.pub.yaml")) out[f] = await Deno.readTextFile(posix.join(dir, f));
  }
  return out;
}

Deno.test(`bounded channels: ${ROUNDS} rounds, recipient offline for long stretches, objects stay bounded both ways`, async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  await peerUp(ds, owner);
  let clock = 1_800_000_000_000;
  const now = () => clock;
  const o = await live(owner, { now, thresholds: THRESHOLDS });
  const d = await live(ds, { now, thresholds: THRESHOLDS });
  const toDs = posix.join(w.shared, `syft1#${owner.email}#${ds.email}`);
  const toOwner = posix.join(w.shared, `syft1#${ds.email}#${owner.email}`);
  // Offline stretches as fractions of the run, so a shorter run keeps their shape.
  const span = (from: number, to: number) => (r: number) =>
    r >= Math.floor(ROUNDS * from) && r < Math.floor(ROUNDS * to);
  const dsAway = [span(0.16, 0.46), span(0.72, 0.78)];
  const ownerAway = [span(0.6, 0.68)];
  const away = (spans: ((r: number) => boolean)[], r: number) => spans.some((s) => s(r));
  const backwards = Math.floor(ROUNDS * 0.52);
  let max = { toDs: 0, toOwner: 0 };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      clock += 1000;
      if (r === backwards) clock -= 3_600_000; // the clock jumps back an hour
      if (!away(ownerAway, r)) {
        const f = `public/data/f${r % 12}.txt`;
        if (r % 17 === 5) await Deno.remove(posix.join(owner.datasite, f)).catch(() => {});
        else await put(owner.datasite, f, `owner round ${r}${"!".repeat(r % 5)}`);
        await o.round();
      }
      if (!away(dsAway, r)) {
        if (r % 3 === 0) {
          await put(ds.datasite, `public/notes/n${r % 6}.txt`, `ds round ${r}${"?".repeat(r % 4)}`);
        }
        await d.round();
      }
      max = {
        toDs: Math.max(max.toDs, await objectsIn(toDs)),
        toOwner: Math.max(max.toOwner, await objectsIn(toOwner)),
      };
    }
    // Everyone back: they converge to the same files.
    for (let i = 0; i < 6; i++) {
      clock += 1000;
      await o.round();
      await d.round();
    }
    assertEquals(
      await contents(posix.join(ds.mirror(owner), "public")),
      await contents(posix.join(owner.datasite, "public")),
      "ds's mirror holds exactly the owner's public files",
    );
    assertEquals(
      await contents(posix.join(owner.mirror(ds), "public")),
      await contents(posix.join(ds.datasite, "public")),
      "the owner's mirror holds exactly ds's public files",
    );
    assert(max.toDs <= BOUND, `owner→ds channel peaked at ${max.toDs} objects (bound ${BOUND})`);
    assert(
      max.toOwner <= BOUND,
      `ds→owner channel peaked at ${max.toOwner} objects (bound ${BOUND})`,
    );
    if (ROUNDS >= 2000) {
      // Far fewer than one object per round: the collector really ran.
      assert(max.toDs < ROUNDS / 10, `owner→ds peaked at ${max.toDs}`);
    }
  } finally {
    await o.close();
    await d.close();
    await Deno.remove(w.base, { recursive: true }).catch(() => {});
  }
});
