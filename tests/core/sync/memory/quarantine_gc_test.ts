/**
 * Quarantine and garbage collection in memory: an object that fails
 * verification is quarantined (recorded under state/quarantine) and the
 * channel recovers; a deleted file's blob leaves the shared storage once the
 * reader acked the deletion.
 */
import { assert, assertEquals } from "../../../assert.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";
import { tree } from "./_trees.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";
const channel = { sender: OWNER, recipient: DS };

Deno.test("a damaged cf-0 is quarantined, nothing of it applies, and a fresh cf brings the reader level", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  for (let i = 0; i < 5; i++) owner.writeOwn(`public/p${i}.txt`, `projection ${i}`);
  await ds.service.requestPeer(OWNER);
  await owner.service.discover();
  await owner.service.approvePeer(DS, { datasite: owner.datasite });
  await owner.sync();
  const cf0 = "cf-0000000000000000.syft";
  assertEquals(world.storage.names(channel).filter((n) => n.startsWith("cf-")), [cf0]);
  const bytes = world.storage.peek(channel, cf0)!.slice();
  bytes[bytes.length - 5]! ^= 0xff;
  world.storage.tamper(channel, cf0, bytes);

  const first = await ds.sync();
  assert(first.quarantined >= 1, JSON.stringify(first));
  assert(ds.warnings.some((w) => w.includes(`quarantined ${cf0}`)), ds.warnings.join("\n"));
  const records = world.fs.listTree(`/sites/${DS}/home/state/quarantine`);
  assert(records.some((r) => r.endsWith(`${cf0}.json`)), records.join(", "));
  assertEquals(tree(ds, OWNER), {}, "nothing from the refused checkpoint applied");
  assertEquals((await ds.store.get(OWNER))?.state, "accepted", "b-1's peer.accept was still read");

  await world.settle();
  assertEquals(tree(ds, OWNER), tree(owner, OWNER));
});

Deno.test("a deleted large file's blob is collected once the reader acked the deletion", async () => {
  const world = new MemoryWorld();
  // Per-channel blobs (protocol 1); pool_test.ts proves the same of pooled ones.
  world.storage.pool = false;
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  const blobs = () => world.storage.names(channel).filter((n) => n.startsWith("x-"));

  // Incompressible bytes past the inline limit: the file travels as a blob.
  const big = new Uint8Array(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
  owner.writeOwn("public/big.bin", big);
  await world.settle();
  assertEquals(world.fs.lstatSync(`${ds.ctx.root}/${OWNER}/public/big.bin`).size, big.length);
  assertEquals(blobs().length, 1, "the file went as one blob");

  owner.remove(`${OWNER}/public/big.bin`);
  // The reader's own edits carry its acks back; a few rounds each way at most.
  for (let i = 0; i < 4 && blobs().length > 0; i++) {
    await owner.sync();
    ds.writeOwn(`public/ack${i}.txt`, `ack ${i}`);
    await ds.sync();
  }
  await owner.sync();
  await owner.sync();
  assertEquals(ds.read(`${OWNER}/public/big.bin`), null, "the deletion reached the reader");
  assertEquals(blobs(), [], "the deleted file's blob is still in the channel");
  const last = await ds.sync();
  assertEquals(last.quarantined, 0, "nothing left refers to the collected blob");
});
