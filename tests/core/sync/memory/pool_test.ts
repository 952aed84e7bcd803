/**
 * Protocol v2 in memory: a large file published to several peers is sealed
 * once and stored once in the owner's pool, each peer's batch carrying the
 * key; a removed peer gets no key for what follows; the pool object goes once
 * every peer acked past it; a crash between its put and the batch leaves
 * nothing for good; a damaged pool object is quarantined like a blob; and
 * without a pool, per-channel blobs still carry everything.
 */
import { assert, assertEquals } from "../../../assert.ts";
import { SyftError } from "../../../../core/errors/mod.ts";
import { type MemorySite, MemoryWorld } from "../../../../core/testing/world.ts";
import { OWNER, poolWorld } from "./_pool_world.ts";
import { peerKeys } from "../../../../core/sync/context.ts";
import { readOwnObject } from "../../../../core/sync/outgoing.ts";

const PEERS = ["ann@lab.org", "bob@lab.org", "cy@lab.org"];
const MiB = 1024 * 1024;

/** Incompressible bytes past the inline limit: the file travels as a blob. */
function bigFile(bytes = 2 * MiB): Uint8Array {
  const big = new Uint8Array(bytes);
  for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
  return big;
}

const world = poolWorld;

/** Every `x-` blob in the owner's channels. */
function channelBlobs(w: MemoryWorld): string[] {
  return [...w.storage.channels.values()]
    .filter((c) => c.ref.sender === OWNER)
    .flatMap((c) => [...c.objects.keys()].filter((n) => n.startsWith("x-")));
}

function sizeOf(site: MemorySite, rel: string): number | null {
  try {
    return site.fs.lstatSync(`${site.ctx.root}/${rel}`).size;
  } catch {
    return null;
  }
}

/** Rounds on each side until `done`; the peers write a file each time so their acks travel. */
async function untilCollected(
  w: MemoryWorld,
  owner: MemorySite,
  acking: MemorySite[],
  done: () => boolean,
): Promise<void> {
  for (let i = 0; i < 6 && !done(); i++) {
    w.clock.advance(1000);
    await owner.sync();
    for (const site of acking) {
      site.writeOwn(`public/ack${i}.txt`, `ack ${i}`);
      await site.sync();
    }
  }
  await owner.sync();
  await owner.sync();
}

Deno.test("three peers get one pool object: the content is sealed and stored once", async () => {
  const { w, owner, sites } = await world(PEERS);
  const big = bigFile();
  const before = w.storage.storedBytes();
  owner.writeOwn("public/big.bin", big);
  await w.settle();
  for (const site of sites) assertEquals(sizeOf(site, `${OWNER}/public/big.bin`), big.length);
  const names = w.storage.poolNames(OWNER);
  assertEquals(names.length, 1, "one pool object for three peers");
  assertEquals(w.storage.poolReaders(OWNER, names[0]!), [...PEERS].sort());
  assertEquals(channelBlobs(w), [], "no per-channel copy");
  const added = w.storage.storedBytes() - before;
  assert(added < big.length * 1.05, `stored ${added} bytes for a ${big.length}-byte file`);
  // The name reveals no content hash.
  assert(/^p-[0-9a-f]{32}\.syft$/.test(names[0]!), names[0]);
});

Deno.test("a removed peer is never made a reader of, nor sent the key of, what is published after", async () => {
  const { w, owner, sites } = await world(PEERS.slice(0, 2));
  const [ann, bob] = sites as [MemorySite, MemorySite];
  owner.writeOwn("public/first.bin", bigFile());
  await w.settle();
  const first = w.storage.poolNames(OWNER);
  assertEquals(w.storage.poolReaders(OWNER, first[0]!), [ann.me, bob.me]);

  await owner.service.removePeer(bob.me);
  await w.settle();
  owner.writeOwn("public/second.bin", bigFile());
  await w.settle();
  const second = w.storage.poolNames(OWNER).filter((n) => !first.includes(n));
  assertEquals(second.length, 1);
  assertEquals(w.storage.poolReaders(OWNER, second[0]!), [ann.me]);
  assert(sizeOf(ann, `${OWNER}/public/second.bin`) !== null, "ann got it");
  assertEquals(sizeOf(bob, `${OWNER}/public/second.bin`), null, "bob did not");
  // Nothing bob may read names the new object (nor carries its key); the first one is named.
  const record = (await owner.store.get(bob.me))!;
  const keys = await peerKeys(owner.ctx, bob.me, record.sign_key!, record.agree_key!);
  const texts: string[] = [];
  for (const name of w.storage.names({ sender: OWNER, recipient: bob.me })) {
    const kind = name.startsWith("b-") ? "batch" : name.startsWith("cf-") ? "cf" : null;
    if (kind) {
      texts.push(new TextDecoder().decode(await readOwnObject(owner.ctx, keys, name, kind)));
    }
  }
  assert(texts.some((t) => t.includes(first[0]!)), "bob's channel names the first object");
  assert(!texts.some((t) => t.includes(second[0]!)), "bob's channel names the second object");
});

Deno.test("a pool object is deleted once every peer acked past its deletion, and not before", async () => {
  const { w, owner, sites } = await world(PEERS.slice(0, 2));
  const [ann, bob] = sites as [MemorySite, MemorySite];
  owner.writeOwn("public/big.bin", bigFile());
  await w.settle();
  assertEquals(w.storage.poolNames(OWNER).length, 1);

  owner.remove(`${OWNER}/public/big.bin`);
  // Only ann reads and acks: bob still has a batch naming the object to go.
  await untilCollected(w, owner, [ann], () => false);
  assertEquals(sizeOf(ann, `${OWNER}/public/big.bin`), null, "the deletion reached ann");
  assertEquals(w.storage.poolNames(OWNER).length, 1, "kept while bob has not acked");

  await untilCollected(w, owner, [ann, bob], () => w.storage.poolNames(OWNER).length === 0);
  assertEquals(w.storage.poolNames(OWNER), [], "collected once both acked");
  assertEquals(sizeOf(bob, `${OWNER}/public/big.bin`), null);
  for (const site of sites) assertEquals((await site.sync()).quarantined, 0);
});

Deno.test("a crash between the pool put and the batch leaves nothing for good: the object is collected later", async () => {
  const { w, owner } = await world(PEERS.slice(0, 1));
  owner.writeOwn("public/big.bin", bigFile());
  // The batch put fails once the pool object is in: the round dies there.
  let crash = true;
  w.storage.faults = {
    fail: (op, who) => {
      if (op !== "put" || who !== OWNER || !crash) return undefined;
      crash = false;
      return new SyftError("E_INTERNAL", "killed");
    },
  };
  await owner.sync().catch(() => {});
  assertEquals(crash, false, "the batch put was attempted");
  assertEquals(w.storage.poolNames(OWNER).length, 1, "the pool object went in first");
  // Before the next round the file is gone: no batch will ever name the object.
  owner.remove(`${OWNER}/public/big.bin`);
  w.storage.faults = null;
  await w.settle();
  assertEquals(w.storage.poolNames(OWNER), [], "collected by a later round");
});

Deno.test("a damaged pool object is quarantined, never applied, and a fresh copy brings the reader level", async () => {
  const { w, owner, sites } = await world(PEERS.slice(0, 1));
  const [ann] = sites as [MemorySite];
  const big = bigFile();
  owner.writeOwn("public/big.bin", big);
  await owner.sync();
  const [name] = w.storage.poolNames(OWNER);
  const stored = w.storage.pools.get(OWNER)!.get(name!)!.bytes.slice();
  stored[stored.length - 100]! ^= 0xff;
  w.storage.tamperPool(OWNER, name!, stored);

  const r = await ann.sync();
  assert(r.quarantined >= 1, JSON.stringify(r));
  assertEquals(sizeOf(ann, `${OWNER}/public/big.bin`), null, "nothing of it applied");
  await w.settle();
  assertEquals(sizeOf(ann, `${OWNER}/public/big.bin`), big.length, "restored from a fresh copy");
  assert(owner.warnings.some((m) => m.includes("damaged")), owner.warnings.join("\n"));
});

Deno.test("without a pool, protocol 1 blobs still carry a large file to every peer", async () => {
  const { w, owner, sites } = await world(PEERS.slice(0, 2), false);
  const big = bigFile();
  owner.writeOwn("public/big.bin", big);
  await w.settle();
  for (const site of sites) assertEquals(sizeOf(site, `${OWNER}/public/big.bin`), big.length);
  assertEquals(w.storage.poolNames(OWNER), []);
  assertEquals(channelBlobs(w).length, 2, "one x- blob per channel");
});

Deno.test("a peer approved later is added as a reader of the object already stored, not sent a copy", async () => {
  const { w, owner, sites } = await world(PEERS.slice(0, 1));
  const big = bigFile();
  owner.writeOwn("public/big.bin", big);
  await w.settle();
  const [name] = w.storage.poolNames(OWNER);
  const later = await w.site(PEERS[1]!);
  await w.connect(later, owner);
  await w.settle();
  assertEquals(sizeOf(later, `${OWNER}/public/big.bin`), big.length);
  assertEquals(w.storage.poolNames(OWNER), [name!], "the same object, no second one");
  assertEquals(w.storage.poolReaders(OWNER, name!), [sites[0]!.me, later.me].sort());
  assertEquals(channelBlobs(w), []);
});

Deno.test("a removed peer that never acks again does not keep a pool object for good", async () => {
  const { w, owner, sites } = await world(PEERS.slice(0, 2));
  const [ann, bob] = sites as [MemorySite, MemorySite];
  owner.writeOwn("public/big.bin", bigFile());
  await w.settle();
  assertEquals(w.storage.poolNames(OWNER).length, 1);
  await owner.service.removePeer(bob.me);
  owner.remove(`${OWNER}/public/big.bin`);
  await untilCollected(w, owner, [ann], () => w.storage.poolNames(OWNER).length === 0);
  assertEquals(w.storage.poolNames(OWNER), [], "bob's old channel does not hold it");
});

Deno.test("an owner that lost its pool record deletes the pool objects no channel names, and keeps those one does", async () => {
  const { w, owner, sites } = await world(PEERS.slice(0, 1));
  owner.writeOwn("public/one.bin", bigFile());
  await w.settle();
  const [named] = w.storage.poolNames(OWNER);
  // What a lost state/ leaves: an object nobody names, and no record.
  await owner.ctx.transport.poolPut!(`p-${"0".repeat(32)}.syft`, new Uint8Array(9), [sites[0]!.me]);
  owner.fs.removeSync(`${owner.stateDir}/pool.json`);
  owner.writeOwn("public/two.bin", bigFile());
  await w.settle();
  const left = w.storage.poolNames(OWNER);
  assertEquals(left.length, 2, left.join(", "));
  assert(left.includes(named!), "the object a channel names stays");
  assert(!left.includes(`p-${"0".repeat(32)}.syft`), "the stray object went");
  assertEquals(sizeOf(sites[0]!, `${OWNER}/public/two.bin`), 2 * MiB);
  // The object kept is adopted into the new record, so a collection can delete it later.
  const record = JSON.parse(
    new TextDecoder().decode(owner.fs.readFileSync(`${owner.stateDir}/pool.json`)),
  );
  assert(named! in record.entries, JSON.stringify(record));
});
