/**
 * A peer that removed us and then added us back (`syft peer add`, then
 * approve: it still has our keys pinned) while we held it accepted: we never
 * withdrew, so its `peer.accept` makes it accepted again on our side too,
 * whether we read its old `peer.remove` in the same round or an earlier one
 * (simulation seed 5014495). Our own remove is not undone by it.
 */
import { assert, assertEquals } from "../../../assert.ts";
import { type MemorySite, MemoryWorld } from "../../../../core/testing/world.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

/** `site` adds `peer` back after removing it, and approves it at once (its keys are pinned). */
async function addBack(site: MemorySite, peer: string): Promise<void> {
  await site.service.requestPeer(peer);
  await site.service.discover();
  await site.service.approvePeer(peer, { datasite: site.datasite });
  assertEquals((await site.store.get(peer))?.state, "accepted");
}

async function pair(): Promise<{ world: MemoryWorld; owner: MemorySite; ds: MemorySite }> {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  owner.writeOwn("public/readme.txt", "owner's");
  await world.settle();
  return { world, owner, ds };
}

Deno.test("a write refused from a peer that removed and re-added us before we read the remove gets its .rejected copy", async () => {
  const { world, owner, ds } = await pair();
  await ds.service.removePeer(OWNER);
  await ds.sync(); // peer.remove, unread by the owner
  await addBack(ds, OWNER);
  ds.write(`${OWNER}/public/readme.txt`, "not yours to write");
  await ds.sync(); // peer.accept and the proposal
  await world.settle();
  assertEquals((await owner.store.get(DS))?.state, "accepted");
  assertEquals(owner.read(`${OWNER}/public/readme.txt`), "owner's");
  assertEquals(ds.read(`${OWNER}/public/readme.txt`), "owner's", "the mirror goes back");
  assert(
    ds.files(`${OWNER}/public`).some((f) => f.includes("readme.txt.rejected.")),
    "the proposer keeps its edit aside",
  );
});

Deno.test("a peer whose remove we read a round earlier is accepted again by its peer.accept, and syncs both ways", async () => {
  const { world, owner, ds } = await pair();
  await ds.service.removePeer(OWNER);
  await world.settle();
  assertEquals((await owner.store.get(DS))?.state, "removed");
  owner.writeOwn("public/later.txt", "written while removed");
  await owner.sync();
  await addBack(ds, OWNER);
  await world.settle();
  assertEquals((await owner.store.get(DS))?.state, "accepted");
  assertEquals(ds.read(`${OWNER}/public/later.txt`), "written while removed");
  ds.write(`${OWNER}/app_data/job/inbox/${DS}/job.txt`, "a job");
  await world.settle();
  assertEquals(owner.read(`${OWNER}/app_data/job/inbox/${DS}/job.txt`), "a job");
});

Deno.test("a peer we removed ourselves stays removed when its peer.accept arrives afterwards", async () => {
  const { world, owner, ds } = await pair();
  await ds.service.removePeer(OWNER);
  await world.settle();
  await addBack(ds, OWNER);
  await ds.sync(); // its peer.accept, waiting for the owner
  await owner.service.removePeer(DS); // the owner's own decision, before reading it
  owner.writeOwn("public/after.txt", "not for ds");
  await world.settle();
  assertEquals((await owner.store.get(DS))?.state, "removed");
  assertEquals((await ds.store.get(OWNER))?.state, "removed", "the owner's remove reaches ds");
  assertEquals(ds.read(`${OWNER}/public/after.txt`), null);
});
