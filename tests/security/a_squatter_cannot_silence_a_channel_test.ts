/**
 * Issue 12 item 9: anyone who can write the shared folder can create an entry
 * (a dangling symlink, a folder) at the name the owner must write next in its
 * channel to a peer. A create-only put then finds its name taken: that must be
 * said (a failed `syft sync` naming the peer, a problem in `syft status`),
 * never a channel that goes quiet, and it must not touch the other peers.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { peerUp, put, type Site, world } from "../e2e/_rig.ts";

/** The next batch name the owner writes in its channel to `peer`. */
async function nextBatchPath(shared: string, owner: Site, peer: Site): Promise<string> {
  const dir = posix.join(shared, `syft1#${owner.email}#${peer.email}`);
  let top = 0;
  for await (const e of Deno.readDir(dir)) {
    const m = /^b-(\d{16})\.syft$/.exec(e.name);
    if (m) top = Math.max(top, Number(m[1]));
  }
  return posix.join(dir, `b-${String(top + 1).padStart(16, "0")}.syft`);
}

async function squatterCase(squat: (path: string) => Promise<void>): Promise<void> {
  const w = await world();
  try {
    const owner = await w.site("owner@hospital.org");
    const victim = await w.site("victim@lab.org");
    const other = await w.site("other@lab.org");
    await peerUp(victim, owner);
    await peerUp(other, owner);
    await put(owner.datasite, "public/first.txt", "first");
    await owner.ok(["sync"]);
    await victim.ok(["sync"]);
    await other.ok(["sync"]);

    await squat(await nextBatchPath(w.shared, owner, victim));
    await put(owner.datasite, "public/second.txt", "second");
    const r = await owner.syft(["sync"]);
    assert(r.code !== 0, `a squatted channel must fail the sync:\n${r.stdout}\n${r.stderr}`);
    assertMatch(r.stderr, /victim@lab\.org/);
    assertMatch(r.stderr, /b-\d{16}\.syft/);
    assert(!/other@lab\.org/.test(r.stderr), `the other peer is not in trouble:\n${r.stderr}`);

    // The other peer got the new file; the victim's reading side is not stalled.
    await other.ok(["sync"]);
    assertEquals(
      await Deno.readTextFile(posix.join(other.mirror(owner), "public/second.txt")),
      "second",
    );
    await victim.ok(["sync"]);

    const status = JSON.parse((await owner.ok(["status", "--json"])).stdout);
    const mine = status.peer_problems.filter((p: { peer: string }) => p.peer === victim.email);
    assertEquals(mine.length, 1, JSON.stringify(status));
    assertMatch(mine[0].problem, /b-\d{16}\.syft/);
    assert(
      status.problems.some((p: string) => p.includes(victim.email) && /b-\d{16}\.syft/.test(p)),
      JSON.stringify(status.problems),
    );
    assert(
      !status.peer_problems.some((p: { peer: string }) => p.peer === other.email),
      JSON.stringify(status.peer_problems),
    );
    // The human status says it too.
    assertMatch((await owner.ok(["status"])).stdout, /publishing to victim@lab\.org/);

    // Still failing while the squatter is there: never a quiet channel.
    const again = await owner.syft(["sync"]);
    assert(again.code !== 0, `still squatted:\n${again.stderr}`);
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
}

Deno.test("a squatter cannot silence a channel: a dangling symlink at the next batch name fails that peer's sync loudly and leaves the others alone", async () => {
  await squatterCase((path) => Deno.symlink("/nonexistent/nowhere", path));
});

Deno.test("a squatter cannot silence a channel: a folder at the next batch name fails that peer's sync loudly and leaves the others alone", async () => {
  await squatterCase((path) => Deno.mkdir(path));
});
