/**
 * The writer's seq against what its channel holds (core/sync/settle_seq.ts),
 * in memory: a forged object at our next seq is quarantined and stepped past,
 * a state that lost its record learns the seq from the listing, and a batch
 * of ours beyond our record stops only that channel, as another installation.
 */
import { assert, assertEquals } from "../../../assert.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";
import { batchName } from "../../../../core/events/types.ts";
import { loadChannelState, saveChannelState } from "../../../../core/sync/state.ts";
import { tree } from "./_trees.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";
const channel = { sender: OWNER, recipient: DS };

async function connected() {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  owner.writeOwn("public/a.txt", "first");
  await world.settle();
  const next = (await loadChannelState(owner.ctx.layout, DS)).next_seq;
  return { world, owner, ds, next };
}

Deno.test("a forged object at our next seq is quarantined and our batch follows it", async () => {
  const { world, owner, ds, next } = await connected();
  world.storage.tamper(channel, batchName(next), new TextEncoder().encode("not a batch"));
  // The put finds the name taken: the listing settles the seq.
  owner.writeOwn("public/b.txt", "second");
  const r = await owner.sync();
  assertEquals(r.failures, []);
  assert(owner.warnings.some((w) => w.includes(`quarantined ${batchName(next)}`)));
  assertEquals((await loadChannelState(owner.ctx.layout, DS)).next_seq, next + 2);
  assert(world.storage.names(channel).includes(batchName(next + 1)));
  await world.settle();
  assertEquals(tree(ds, OWNER), tree(owner, OWNER));
});

Deno.test("a state that lost its record learns the seq from the listing, nothing overwritten", async () => {
  const { world, owner, ds, next } = await connected();
  await owner.ctx.fs.remove(`${owner.ctx.layout.channels}/${DS}.json`);
  owner.writeOwn("public/b.txt", "second");
  const r = await owner.sync();
  assertEquals(r.failures, []);
  assertEquals((await loadChannelState(owner.ctx.layout, DS)).seq_known, true);
  assert(world.storage.names(channel).includes(batchName(next)));
  await world.settle();
  assertEquals(tree(ds, OWNER), tree(owner, OWNER));
});

Deno.test("a batch of ours beyond our record stops that channel as another installation", async () => {
  const { owner, next } = await connected();
  const state = await loadChannelState(owner.ctx.layout, DS);
  // This installation's record is one batch behind the channel: another one wrote it.
  await saveChannelState(owner.ctx.layout, { ...state, next_seq: next - 1 });
  owner.writeOwn("public/b.txt", "second");
  const r = await owner.sync();
  assertEquals(r.failures.map((f) => [f.peer, f.direction, f.code]), [
    [DS, "publishing", "E_INPUT"],
  ]);
  assert(r.failures[0]!.hint?.includes("run syft from one place only"));
});
