/**
 * A world built once can be forked for many runs (the simulation's shared
 * set-up): a forked file system holds the same tree and rolls back to the
 * same fsync, a cloned storage the same objects, and neither copy sees what
 * the other does afterwards.
 */
import { assert, assertEquals } from "../../assert.ts";
import { ManualClock } from "../../../core/testing/manual_clock.ts";
import { MemoryFs } from "../../../core/testing/memory_fs.ts";
import { MemoryStorage } from "../../../core/testing/memory_transport.ts";
import { MemoryWorld } from "../../../core/testing/world.ts";
import { poolKeys } from "../../sim/keys.ts";

const text = (s: string) => new TextEncoder().encode(s);
const read = (fs: MemoryFs, path: string) => new TextDecoder().decode(fs.readFileSync(path));

Deno.test("a forked file system keeps the tree and the last fsync, then goes its own way", () => {
  const clock = new ManualClock();
  const fs = new MemoryFs(clock);
  fs.mkdirSync("/d", { recursive: true });
  fs.writeFileSync("/d/kept", text("synced"));
  fs.markDurable();
  fs.writeFileSync("/d/kept", text("not synced"));
  fs.writeFileSync("/d/new", text("not synced either"));
  const later = new ManualClock(clock.now() + 600_000);
  const copy = fs.fork(later);
  assertEquals(read(copy, "/d/kept"), "not synced");
  assertEquals(copy.lstatSync("/d/kept").ino, fs.lstatSync("/d/kept").ino);
  assertEquals(copy.syncs, fs.syncs);
  // Each copy's writes stay its own, stamped by its own clock, with inodes neither used.
  copy.writeFileSync("/d/only-copy", text("c"));
  fs.writeFileSync("/d/only-original", text("o"));
  assert(!fs.existsSync("/d/only-copy") && !copy.existsSync("/d/only-original"));
  assertEquals(copy.lstatSync("/d/only-copy").mtime?.getTime(), later.now());
  assert(copy.lstatSync("/d/only-copy").ino! > fs.lstatSync("/d/new").ino!);
  // A crash of the copy loses what the original had not fsynced, and nothing of the original.
  copy.crash();
  assertEquals(read(copy, "/d/kept"), "synced");
  assert(!copy.existsSync("/d/new") && !copy.existsSync("/d/only-copy"));
  assertEquals(read(fs, "/d/kept"), "not synced");
  assert(fs.existsSync("/d/new"));
});

Deno.test("a cloned storage holds the same objects and pools, and changes apart", () => {
  const storage = new MemoryStorage();
  storage.timerTurns = false;
  const ref = { sender: "a@x.org", recipient: "b@x.org" };
  const a = storage.transport("a@x.org");
  return (async () => {
    await a.openChannel("b@x.org");
    await a.put(ref, "b-1.syft", text("one"));
    await a.poolPut("p-1", text("pooled"), ["b@x.org"]);
    const copy = storage.clone();
    assertEquals(copy.names(ref), ["b-1.syft"]);
    assertEquals(copy.poolReaders("a@x.org", "p-1"), ["b@x.org"]);
    assertEquals(copy.version, storage.version);
    await copy.transport("a@x.org").put(ref, "b-2.syft", text("two"));
    await copy.transport("a@x.org").poolAddReaders("p-1", ["c@x.org"]);
    assertEquals(storage.names(ref), ["b-1.syft"]);
    assertEquals(storage.poolReaders("a@x.org", "p-1"), ["b@x.org"]);
    assertEquals(copy.names(ref), ["b-1.syft", "b-2.syft"]);
  })();
});

Deno.test("sites of a forked world sync from where the original stood, the original untouched", async () => {
  const world = new MemoryWorld({ fsPerSite: true });
  const alice = await world.site("alice@x.org", { keys: await poolKeys(0) });
  const bob = await world.site("bob@x.org", { keys: await poolKeys(1) });
  await world.connect(alice, bob);
  const fork = world.fork([0, -300_000]);
  const [a2, b2] = fork.sites;
  assertEquals(b2!.clock.now(), fork.clock.now() - 300_000);
  a2!.writeOwn("public/hello.txt", "hi");
  await fork.settle();
  assertEquals(b2!.read("alice@x.org/public/hello.txt"), "hi");
  assertEquals(bob.read("alice@x.org/public/hello.txt"), null);
  await world.settle();
  assertEquals(bob.read("alice@x.org/public/hello.txt"), null);
});
