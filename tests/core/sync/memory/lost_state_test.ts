/**
 * An owner that lost its `state/` (deleted by hand, a restored backup without
 * it) and finds its channels full of its own objects: it rebuilds what it had
 * published from them, and judges the proposals its peers sent after its last
 * ack even when a checkpoint is what it restores from (simulation seeds 9 and
 * 5; seed 507, objects from before the loss collected, is in tests/sim/).
 */
import { assert, assertEquals } from "../../../assert.ts";
import { type MemorySite, MemoryWorld } from "../../../../core/testing/world.ts";
import { tree } from "./_trees.ts";
import { SyftError } from "../../../../core/errors/mod.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";
const INBOX = `app_data/job/inbox/${DS}`;

/** `a` and `b`, one of which removed the other, ask each other again and both approve. */
async function peerAgain(a: MemorySite, b: MemorySite): Promise<void> {
  for (const [x, y] of [[a, b], [b, a]] as const) await x.service.requestPeer(y.me);
  for (const [x, y] of [[b, a], [a, b]] as const) {
    await x.service.discover();
    if ((await x.store.get(y.me))?.state !== "accepted") {
      await x.service.approvePeer(y.me, { datasite: x.datasite });
    }
  }
}

function loseState(world: MemoryWorld, site: string): void {
  world.fs.removeSync(`/sites/${site}/home/state`, { recursive: true });
}

Deno.test("an owner that deleted a file and then lost state/ still tells its peer of the deletion", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  owner.writeOwn("public/keep.txt", "kept");
  owner.writeOwn("public/gone.txt", "to be deleted");
  await world.settle();
  owner.remove(`${OWNER}/public/gone.txt`);
  loseState(world, OWNER);
  await world.settle();
  assertEquals(tree(ds, `${OWNER}/public`), tree(owner, `${OWNER}/public`));
  assertEquals(ds.read(`${OWNER}/public/gone.txt`), null);
});

Deno.test("an owner that lost state/ does not publish its unchanged files again over a peer's unanswered edit", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  ds.write(`${OWNER}/${INBOX}/f.txt`, "v1");
  await world.settle();
  ds.write(`${OWNER}/${INBOX}/f.txt`, "v2");
  loseState(world, OWNER);
  await owner.sync(); // publishes from its rebuilt record: nothing of f.txt
  await world.settle();
  assertEquals(owner.read(`${OWNER}/${INBOX}/f.txt`), "v2");
  assertEquals(ds.files(OWNER).filter((p) => p.includes(".conflict")), []);
});

Deno.test("an owner that lost state/ and restores from a checkpoint still judges the proposals sent after its last ack", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  ds.ctx.thresholds = { checkpoint: 1, compact: 0 }; // every checkpoint a full one
  await world.connect(ds, owner);
  ds.writeOwn("public/first.txt", "first");
  await world.settle();
  owner.writeOwn("public/news.txt", "news"); // a batch of the owner's acks what it read of ds
  await world.settle();
  // A proposal, then enough of ds's own news that a full checkpoint follows it.
  ds.write(`${OWNER}/${INBOX}/j1/run.sh`, "echo hi\n");
  ds.writeOwn("public/a.txt", "a");
  await ds.sync();
  ds.writeOwn("public/b.txt", "b");
  await ds.sync();
  assert(
    world.storage.names({ sender: DS, recipient: OWNER }).some((n) => n.startsWith("cf-")),
    "ds wrote a full checkpoint after its proposal",
  );
  loseState(world, OWNER);
  await world.settle();
  assertEquals(owner.read(`${OWNER}/${INBOX}/j1/run.sh`), "echo hi\n");
  assertEquals(tree(owner, `${DS}/public`), tree(ds, `${DS}/public`));
});

Deno.test("an owner that lost state/ waits for a proposal batch its listing does not show yet before restoring past it", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  ds.ctx.thresholds = { checkpoint: 1, compact: 0 };
  await world.connect(ds, owner);
  ds.writeOwn("public/first.txt", "first");
  await world.settle();
  // The batch with the proposal shows late in the owner's listings (Drive's
  // index lags); the checkpoints after it show at once (seed 5012077).
  let lagging = true;
  world.storage.faults = {
    lag: (channel, name) => lagging && channel.sender === DS && name.startsWith("b-") ? 3 : 0,
  };
  ds.write(`${OWNER}/${INBOX}/j1/run.sh`, "echo hi\n");
  await ds.sync();
  lagging = false;
  ds.writeOwn("public/a.txt", "a");
  await ds.sync();
  ds.writeOwn("public/b.txt", "b");
  await ds.sync();
  loseState(world, OWNER);
  await owner.sync();
  assertEquals(owner.read(`${OWNER}/${INBOX}/j1/run.sh`), null, "its batch is not listed yet");
  assert(owner.rounds.at(-1)!.problems.some((p) => p.includes("waiting for a missing batch")));
  for (let i = 0; i < 3; i++) world.storage.tick();
  await world.settle();
  assertEquals(owner.read(`${OWNER}/${INBOX}/j1/run.sh`), "echo hi\n");
  assertEquals(ds.read(`${OWNER}/${INBOX}/j1/run.sh`), "echo hi\n");
  assertEquals(tree(owner, `${DS}/public`), tree(ds, `${DS}/public`));
});

Deno.test("an owner that applied a proposal, failed to ack it, deleted the file and lost state/ keeps its deletion", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  ds.write(`${OWNER}/${INBOX}/j1/config.yaml`, "name: j1\n");
  await ds.sync();
  // The owner applies the job, then every put of its round fails: no ack,
  // no echo (simulation seed 10007229: a 500).
  world.storage.faults = {
    fail: (op, identity) =>
      identity === OWNER && op === "put"
        ? new SyftError("E_TRANSPORT", "put: server error (500)")
        : undefined,
  };
  await owner.sync().catch(() => {});
  world.storage.faults = null;
  assertEquals(owner.read(`${OWNER}/${INBOX}/j1/config.yaml`), "name: j1\n");
  owner.remove(`${OWNER}/${INBOX}/j1/config.yaml`);
  loseState(world, OWNER);
  await world.settle();
  assertEquals(owner.read(`${OWNER}/${INBOX}/j1/config.yaml`), null, "the owner's deletion stands");
  assertEquals(ds.read(`${OWNER}/${INBOX}/j1/config.yaml`), null, "and reaches the peer's mirror");
});

Deno.test("an owner that lost state/ while a peer was removed does not apply that peer's old proposal again once they peer again", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  ds.write(`${OWNER}/${INBOX}/f.txt`, "job file");
  await world.settle();
  assertEquals(owner.read(`${OWNER}/${INBOX}/f.txt`), "job file");
  await owner.service.removePeer(DS);
  loseState(world, OWNER);
  owner.remove(`${OWNER}/${INBOX}/f.txt`);
  await world.settle(); // the owner's peer.remove, written with no record of ds's channel
  assertEquals((await ds.store.get(OWNER))?.state, "removed");
  await peerAgain(owner, ds);
  await world.settle();
  assertEquals(owner.read(`${OWNER}/${INBOX}/f.txt`), null, "the owner's deletion stands");
  assertEquals(ds.read(`${OWNER}/${INBOX}/f.txt`), null);
});

Deno.test("an owner that lost state/ after a peer removed it right behind a proposal keeps its own later edit, and the peer learns of it once they peer again", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  ds.write(`${OWNER}/${INBOX}/f.txt`, "job file");
  await ds.sync(); // the proposal
  await ds.service.removePeer(OWNER);
  await ds.sync(); // the remove, right behind it: the owner never acks or echoes the proposal
  await owner.sync(); // applies f.txt, then acts on the remove
  assertEquals(owner.read(`${OWNER}/${INBOX}/f.txt`), "job file");
  owner.remove(`${OWNER}/${INBOX}/f.txt`);
  loseState(world, OWNER);
  await peerAgain(ds, owner);
  await world.settle();
  assertEquals(owner.read(`${OWNER}/${INBOX}/f.txt`), null, "the owner's deletion stands");
  assertEquals(ds.read(`${OWNER}/${INBOX}/f.txt`), null, "and reaches the peer's mirror");
});
