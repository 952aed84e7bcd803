import { posix } from "node:path";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { filesUnder, peered, peerUp, put, world } from "./_rig.ts";
import { homeLayout } from "../../core/config/home.ts";
import { sha256Hex } from "../../core/crypto/hash.ts";
import { loadChannelState, stateLayout } from "../../core/sync/state.ts";

Deno.test("owner's 100 public files reach the peer exactly, private/ never does, nothing travels in plaintext", async () => {
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  const secret = "patient-id-4242-very-secret";
  await put(owner.datasite, "private/records.csv", secret);
  for (let i = 0; i < 100; i++) {
    await put(owner.datasite, `public/data/f${String(i).padStart(3, "0")}.txt`, `public row ${i}`);
  }
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);

  const mirrored = await filesUnder(ds.mirror(owner));
  const expected = Array.from(
    { length: 100 },
    (_, i) => `public/data/f${String(i).padStart(3, "0")}.txt`,
  );
  assertEquals(mirrored, expected, "exactly the readable files (permission files need admin)");
  assertEquals(
    await Deno.readTextFile(posix.join(ds.mirror(owner), "public/data/f042.txt")),
    "public row 42",
  );

  for (const f of await filesUnder(w.shared)) {
    const bytes = await Deno.readFile(posix.join(w.shared, f));
    const text = new TextDecoder("latin1").decode(bytes);
    assert(!text.includes(secret), `${f} holds private data`);
    assert(!text.includes("public row"), `${f} holds plaintext content`);
  }
});

Deno.test("a grant and a revoke of one file are followed by the peer's mirror", async () => {
  const { owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  await put(owner.datasite, "reports/q1.csv", "a,b\n1,2\n");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  assertEquals(await filesUnder(posix.join(ds.mirror(owner), "reports")), []);

  await owner.ok(["perm", "grant", "reports/q1.csv", ds.email, "--read"]);
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  assertEquals(await filesUnder(posix.join(ds.mirror(owner), "reports")), ["q1.csv"]);

  await owner.ok(["perm", "revoke", "reports/q1.csv", ds.email]);
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  assertEquals(
    await filesUnder(posix.join(ds.mirror(owner), "reports")),
    [],
    "revocation deletes the mirror copy",
  );
});

Deno.test("a permitted proposal is applied; proposals into private/ and a read-only folder are refused with .rejected copies named by UTC time, each refusal said with its reason at the next sync and listed by status until its copy is deleted", async () => {
  const { owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  await put(owner.datasite, "public/readme.txt", "owner's version");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);

  const mirror = ds.mirror(owner);
  await put(mirror, `app_data/job/inbox/${ds.email}/job1/run.sh`, "echo hello\n");
  await put(mirror, "public/readme.txt", "ds was here");
  await put(mirror, "private/steal.txt", "x");
  const sent = await ds.ok(["sync"]);
  assertMatch(sent.stderr, /private\/ is never writable by peers/);
  const judged = await owner.ok(["sync"]);
  // The owner says what it refused and why, one line each.
  assertMatch(
    judged.stdout,
    /^rejected: public\/readme\.txt from ds@lab\.org: you may not write public\/$/m,
  );
  const told = await ds.ok(["sync"]);
  assertMatch(
    told.stdout,
    /^refused: public\/readme\.txt by owner@hospital\.org: you may not write public\/$/m,
  );

  assertEquals(
    await Deno.readTextFile(
      posix.join(owner.datasite, `app_data/job/inbox/${ds.email}/job1/run.sh`),
    ),
    "echo hello\n",
  );
  assertEquals(
    await Deno.readTextFile(posix.join(owner.datasite, "public/readme.txt")),
    "owner's version",
  );
  assertEquals(
    await Deno.readTextFile(posix.join(mirror, "public/readme.txt")),
    "owner's version",
    "mirror back at the owner's version",
  );
  const files = await filesUnder(mirror);
  const copy = files.find((f) => /^public\/readme\.txt\.rejected\.\d{8}T\d{6}Z$/.test(f));
  assert(copy, files.join(", "));
  assert(
    files.some((f) => /^private\/steal\.txt\.rejected\.\d{8}T\d{6}Z$/.test(f)),
    files.join(", "),
  );
  assertEquals(await filesUnder(posix.join(owner.datasite, "private")), ["syft.pub.yaml"]);

  // Status lists each refusal while its copy exists (people and scripts).
  const human = await ds.ok(["status"]);
  assertMatch(
    human.stdout,
    /refused: public\/readme\.txt by owner@hospital\.org: you may not write public\/ \(kept as /,
  );
  const listed = JSON.parse((await ds.ok(["status", "--json"])).stdout).refused;
  const readme = listed.find((r: { path: string }) => r.path === "public/readme.txt");
  assertEquals(readme.peer, owner.email);
  assertEquals(readme.reason, "permission");
  assertEquals(readme.detail, "you may not write public/");
  assertEquals(readme.copy, `${owner.email}/${copy}`);
  assertMatch(readme.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert(listed.some((r: { path: string }) => r.path === "private/steal.txt"), listed);
  // Dealt with: the copy deleted, the refusal is no longer listed.
  await Deno.remove(posix.join(mirror, copy));
  await ds.ok(["sync"]);
  const left = JSON.parse((await ds.ok(["status", "--json"])).stdout).refused;
  assertEquals(left.map((r: { path: string }) => r.path), ["private/steal.txt"]);
});

Deno.test("deletions travel both ways: owner deletes, mirror follows; an accepted proposal can delete", async () => {
  const { owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  await put(owner.datasite, "public/a.txt", "a");
  await put(owner.datasite, "public/b.txt", "b");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  await Deno.remove(posix.join(owner.datasite, "public/a.txt"));
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  assertEquals(await filesUnder(posix.join(ds.mirror(owner), "public")), ["b.txt"]);

  await put(ds.mirror(owner), `app_data/job/inbox/${ds.email}/j/run.sh`, "x");
  await ds.ok(["sync"]);
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  await Deno.remove(posix.join(ds.mirror(owner), `app_data/job/inbox/${ds.email}/j/run.sh`));
  await ds.ok(["sync"]);
  await owner.ok(["sync"]);
  assertEquals(await filesUnder(posix.join(owner.datasite, `app_data/job/inbox/${ds.email}`)), [
    "syft.pub.yaml",
  ]);
});

Deno.test("a deleted mirror proposes no deletions", async () => {
  const { owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  await owner.ok(["perm", "grant", "shared/", ds.email, "--write"]);
  await put(owner.datasite, "shared/keep.txt", "keep");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  await Deno.remove(ds.mirror(owner), { recursive: true });
  const r = JSON.parse((await ds.ok(["sync", "--json"])).stdout);
  assertEquals(r.proposed, 0);
  await owner.ok(["sync"]);
  assertEquals(await Deno.readTextFile(posix.join(owner.datasite, "shared/keep.txt")), "keep");
});

Deno.test("three identities: each peer sees only what it may read", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const a = await w.site("a@lab.org");
  const b = await w.site("b@uni.org");
  await peerUp(a, owner);
  await peerUp(b, owner);
  await put(owner.datasite, "public/all.txt", "all");
  await put(owner.datasite, "for-a/a.txt", "only a");
  await owner.ok(["perm", "grant", "for-a/", a.email, "--read"]);
  await owner.ok(["sync"]);
  await a.ok(["sync"]);
  await b.ok(["sync"]);
  assertEquals(await filesUnder(a.mirror(owner)), ["for-a/a.txt", "public/all.txt"]);
  assertEquals(await filesUnder(b.mirror(owner)), ["public/all.txt"]);
});

Deno.test("two mirror files with the same content are separate files: editing one in place leaves the other", async () => {
  const { owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  for (const name of ["a", "b", "c"]) await put(owner.datasite, `public/same/${name}.txt`, "same");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  const dir = posix.join(ds.mirror(owner), "public/same");
  const inodes = await Promise.all(
    ["a", "b", "c"].map(async (n) => (await Deno.lstat(posix.join(dir, `${n}.txt`))).ino),
  );
  assertEquals(new Set(inodes).size, 3, "one inode per file");
  // An in-place write (same inode), as many editors and tools do.
  const file = await Deno.open(posix.join(dir, "a.txt"), { write: true, truncate: true });
  await file.write(new TextEncoder().encode("edited a"));
  file.close();
  assertEquals(await Deno.readTextFile(posix.join(dir, "b.txt")), "same");
  assertEquals(await Deno.readTextFile(posix.join(dir, "c.txt")), "same");
});

Deno.test("a round killed after it journaled a batch: the next sync finishes it and counts it (received, resumed), not 0", async () => {
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  try {
    await put(owner.datasite, "public/late.txt", "late");
    await owner.ok(["sync"]);
    // What the ds's round had journaled for the owner's newest batch when it was
    // killed: the entry is on disk, its op not yet carried out.
    const state = homeLayout(ds.home).state;
    const before = await loadChannelState(stateLayout(state), owner.email);
    const channel = posix.join(w.shared, `syft1#${owner.email}#${ds.email}`);
    const seq = Math.max(
      ...(await filesUnder(channel)).filter((f) => f.startsWith("b-")).map((f) =>
        Number(f.slice(2, 18))
      ),
    );
    assert(seq > before.cursor, `no new batch for the ds (cursor ${before.cursor}, newest ${seq})`);
    const bytes = new TextEncoder().encode("late");
    const hash = sha256Hex(bytes);
    const staging = posix.join(ds.root, ".syft-tmp", "killed-round");
    await Deno.mkdir(staging, { recursive: true });
    await Deno.writeFile(posix.join(staging, hash), bytes);
    const mirror = ds.mirror(owner);
    const entry = {
      peer: owner.email,
      seq,
      ops: [{
        op: "write",
        root: mirror,
        rel: "public/late.txt",
        staged: posix.join(staging, hash),
        hash,
        mode: "file",
      }],
      after: {
        ...before,
        cursor: seq,
        ack_needed: true,
        mirror: {
          ...before.mirror,
          "public/late.txt": { hash, size: bytes.length, mtime: 0, mode: "file" },
        },
      },
      staging,
      mirror,
    };
    await Deno.mkdir(posix.join(state, "journal"), { recursive: true });
    await Deno.writeTextFile(
      posix.join(state, "journal", `${owner.email}.json`),
      JSON.stringify(entry),
    );

    const r = JSON.parse((await ds.ok(["sync", "--json"])).stdout);
    assertEquals(r.resumed, 1);
    assert(r.received >= 1, `received ${r.received}`);
    assertEquals(await Deno.readTextFile(posix.join(mirror, "public/late.txt")), "late");
    assertEquals(await filesUnder(posix.join(state, "journal")), []);
  } finally {
    await Deno.remove(w.base, { recursive: true }).catch(() => {});
  }
});
