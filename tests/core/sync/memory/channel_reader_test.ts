/**
 * The reader of one channel on its own, without a round: what a peer
 * publishes to us, read by `ChannelReader` directly, and `receiveFrom` as the
 * same reading under its older name.
 */
import { assert, assertEquals } from "../../../assert.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";
import type { MemorySite } from "../../../../core/testing/world.ts";
import { ChannelReader } from "../../../../core/sync/channel_reader.ts";
import { receiveFrom } from "../../../../core/sync/receive.ts";
import { peerKeys } from "../../../../core/sync/context.ts";
import { loadChannelState } from "../../../../core/sync/state.ts";
import type { ReceiveOptions } from "../../../../core/sync/receive.ts";
import type { Control } from "../../../../core/events/types.ts";
import { loadDatasitePermissions } from "../../../../core/permissions/mod.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

/** An owner that published two files to an accepted reader, which has not read them yet. */
async function published() {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  owner.writeOwn("public/a.txt", "alpha");
  owner.writeOwn("public/b.txt", "beta");
  await owner.sync();
  return { world, owner, ds };
}

/** What the round hands a reader, recording the peer controls it is told of. */
function options(site: MemorySite, seen: Control[]): ReceiveOptions {
  return {
    acceptsProposals: true,
    onPeerControls: (controls) => {
      seen.push(...controls);
      return Promise.resolve();
    },
    engine: () => loadDatasitePermissions(site.datasite, { fs: site.ctx.fs }),
    onPermissionsChanged: () => {},
  };
}

async function readerFor(ds: MemorySite, seen: Control[]): Promise<ChannelReader> {
  const record = (await ds.store.get(OWNER))!;
  const keys = await peerKeys(ds.ctx, OWNER, record.sign_key!, record.agree_key!);
  const state = await loadChannelState(ds.ctx.layout, OWNER);
  return new ChannelReader(ds.ctx, keys, state, options(ds, seen));
}

Deno.test("a ChannelReader alone brings a peer's publication into its mirror and saves its cursor", async () => {
  const { ds } = await published();
  const seen: Control[] = [];
  const result = await (await readerFor(ds, seen)).read();
  assertEquals(ds.read(`${OWNER}/public/a.txt`), "alpha");
  assertEquals(ds.read(`${OWNER}/public/b.txt`), "beta");
  assert(result.applied >= 2, JSON.stringify(result));
  assertEquals(result.quarantined, 0);
  const saved = await loadChannelState(ds.ctx.layout, OWNER);
  assertEquals(saved.cursor, result.state.cursor, "the journal saved the state the reader reports");
  assert(saved.cursor > 0 || saved.base !== null, "the reader moved past the first object");

  const again = await (await readerFor(ds, seen)).read();
  assertEquals(again.applied, 0, "a second reading finds nothing new");
  assertEquals(again.state.cursor, saved.cursor);
});

Deno.test("receiveFrom reads exactly as a ChannelReader does", async () => {
  const direct = await published();
  const viaReader = await (await readerFor(direct.ds, [])).read();

  const legacy = await published();
  const record = (await legacy.ds.store.get(OWNER))!;
  const keys = await peerKeys(legacy.ds.ctx, OWNER, record.sign_key!, record.agree_key!);
  const state = await loadChannelState(legacy.ds.ctx.layout, OWNER);
  const viaFunction = await receiveFrom(legacy.ds.ctx, keys, state, options(legacy.ds, []));

  const shape = (r: typeof viaReader) => ({ ...r, state: { cursor: r.state.cursor } });
  assertEquals(shape(viaFunction), shape(viaReader));
  assertEquals(legacy.ds.files(OWNER), direct.ds.files(OWNER));
});

Deno.test("a ChannelReader proposes our edit in the peer's mirror once, and keeps it pending in its state", async () => {
  const { ds } = await published();
  const reader = await readerFor(ds, []);
  await reader.read();
  ds.write(`${OWNER}/public/a.txt`, "alpha, edited");
  const first = await reader.propose();
  assertEquals(first.proposals.map((p) => p.event.path), ["public/a.txt"]);
  assertEquals(reader.state.proposed["public/a.txt"]?.id, first.proposals[0]!.event.id);
  const second = await reader.propose();
  assertEquals(second.proposals, [], "a pending proposal is not proposed again");
});
