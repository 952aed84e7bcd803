/**
 * Issue 12 item 7: a peer that proposes hundreds of files where it may not
 * write gets them rejected; the owner tells it so and publishes deletions of
 * its mirror copies. Those deletions are not the owner's: they must not trip
 * the mass-delete stop, and nothing one peer does may stop the owner's round
 * for the others.
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { filesUnder, peerUp, put, worldTemplate } from "../e2e/_rig.ts";

const [OWNER, HONEST, HOSTILE] = ["owner@hospital.org", "honest@lab.org", "hostile@evil.org"];

/** The owner with two accepted peers, made once and copied for each case. */
const threePeers = worldTemplate(async (w) => {
  const owner = await w.site(OWNER);
  await peerUp(await w.site(HONEST), owner);
  await peerUp(await w.site(HOSTILE), owner);
});

Deno.test("no peer can stall the owner: 300 refused proposals into the owner's public/ leave every owner sync green and the honest peer served", async () => {
  const w = await threePeers();
  try {
    const [owner, honest, hostile] = [w.open(OWNER), w.open(HONEST), w.open(HOSTILE)];
    await put(owner.datasite, "public/readme.txt", "hello");
    await owner.ok(["sync"]);
    await honest.ok(["sync"]);
    await hostile.ok(["sync"]);

    // public/ is readable by everyone, writable by the owner alone.
    const spam = posix.join(hostile.mirror(owner), "public/spam");
    for (let i = 0; i < 300; i++) await put(spam, `f${String(i).padStart(3, "0")}.txt`, `x${i}`);
    await hostile.ok(["sync"]);

    // The owner judges them (all rejected) and goes on publishing.
    const judged = JSON.parse((await owner.ok(["sync", "--json"])).stdout);
    assertEquals(judged.rejected, 300, JSON.stringify(judged));
    assertEquals(judged.failures, [], JSON.stringify(judged));
    await put(owner.datasite, "public/news.txt", "fresh");
    const next = await owner.ok(["sync"]);
    assert(!/mass|would delete/.test(next.stderr), next.stderr);

    await honest.ok(["sync"]);
    assertEquals(
      await Deno.readTextFile(posix.join(honest.mirror(owner), "public/news.txt")),
      "fresh",
    );
    assertEquals(await filesUnder(posix.join(honest.mirror(owner), "public/spam")), []);
    // The hostile peer gets its answer: none of its files stay in its mirror as the owner's.
    await hostile.ok(["sync"]);
    const left = (await filesUnder(spam)).filter((f) => !/\.rejected\.\d+/.test(f));
    assertEquals(left, []);
    // No channel is in trouble (the owner's own mass deletes stay guarded: identity_test).
    const status = JSON.parse((await owner.ok(["status", "--json"])).stdout);
    assertEquals(status.peer_problems, []);
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});

Deno.test("no peer can stall the owner: a peer deleting the many files it wrote itself does not trip the owner's mass-delete stop", async () => {
  const w = await threePeers();
  try {
    const [owner, honest, hostile] = [w.open(OWNER), w.open(HONEST), w.open(HOSTILE)];
    await Deno.mkdir(posix.join(owner.datasite, "dropbox"));
    await owner.ok(["perm", "grant", "dropbox/", hostile.email, "--write"]);
    await owner.ok(["sync"]);
    await hostile.ok(["sync"]);

    const drop = posix.join(hostile.mirror(owner), "dropbox");
    for (let i = 0; i < 40; i++) await put(drop, `f${i}.txt`, `x${i}`);
    await hostile.ok(["sync"]);
    const accepted = JSON.parse((await owner.ok(["sync", "--json"])).stdout);
    assertEquals(accepted.rejected, 0, JSON.stringify(accepted));
    const dropped = async () =>
      (await filesUnder(posix.join(owner.datasite, "dropbox"))).filter((f) => f.endsWith(".txt"));
    assertEquals((await dropped()).length, 40);
    await hostile.ok(["sync"]); // the owner's version of them comes back

    // Its own files, deleted by it: not the owner's mass delete.
    for (let i = 0; i < 40; i++) await Deno.remove(posix.join(drop, `f${i}.txt`));
    await hostile.ok(["sync"]);
    await put(owner.datasite, "public/news.txt", "fresh");
    const r = await owner.syft(["sync"]);
    assertEquals(r.code, 0, `the owner's round must go through:\n${r.stderr}`);
    assertEquals(await dropped(), []);
    await honest.ok(["sync"]);
    assertEquals(
      await Deno.readTextFile(posix.join(honest.mirror(owner), "public/news.txt")),
      "fresh",
    );
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});
