/**
 * Checkpoints through the real CLI (issue 5): a peer that lost its state (and
 * its mirror) restores from the owner's checkpoints to the same tree with its
 * peer relationships intact; a checkpoint that fails verification is refused
 * and answered by a fresh one; a gap waits, then asks, never skips; a channel
 * rolled back below the reader's cursor is reported, not restored.
 * @module
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { homeLayout } from "../../core/config/home.ts";
import { filesUnder, peered, peerUp, put, setSyncSettings, type Site, world } from "./_rig.ts";
import { live } from "./_live.ts";
import { pair, submit } from "../security/_jobs.ts";

/** The readable tree of a folder: path → content, permission files aside. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await filesUnder(dir)) {
    if (!f.endsWith("syft.pub.yaml")) out[f] = await Deno.readTextFile(posix.join(dir, f));
  }
  return out;
}

function channelDir(shared: string, from: Site, to: Site): string {
  return posix.join(shared, `syft1#${from.email}#${to.email}`);
}

async function objects(shared: string, from: Site, to: Site): Promise<string[]> {
  return (await filesUnder(channelDir(shared, from, to))).filter((f) => f.endsWith(".syft"));
}

async function peerState(site: Site, peer: Site): Promise<string> {
  const list = JSON.parse((await site.ok(["peer", "list", "--json"])).stdout);
  const rows: { email: string; state: string }[] = Array.isArray(list) ? list : list.peers;
  return rows.find((r) => r.email === peer.email)?.state ?? "none";
}

/** An owner with small thresholds and a history: checkpoints, a compaction, edits, deletions. */
async function history(): Promise<{ shared: string; owner: Site; ds: Site }> {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  await setSyncSettings(owner, { checkpoint_threshold: 5, compact_threshold: 2 });
  for (let i = 0; i < 8; i++) await put(owner.datasite, `public/early/e${i}.txt`, `early ${i}`);
  await peerUp(ds, owner);
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 4; i++) {
      await put(owner.datasite, `public/r${round}/f${i}.txt`, `round ${round} file ${i}`);
    }
    await put(owner.datasite, "public/early/e0.txt", `edited in round ${round}`);
    if (round === 3) await Deno.remove(posix.join(owner.datasite, "public/early/e1.txt"));
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
  }
  await put(ds.datasite, "public/ds-notes.txt", "from ds");
  await ds.ok(["sync"]);
  await owner.ok(["sync"]);
  return { shared: w.shared, owner, ds };
}

Deno.test("bootstrap: a peer whose state/ and mirror are deleted restores from the checkpoints to the same tree, relationships intact", async () => {
  const { shared, owner, ds } = await history();
  const names = await objects(shared, owner, ds);
  assert(names.some((n) => n.startsWith("ci-")), `no ci written: ${names}`);
  assert(names.filter((n) => n.startsWith("cf-")).length >= 1, `no cf: ${names}`);
  const before = await tree(ds.mirror(owner));
  assertEquals(before, await tree(owner.datasite));

  await Deno.remove(homeLayout(ds.home).state, { recursive: true });
  await Deno.remove(ds.mirror(owner), { recursive: true });
  // Behind the oldest object too: every batch but the newest is gone (as a
  // collection would have removed them), so only the checkpoints hold the tree.
  const batches = names.filter((n) => n.startsWith("b-")).sort();
  for (const n of [...batches.slice(0, -1), "cf-0000000000000000.syft"]) {
    await Deno.remove(posix.join(channelDir(shared, owner, ds), n));
  }
  const r = await ds.ok(["sync"]);
  assertEquals(await tree(ds.mirror(owner)), await tree(owner.datasite), r.stderr);
  assertEquals(await peerState(ds, owner), "accepted");
  assertEquals(await peerState(owner, ds), "accepted");

  // Both directions still work.
  await put(owner.datasite, "public/after.txt", "after the restore");
  await put(ds.datasite, "public/ds-after.txt", "ds after the restore");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  await owner.ok(["sync"]);
  assertEquals(
    await Deno.readTextFile(posix.join(ds.mirror(owner), "public/after.txt")),
    "after the restore",
  );
  assertEquals(
    await Deno.readTextFile(posix.join(owner.mirror(ds), "public/ds-after.txt")),
    "ds after the restore",
  );
});

Deno.test("bootstrap: state/ deleted but the mirror kept: restores without a false local edit or proposal", async () => {
  const { owner, ds } = await history();
  const mirror = await tree(ds.mirror(owner));
  await Deno.remove(homeLayout(ds.home).state, { recursive: true });
  const r = JSON.parse((await ds.ok(["sync", "--json"])).stdout);
  assertEquals(r.proposed, 0, "nothing in the mirror is proposed back");
  assertEquals(r.conflicts, 0);
  const o = JSON.parse((await owner.ok(["sync", "--json"])).stdout);
  assertEquals(o.rejected, 0);
  const after = await filesUnder(ds.mirror(owner));
  assertEquals(after.filter((f) => /\.(conflict|rejected)\./.test(f)), []);
  assertEquals(await tree(ds.mirror(owner)), mirror);
});

Deno.test("identical content is never a conflict: state/ lost, mirror kept, a restore that replays older versions leaves no .conflict copy", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  // Default thresholds: no checkpoint past cf-0, so the restore replays every batch.
  for (let i = 0; i < 3; i++) await put(owner.datasite, `public/e${i}.txt`, `early ${i}`);
  await peerUp(ds, owner);
  for (let round = 0; round < 3; round++) {
    await put(owner.datasite, "public/e0.txt", `edited in round ${round}`);
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
  }
  const mirror = await tree(ds.mirror(owner));
  await Deno.remove(homeLayout(ds.home).state, { recursive: true });
  const r = JSON.parse((await ds.ok(["sync", "--json"])).stdout);
  assertEquals(r.conflicts, 0, "the disk's newer version is what the owner publishes later");
  const after = await filesUnder(ds.mirror(owner));
  assertEquals(after.filter((f) => /\.(conflict|rejected)\./.test(f)), []);
  assertEquals(await tree(ds.mirror(owner)), mirror);
  await Deno.remove(w.base, { recursive: true });
});

Deno.test("an owner that lost state/ does not judge its peer's old proposals again: a received job's files are not rejected", async () => {
  const { w, alice, carol, done } = await pair();
  try {
    const id = await submit(carol, posix.join(w.base, "job1"), "echo hi\n");
    await carol.ok(["sync"]);
    await alice.ok(["sync"]);
    // Approved, the job's folder is no longer writable by its submitter.
    await alice.ok(["job", "approve", id]);
    await alice.ok(["sync"]);
    await carol.ok(["sync"]);
    await alice.ok(["sync"]);
    await Deno.remove(homeLayout(alice.home).state, { recursive: true });
    const r = await alice.ok(["sync", "--json"]);
    const summary = JSON.parse(r.stdout);
    assertEquals(summary.rejected, 0, r.stdout);
    assertEquals(summary.rejections, []);
    await carol.ok(["sync"]);
    const copies = (await filesUnder(carol.root)).filter((f) => /\.(rejected|conflict)\./.test(f));
    assertEquals(copies, []);
  } finally {
    await done();
  }
});

Deno.test("a new peer's first sync comes from cf-0; a cf-0 that fails verification is quarantined and answered by a fresh cf", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  for (let i = 0; i < 5; i++) await put(owner.datasite, `public/p${i}.txt`, `projection ${i}`);
  await ds.ok(["peer", "add", owner.email]);
  const fp = JSON.parse((await ds.ok(["status", "--json"])).stdout).fingerprint;
  await owner.ok(["peer", "list"]);
  await owner.ok(["peer", "approve", ds.email, "--fingerprint", fp]);
  await owner.ok(["sync"]);
  const names = await objects(w.shared, owner, ds);
  assertEquals(names.filter((n) => n.startsWith("cf-")), ["cf-0000000000000000.syft"]);

  // Someone with write access to the shared folder damages it before ds reads it.
  const cf0 = posix.join(channelDir(w.shared, owner, ds), "cf-0000000000000000.syft");
  const bytes = await Deno.readFile(cf0);
  bytes[bytes.length - 5]! ^= 0xff;
  await Deno.chmod(cf0, 0o644).catch(() => {});
  await Deno.remove(cf0);
  await Deno.writeFile(cf0, bytes);

  const first = await ds.ok(["sync"]);
  assertMatch(first.stderr, /quarantined cf-0000000000000000\.syft/);
  const status = JSON.parse((await ds.ok(["status", "--json"])).stdout);
  assert(
    status.quarantined.some((q: { object: string }) =>
      q.object.endsWith("cf-0000000000000000.syft")
    ),
    JSON.stringify(status.quarantined),
  );
  assertEquals(await tree(ds.mirror(owner)), {}, "nothing from the refused checkpoint applied");
  assertEquals(await peerState(ds, owner), "accepted", "b-1's peer.accept was still read");

  await owner.ok(["sync"]); // reads the resync, answers with a fresh cf
  await ds.ok(["sync"]);
  assertEquals(await tree(ds.mirror(owner)), await tree(owner.datasite));
});

Deno.test("a gap in seq: the reader waits (never skips), asks for a resync after the timeout, and converges", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  await setSyncSettings(ds, { gap_timeout_seconds: 1 });
  await peerUp(ds, owner);
  await put(owner.datasite, "public/a.txt", "a");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  await put(owner.datasite, "public/b.txt", "b");
  await owner.ok(["sync"]);
  const hidden = (await objects(w.shared, owner, ds)).filter((n) => n.startsWith("b-")).pop()!;
  await put(owner.datasite, "public/c.txt", "c");
  await owner.ok(["sync"]);
  const dir = channelDir(w.shared, owner, ds);
  await Deno.rename(posix.join(dir, hidden), posix.join(w.shared, "hidden-batch"));

  const waiting = await ds.ok(["sync"]);
  assertMatch(waiting.stderr, /waiting for a missing batch from owner@hospital\.org/);
  const mirror = await filesUnder(ds.mirror(owner));
  assert(!mirror.includes("public/c.txt"), "the batch after the gap must not be applied");
  const status = JSON.parse((await ds.ok(["status", "--json"])).stdout);
  assert(
    status.problems.some((p: string) => /waiting since .* from owner@hospital\.org/.test(p)),
    JSON.stringify(status.problems),
  );
  await new Promise((r) => setTimeout(r, 1200));
  await ds.ok(["sync"]); // past the timeout: asks for a resync
  await owner.ok(["sync"]); // answers with a fresh cf
  await ds.ok(["sync"]);
  assertEquals(await tree(ds.mirror(owner)), await tree(owner.datasite));
});

Deno.test("a channel rolled back below the reader's cursor is reported, not restored", async () => {
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  await put(owner.datasite, "public/one.txt", "one");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  const dir = channelDir(w.shared, owner, ds);
  const snapshot = posix.join(w.base, "snapshot");
  await Deno.mkdir(snapshot);
  for (const f of await filesUnder(dir)) {
    await Deno.copyFile(posix.join(dir, f), posix.join(snapshot, f));
  }
  await put(owner.datasite, "public/two.txt", "two");
  await Deno.remove(posix.join(owner.datasite, "public/one.txt"));
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  const current = await tree(ds.mirror(owner));
  // The shared folder is put back as it was before the second sync.
  await Deno.remove(dir, { recursive: true });
  await Deno.rename(snapshot, dir);
  const r = await ds.ok(["sync"]);
  assertMatch(r.stderr, /rolled back/);
  assertEquals(await tree(ds.mirror(owner)), current, "nothing restored from the older state");
  const status = JSON.parse((await ds.ok(["status", "--json"])).stdout);
  assert(
    status.problems.some((p: string) => /owner@hospital\.org's channel was rolled back/.test(p)),
    JSON.stringify(status.problems),
  );
});

Deno.test("a restore reports its progress in bytes of each checkpoint, to the end", async () => {
  const { owner, ds } = await history();
  await Deno.remove(homeLayout(ds.home).state, { recursive: true });
  const d = await live(ds);
  const seen: [string, number, number][] = [];
  d.sync.progress = (label, done, total) => seen.push([label, done, total]);
  try {
    await d.round();
  } finally {
    await d.close();
  }
  const labels = [...new Set(seen.map(([l]) => l))];
  assert(
    labels.some((l) => new RegExp(`^restoring ${owner.email} from cf-\\d{16}\\.syft$`).test(l)),
    JSON.stringify(labels),
  );
  for (const label of labels) {
    const points = seen.filter(([l]) => l === label);
    const last = points[points.length - 1]!;
    assertEquals(last[1], last[2], `${label} reached its total`);
    assert(points.every(([, d], i) => i === 0 || d >= points[i - 1]![1]), "never goes back");
  }
});
