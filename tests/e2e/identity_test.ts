/**
 * Identity and hostile-input tests at the sync level (issue 4, item 9 and
 * "Hostile input"), driven through the real CLI with objects tampered with
 * directly in the shared `local:` folder between syncs. Each refused object
 * must be quarantined (listed by `syft status --json`, printed by `syft status`
 * with the word "quarantined", the object and the reason), nothing from it may
 * reach a mirror, and the reader keeps going: a later good batch still applies.
 *
 * The end of the file also holds two round guards of docs/protocol.md §5–§6 that
 * need the same forging helpers: the mass-delete stop, and proposals sent
 * before approval processed after it, in order.
 * @module
 */
import { posix } from "node:path";
import { createTarPacker } from "modern-tar";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { filesUnder, peered, peerUp, put, type Site, world } from "./_rig.ts";
import { readKeys } from "../../core/config/keystore.ts";
import { homeLayout } from "../../core/config/home.ts";
import { sha256Hex } from "../../core/crypto/hash.ts";
import { sealEnvelope } from "../../core/events/envelope.ts";
import { packBody } from "../../core/events/body.ts";
import { batchName } from "../../core/events/types.ts";
import { createHello } from "../../core/peers/hello.ts";
import { fingerprint, generateIdentityKeys, publicKeys } from "../../core/identity/keys.ts";
import { loadChannelState, saveChannelState, stateLayout } from "../../core/sync/state.ts";

const enc = new TextEncoder();

// ---------------------------------------------------------------------------
// Helpers: channels, forging, status.

function channelDir(shared: string, sender: string, recipient: string): string {
  return posix.join(shared, `syft1#${sender}#${recipient}`);
}

/** `syft1#<sender>#<recipient>/<name>`, as quarantine records name objects. */
function objectId(sender: Site | string, recipient: Site, name: string): string {
  const s = typeof sender === "string" ? sender : sender.email;
  return `syft1#${s}#${recipient.email}/${name}`;
}

/** Batch names in a channel folder, sorted. */
async function batches(shared: string, sender: string, recipient: string): Promise<string[]> {
  return (await filesUnder(channelDir(shared, sender, recipient)))
    .filter((f) => /^b-\d{16}\.syft$/.test(f));
}

/** The seq the next batch of `sender` → `recipient` will carry. */
async function nextSeq(shared: string, sender: Site, recipient: Site): Promise<number> {
  const listed = await batches(shared, sender.email, recipient.email);
  const state = await loadChannelState(
    stateLayout(homeLayout(sender.home).state),
    recipient.email,
  );
  const top = listed.length ? Number(listed[listed.length - 1]!.slice(2, 18)) : 0;
  return Math.max(top, state.next_seq - 1) + 1;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A publication or proposal event with sane defaults. */
function event(fields: Record<string, unknown>): Record<string, unknown> {
  const now = Date.now();
  return {
    id: crypto.randomUUID(),
    old_hash: null,
    new_hash: null,
    size: 0,
    deleted: false,
    mode: "file",
    submitted_at: now,
    ts: now,
    content: "inline",
    ...fields,
  };
}

/** An inline file event plus its content entry. */
function fileEvent(
  datasite: string,
  path: string,
  text: string,
  extra: Record<string, unknown> = {},
): { event: Record<string, unknown>; content: { hash: string; bytes: Uint8Array } } {
  const bytes = enc.encode(text);
  const hash = sha256Hex(bytes);
  return {
    event: event({ datasite, path, new_hash: hash, size: bytes.length, ...extra }),
    content: { hash, bytes },
  };
}

/** A well-formed batch body (gzip'd tar) around `batch.json` given as a value or raw text. */
async function batchBody(
  json: Record<string, unknown> | string,
  contents: { hash: string; bytes: Uint8Array }[] = [],
): Promise<Uint8Array> {
  const bytes = enc.encode(typeof json === "string" ? json : JSON.stringify(json));
  return await collect(packBody({ name: "batch.json", bytes }, contents));
}

/** A gzip'd tar with exactly these entries (names unchecked: for hostile bodies). */
async function rawTarBody(entries: { name: string; bytes: Uint8Array }[]): Promise<Uint8Array> {
  const { readable, controller } = createTarPacker();
  const produce = (async () => {
    for (const e of entries) {
      const w = controller.add({ name: e.name, size: e.bytes.length, type: "file", mode: 0o644 })
        .getWriter();
      if (e.bytes.length) await w.write(e.bytes);
      await w.close();
    }
    controller.finalize();
  })();
  const out = await collect(readable.pipeThrough(new CompressionStream("gzip")));
  await produce;
  return out;
}

/**
 * Seal `body` as batch `seq` of `from`'s channel to `to`, with `from`'s real
 * keys read from its home: exactly what `from`'s own syft could have written.
 */
async function sealAs(from: Site, to: Site, seq: number, body: Uint8Array): Promise<Uint8Array> {
  const mine = await readKeys(homeLayout(from.home).keys);
  const theirs = await readKeys(homeLayout(to.home).keys);
  return await collect(sealEnvelope(
    {
      kind: "batch",
      name: batchName(seq),
      sender: from.email,
      recipient: to.email,
      seq,
      created_at: Date.now(),
      size: body.length,
    },
    body,
    {
      signPrivate: mine.sign.privateKey,
      agreePrivate: mine.agree.privateKey,
      peerAgreePublic: theirs.agree.publicKey,
    },
  ));
}

/**
 * Drop `bytes` as the next batch of `from`'s channel to `to`, as a hostile (or
 * buggy) `from` would: its own installation wrote it, so `from`'s record of
 * its next seq moves past it too (otherwise its next round would rightly stop:
 * "a listed seq above its own record means the identity is active elsewhere").
 */
async function dropAsSender(
  shared: string,
  from: Site,
  to: Site,
  make: (seq: number) => Promise<Uint8Array>,
): Promise<string> {
  const seq = await nextSeq(shared, from, to);
  const name = batchName(seq);
  await Deno.writeFile(
    posix.join(channelDir(shared, from.email, to.email), name),
    await make(seq),
    {
      createNew: true,
    },
  );
  const layout = stateLayout(homeLayout(from.home).state);
  const state = await loadChannelState(layout, to.email);
  await saveChannelState(layout, { ...state, next_seq: seq + 1 });
  return name;
}

interface Quarantined {
  object: string;
  reason: string;
}

async function quarantineOf(site: Site): Promise<Quarantined[]> {
  return JSON.parse((await site.ok(["status", "--json"])).stdout).quarantined;
}

/** `object` is listed by `status --json` with a reason matching `reason`, and printed by `status`. */
async function assertQuarantined(site: Site, object: string, reason: RegExp): Promise<void> {
  const list = await quarantineOf(site);
  const hit = list.find((q) => q.object === object);
  assert(hit, `${object} is not quarantined on ${site.email}: ${JSON.stringify(list, null, 1)}`);
  assertMatch(hit.reason, reason);
  const human = (await site.ok(["status"])).stdout;
  assertStringIncludes(human, `quarantined ${object}: ${hit.reason}`);
}

/** Flip one byte of a file in place. */
async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await Deno.readFile(path);
  assert(offset < bytes.length, `offset ${offset} past the end of ${path}`);
  bytes[offset]! ^= 0x01;
  await Deno.writeFile(path, bytes);
}

/** Offsets inside an envelope: its header JSON, its signature, its first body chunk. */
async function envelopeOffsets(
  path: string,
): Promise<{ header: number; signature: number; body: number }> {
  const bytes = await Deno.readFile(path);
  const length = new DataView(bytes.buffer, bytes.byteOffset + 6, 4).getUint32(0, false);
  return { header: 10, signature: 10 + length, body: 10 + length + 64 };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to);
  for await (const e of Deno.readDir(from)) {
    if (e.isFile) await Deno.copyFile(posix.join(from, e.name), posix.join(to, e.name));
  }
}

/** Owner publishes one new file; the peer syncs; the mirror has it. */
async function goodBatchApplies(owner: Site, ds: Site, rel: string): Promise<void> {
  await put(owner.datasite, rel, `good ${rel}`);
  const o = await owner.ok(["sync"]);
  const d = await ds.ok(["sync"]);
  assertEquals(
    await Deno.readTextFile(posix.join(ds.mirror(owner), rel)).catch(() => null),
    `good ${rel}`,
    `a later good batch still applies (${rel}); owner: ${o.stderr}${o.stdout} ds: ${d.stderr}${d.stdout}`,
  );
}

// ---------------------------------------------------------------------------
// Identity tests.

Deno.test("identity: a foreign datasite claim, a replayed b- and flipped bytes are each refused and quarantined; later batches still apply", async (t) => {
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  await put(owner.datasite, "public/base.txt", "base");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  const mirror = ds.mirror(owner);
  assertEquals(await Deno.readTextFile(posix.join(mirror, "public/base.txt")), "base");

  await t.step(
    "(a) a batch in the owner's channel claiming a third identity's datasite",
    async () => {
      const third = "third@elsewhere.org";
      const forged = fileEvent(third, "public/forged.txt", "forged by owner for third");
      const alongside = fileEvent(owner.email, "public/alongside.txt", "in the same batch");
      const name = await dropAsSender(w.shared, owner, ds, async (seq) =>
        await sealAs(
          owner,
          ds,
          seq,
          await batchBody(
            {
              seq,
              sender: owner.email,
              created_at: Date.now(),
              events: [alongside.event, forged.event],
              acks: {},
              control: [],
            },
            [alongside.content, forged.content],
          ),
        ));
      const r = await ds.ok(["sync"]);
      assertMatch(r.stderr, /quarantined b-\d{16}\.syft from owner@hospital\.org/);
      await assertQuarantined(
        ds,
        objectId(owner, ds, name),
        /datasite "third@elsewhere\.org" is neither the sender/,
      );
      assert(!(await exists(posix.join(mirror, "public/forged.txt"))), "nothing of it applied");
      assert(
        !(await exists(posix.join(mirror, "public/alongside.txt"))),
        "the whole batch refused",
      );
      assert(!(await exists(posix.join(ds.root, third))), "no mirror for the third identity");
      await goodBatchApplies(owner, ds, "public/after-a.txt");
      assert(!(await exists(posix.join(mirror, "public/forged.txt"))));
    },
  );

  await t.step("(b) an old b- copied under the next seq name", async () => {
    const seq = await nextSeq(w.shared, owner, ds);
    const dir = channelDir(w.shared, owner.email, ds.email);
    await Deno.copyFile(posix.join(dir, batchName(1)), posix.join(dir, batchName(seq)));
    await ds.ok(["sync"]);
    await assertQuarantined(
      ds,
      objectId(owner, ds, batchName(seq)),
      /header name is "b-0000000000000001\.syft", expected "b-\d{16}\.syft"/,
    );
    // The owner notices the replay in its own channel, reports it and goes on
    // past it: the object is not its own, so this is no second installation.
    await put(owner.datasite, "public/after-b.txt", "good public/after-b.txt");
    const r = await owner.ok(["sync"]);
    assertMatch(r.stderr, new RegExp(`${batchName(seq)}.*not a batch this identity wrote`));
    await assertQuarantined(
      owner,
      objectId(owner, ds, batchName(seq)),
      /not a batch this identity wrote/,
    );
    await ds.ok(["sync"]);
    assertEquals(
      await Deno.readTextFile(posix.join(mirror, "public/after-b.txt")),
      "good public/after-b.txt",
    );
  });

  for (
    const [where, reason] of [
      ["header", /bad signature/],
      ["body", /chunk 1 of 1 failed authentication/],
      ["signature", /bad signature/],
    ] as const
  ) {
    await t.step(`(d) one flipped byte in the ${where}`, async () => {
      const rel = `public/flip-${where}.txt`;
      await put(owner.datasite, rel, `flip ${where}`);
      await owner.ok(["sync"]);
      const listed = await batches(w.shared, owner.email, ds.email);
      const name = listed[listed.length - 1]!;
      const path = posix.join(channelDir(w.shared, owner.email, ds.email), name);
      const at = await envelopeOffsets(path);
      await flipByte(path, at[where] + 7);
      await ds.ok(["sync"]);
      await assertQuarantined(ds, objectId(owner, ds, name), reason);
      assert(!(await exists(posix.join(mirror, rel))), `nothing of the tampered ${name} applied`);
      // The peer asked for a resync; the owner's next batch brings the file honestly.
      await owner.ok(["sync"]);
      await ds.ok(["sync"]);
      assertEquals(await Deno.readTextFile(posix.join(mirror, rel)), `flip ${where}`);
    });
  }

  // Blobs travel as their own objects: a lost or damaged one refuses the batch
  // that needs it, and the resync must bring a good copy (not reuse the bad one).
  for (
    const [what, damage, reason] of [
      [
        "deleted",
        (path: string) => Deno.remove(path),
        // Protocol 1 (a channel's blob) or 2 (the owner's pool).
        /blob x-[0-9a-f]{64}\.syft it references is missing|pool object p-[0-9a-f]{32}\.syft it references cannot be read/,
      ],
      [
        "with one flipped byte in its body",
        async (path: string) => await flipByte(path, (await envelopeOffsets(path)).body + 1000),
        /object (x-[0-9a-f]{64}|p-[0-9a-f]{32})\.syft: chunk 1 of 1 failed authentication/,
      ],
    ] as const
  ) {
    await t.step(`(g) a blob ${what}`, async () => {
      const rel = `public/blob-${what.split(" ")[0]}.bin`;
      const bytes = new Uint8Array(300 * 1024);
      for (let i = 0; i < bytes.length; i += 65_536) {
        crypto.getRandomValues(bytes.subarray(i, i + 65_536));
      }
      await Deno.writeFile(posix.join(owner.datasite, rel), bytes);
      await owner.ok(["sync"]);
      const dir = channelDir(w.shared, owner.email, ds.email);
      const pool = posix.join(w.shared, `syft2pool#${owner.email}`);
      const before = new Set(await quarantineOf(ds).then((l) => l.map((q) => q.object)));
      const blobs = [
        ...(await filesUnder(dir)).filter((f) => f.startsWith("x-")).map((f) => posix.join(dir, f)),
        ...(await filesUnder(pool).catch(() => [])).filter((f) => f.startsWith("p-"))
          .map((f) => posix.join(pool, f)),
      ];
      assertEquals(blobs.length >= 1, true);
      // The newest blob is the one just written (the others' files are older).
      const stats = await Promise.all(blobs.map((b) => Deno.stat(b)));
      const newest = blobs[
        stats.reduce(
          (best, s, i) =>
            (s.mtime?.getTime() ?? 0) > (stats[best]!.mtime?.getTime() ?? 0) ? i : best,
          0,
        )
      ]!;
      await damage(newest);
      await ds.ok(["sync"]);
      const added = (await quarantineOf(ds)).filter((q) => !before.has(q.object));
      assertEquals(added.length, 1, JSON.stringify(added));
      assertMatch(added[0]!.reason, reason);
      await assertQuarantined(ds, added[0]!.object, reason);
      assert(!(await exists(posix.join(mirror, rel))), "nothing of it applied");
      await owner.ok(["sync"]);
      await ds.ok(["sync"]);
      assertEquals(
        await Deno.readFile(posix.join(mirror, rel)),
        bytes,
        "resynced with a good blob",
      );
    });
  }

  await t.step("all seven refusals are still listed", async () => {
    const list = await quarantineOf(ds);
    assertEquals(list.length, 7, JSON.stringify(list, null, 1));
  });
});

Deno.test("identity: a whole channel folder copied under another sender's name is refused, accepted sender or not", async (t) => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  const mallory = await w.site("mallory@evil.org");
  await peerUp(ds, owner);
  await peerUp(mallory, ds); // ds has accepted mallory
  for (const f of ["one", "two", "three"]) {
    await put(owner.datasite, `public/${f}.txt`, f);
    await owner.ok(["sync"]);
  }
  await ds.ok(["sync"]);
  await mallory.ok(["sync"]);
  await ds.ok(["sync"]);
  const ownerChannel = channelDir(w.shared, owner.email, ds.email);
  const cursorOf = async (peer: string) =>
    (await loadChannelState(stateLayout(homeLayout(ds.home).state), peer)).cursor;
  const malloryCursor = await cursorOf(mallory.email);
  const ownerBatches = await batches(w.shared, owner.email, ds.email);
  assert(
    ownerBatches.length > malloryCursor,
    `the copy must hold batches past ds's cursor for mallory (${ownerBatches.length} vs ${malloryCursor})`,
  );

  await t.step(
    "as an accepted peer's channel: every object fails mallory's pinned key",
    async () => {
      await Deno.rename(
        channelDir(w.shared, mallory.email, ds.email),
        posix.join(w.base, "mallory-real-channel"),
      );
      await copyDir(ownerChannel, channelDir(w.shared, mallory.email, ds.email));
      const r = await ds.ok(["sync"]);
      assertMatch(r.stderr, /quarantined b-\d{16}\.syft from mallory@evil\.org/);
      const list = await quarantineOf(ds);
      const fromMallory = list.filter((q) => q.object.startsWith(`syft1#${mallory.email}#`));
      assertEquals(
        fromMallory.map((q) => q.object.split("/")[1]),
        ownerBatches.slice(malloryCursor, malloryCursor + 1),
        "the first batch past the cursor quarantined; the reader then waits (never skips)",
      );
      for (const q of fromMallory) assertMatch(q.reason, /bad signature/);
      await assertQuarantined(ds, fromMallory[0]!.object, /bad signature/);
      const mirrored = await filesUnder(ds.mirror(mallory));
      for (const f of ["one", "two", "three"]) {
        assert(
          !mirrored.includes(`public/${f}.txt`),
          `owner's ${f}.txt leaked into mallory's mirror`,
        );
      }
      await goodBatchApplies(owner, ds, "public/after-c1.txt");
      // Mallory's own syft finds the foreign batches in its channel, skips past
      // them, and its next batch is read by ds as usual.
      await put(mallory.datasite, "public/m-after.txt", "mallory's own");
      const m = await mallory.ok(["sync"]);
      assertMatch(m.stderr, /is not a batch this identity wrote/);
      await ds.ok(["sync"]);
      assertEquals(
        await Deno.readTextFile(posix.join(ds.mirror(mallory), "public/m-after.txt")),
        "mallory's own",
      );
    },
  );

  await t.step(
    "as an unknown sender's channel: its hello names another sender; nothing is pinned or read",
    async () => {
      const stranger = "stranger@nowhere.org";
      await copyDir(ownerChannel, channelDir(w.shared, stranger, ds.email));
      const before = (await quarantineOf(ds)).length;
      const r = await ds.ok(["sync"]);
      assertMatch(r.stderr, new RegExp(`syft1#${stranger}#${ds.email}.*ignored`));
      const peers = JSON.parse((await ds.ok(["peer", "list", "--json"])).stdout);
      assert(
        !JSON.stringify(peers).includes(stranger),
        `the stranger must not become a peer: ${JSON.stringify(peers)}`,
      );
      assertEquals((await quarantineOf(ds)).length, before, "refused before any object is read");
      assert(!(await exists(posix.join(ds.root, stranger))), "no mirror for the stranger");
      await goodBatchApplies(owner, ds, "public/after-c2.txt");
    },
  );
});

Deno.test("identity: an impostor channel pre-created under a peer's name is refused at approval by the fingerprint check", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  const realFp = JSON.parse((await ds.ok(["status", "--json"])).stdout).fingerprint as string;

  // Someone else creates ds's channel to the owner first, with their own keys.
  const impostorKeys = await generateIdentityKeys();
  const impostorFp = await fingerprint(await publicKeys(impostorKeys));
  const dir = channelDir(w.shared, ds.email, owner.email);
  await Deno.mkdir(dir);
  await Deno.writeFile(
    posix.join(dir, "hello.json"),
    await createHello({
      sender: ds.email,
      recipient: owner.email,
      keys: impostorKeys,
      clientVersion: "0.0.0-impostor",
      now: Date.now(),
    }),
  );

  // The real ds cannot open its channel: the folder's hello is not its own.
  const add = await ds.syft(["peer", "add", owner.email]);
  assertEquals(add.code, 3, add.stderr);
  assertMatch(add.stderr, /already exists with a hello\.json that is not yours/);

  // The owner sees a pending request carrying the impostor's fingerprint...
  const listed = JSON.parse((await owner.ok(["peer", "list", "--json"])).stdout);
  assertStringIncludes(JSON.stringify(listed), impostorFp);
  // ...and approving with the fingerprint ds gave out of band refuses.
  const approve = await owner.syft(["peer", "approve", ds.email, "--fingerprint", realFp]);
  assertEquals(approve.code, 3, approve.stderr);
  assertMatch(approve.stderr, /refused: the channel from ds@lab\.org has fingerprint/);
  assertStringIncludes(approve.stderr, impostorFp);
  const after = JSON.parse((await owner.ok(["status", "--json"])).stdout);
  assertEquals(after.peers.accepted, 0, "nothing approved");
  assertEquals(
    await filesUnder(posix.join(owner.datasite, `app_data/job/inbox/${ds.email}`)),
    [],
    "no inbox permission written for the impostor",
  );
});

// ---------------------------------------------------------------------------
// Hostile bodies at the sync level.

Deno.test("hostile bodies: truncated, wrong magic, tar `..`, wrong types, event path `..` — each quarantined, the round completes and goes on", async () => {
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  const mirror = ds.mirror(owner);

  const valid = async (seq: number, rel: string) => {
    const f = fileEvent(owner.email, rel, `hostile ${rel}`);
    return await sealAs(
      owner,
      ds,
      seq,
      await batchBody(
        {
          seq,
          sender: owner.email,
          created_at: Date.now(),
          events: [f.event],
          acks: {},
          control: [],
        },
        [f.content],
      ),
    );
  };
  const expected: [string, RegExp][] = [];
  // Each one is refused and never skipped: the reader asks for a resync and
  // waits; the owner's answer (a fresh cf past it) moves the reader on.
  const drop = async (make: (seq: number) => Promise<Uint8Array>, reason: RegExp) => {
    const name = await dropAsSender(w.shared, owner, ds, make);
    const r = await ds.ok(["sync", "--json"]);
    assertEquals(JSON.parse(r.stdout).quarantined, 1, `${name}: ${r.stderr}`);
    await assertQuarantined(ds, objectId(owner, ds, name), reason);
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
    expected.push([name, reason]);
  };

  await drop(
    async (seq) => (await valid(seq, "public/truncated.txt")).slice(0, -10),
    /truncated inside chunk 1 of 1/,
  );
  await drop(async (seq) => {
    const bytes = await valid(seq, "public/magic.txt");
    bytes.set(enc.encode("SYFT2\n"), 0);
    return bytes;
  }, /wrong magic/);
  await drop(async (seq) => {
    const f = fileEvent(owner.email, "public/dotdot-tar.txt", "escape");
    const json = enc.encode(JSON.stringify({
      seq,
      sender: owner.email,
      created_at: Date.now(),
      events: [f.event],
      acks: {},
      control: [],
    }));
    return await sealAs(
      owner,
      ds,
      seq,
      await rawTarBody([
        { name: "batch.json", bytes: json },
        { name: `c/../../../escaped-${f.content.hash}`, bytes: f.content.bytes },
      ]),
    );
  }, /climbs out with "\.\."/);
  await drop(async (seq) => {
    const f = fileEvent(owner.email, "public/types.txt", "wrong types", { size: "eleven" });
    return await sealAs(
      owner,
      ds,
      seq,
      await batchBody(
        {
          seq,
          sender: owner.email,
          created_at: Date.now(),
          events: [f.event],
          acks: {},
          control: [],
        },
        [f.content],
      ),
    );
  }, /batch\.json\.events\[0\]\.size/);
  await drop(async (seq) => {
    const f = fileEvent(owner.email, "public/../../../escape.txt", "escape by path");
    return await sealAs(
      owner,
      ds,
      seq,
      await batchBody(
        {
          seq,
          sender: owner.email,
          created_at: Date.now(),
          events: [f.event],
          acks: {},
          control: [],
        },
        [f.content],
      ),
    );
  }, /path "public\/\.\.\/\.\.\/\.\.\/escape\.txt" is not a valid datasite path/);

  // Beyond the five of the brief, from the hostile-input list.
  await drop(async (seq) => {
    const bytes = await valid(seq, "public/long-header.txt");
    new DataView(bytes.buffer).setUint32(6, 65_537, false);
    return bytes;
  }, /header length 65537 exceeds 65536/);
  await drop(async (seq) => {
    const json = enc.encode(JSON.stringify({
      seq,
      sender: owner.email,
      created_at: Date.now(),
      events: [],
      acks: {},
      control: [],
    }));
    const { readable, controller } = createTarPacker();
    const done = (async () => {
      const w1 = controller.add({ name: "batch.json", size: json.length, type: "file" })
        .getWriter();
      await w1.write(json);
      await w1.close();
      await controller.add({ name: "c/link", size: 0, type: "symlink", linkname: "/etc/passwd" })
        .getWriter().close();
      controller.finalize();
    })();
    const body = await collect(readable.pipeThrough(new CompressionStream("gzip")));
    await done;
    return await sealAs(owner, ds, seq, body);
  }, /is a symlink; only regular files are allowed/);
  await drop(async (seq) =>
    await sealAs(
      owner,
      ds,
      seq,
      await batchBody({
        seq,
        sender: owner.email,
        created_at: Date.now(),
        events: [],
        acks: { "Not An Email": 1 },
        control: [],
      }),
    ), /acks key "Not An Email" is not a valid identity/);
  await drop(async (seq) => {
    // A blob the batch needs but that is not in the channel.
    const ev = event({
      datasite: owner.email,
      path: "public/no-blob.bin",
      new_hash: "ab".repeat(32),
      size: 300 * 1024,
      content: "blob",
    });
    return await sealAs(
      owner,
      ds,
      seq,
      await batchBody({
        seq,
        sender: owner.email,
        created_at: Date.now(),
        events: [ev],
        acks: {},
        control: [],
      }),
    );
  }, /blob x-[0-9a-f]{64}\.syft it references is missing from the channel/);
  await drop(async (seq) => {
    // A size that lies about its content (it would cheat the inbox quota).
    const f = fileEvent(owner.email, "public/lying-size.txt", "five!", { size: 0 });
    return await sealAs(
      owner,
      ds,
      seq,
      await batchBody(
        {
          seq,
          sender: owner.email,
          created_at: Date.now(),
          events: [f.event],
          acks: {},
          control: [],
        },
        [f.content],
      ),
    );
  }, /public\/lying-size\.txt claims size 0 but its content is 5 bytes/);

  // A good batch right after them, from the owner's real syft.
  await put(owner.datasite, "public/after-f.txt", "after the hostile ones");
  await owner.ok(["sync"]);

  const r = await ds.ok(["sync", "--json"]);
  const summary = JSON.parse(r.stdout);
  assertEquals(summary.quarantined, 0, r.stderr);
  assertEquals((await quarantineOf(ds)).length, expected.length);
  for (const [name, reason] of expected) {
    await assertQuarantined(ds, objectId(owner, ds, name), reason);
  }
  assertEquals(
    await Deno.readTextFile(posix.join(mirror, "public/after-f.txt")),
    "after the hostile ones",
    "the round went on to the good batch",
  );
  const mirrored = await filesUnder(mirror);
  for (const f of ["truncated", "magic", "dotdot-tar", "types", "long-header", "lying-size"]) {
    assert(!mirrored.includes(`public/${f}.txt`), `${f}.txt applied`);
  }
  const everywhere = await filesUnder(w.base);
  assertEquals(everywhere.filter((f) => /escape/.test(f)), [], "nothing escaped anywhere");
});

// ---------------------------------------------------------------------------
// Round guards (docs/protocol.md §5–§6).

Deno.test("mass-delete stop: deleting 20 of 30 published files stops with the count and the hint; --allow-mass-delete goes through", async () => {
  const { owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  const name = (i: number) => `public/m/f${String(i).padStart(2, "0")}.txt`;
  for (let i = 0; i < 30; i++) await put(owner.datasite, name(i), `file ${i}`);
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  const mirrorM = posix.join(ds.mirror(owner), "public/m");
  assertEquals((await filesUnder(mirrorM)).length, 30);

  for (let i = 0; i < 20; i++) await Deno.remove(posix.join(owner.datasite, name(i)));
  const stopped = await owner.syft(["sync"]);
  assert(stopped.code !== 0, "the round must stop");
  assertMatch(stopped.stderr, /would delete 20 of 30 files from ds@lab\.org's mirror/);
  assertMatch(stopped.stderr, /hint: .*syft sync --allow-mass-delete/);
  await ds.ok(["sync"]);
  assertEquals((await filesUnder(mirrorM)).length, 30, "nothing deleted on the peer");

  await owner.ok(["sync", "--allow-mass-delete"]);
  await ds.ok(["sync"]);
  assertEquals(
    await filesUnder(mirrorM),
    Array.from({ length: 10 }, (_, i) => name(i + 20).slice("public/m/".length)),
  );
  // The next round is ordinary again.
  await owner.ok(["sync"]);
});

Deno.test("proposals sent before approval are processed after approval, in order", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  await ds.ok(["peer", "add", owner.email]);
  const fp = JSON.parse((await ds.ok(["status", "--json"])).stdout).fingerprint;
  const inbox = `app_data/job/inbox/${ds.email}`;

  // Two batches of proposals in ds's channel before the owner approved: the
  // second edits what the first created, so only in-order processing gives v2.
  const v1 = fileEvent(owner.email, `${inbox}/job1/run.sh`, "echo v1\n");
  const v2 = fileEvent(owner.email, `${inbox}/job1/run.sh`, "echo v2\n", {
    old_hash: v1.content.hash,
  });
  const other = fileEvent(owner.email, `${inbox}/job1/data.csv`, "a,b\n");
  for (
    const [events, contents] of [[[v1.event], [v1.content]], [[v2.event, other.event], [
      v2.content,
      other.content,
    ]]] as const
  ) {
    await dropAsSender(w.shared, ds, owner, async (seq) =>
      await sealAs(
        ds,
        owner,
        seq,
        await batchBody(
          { seq, sender: ds.email, created_at: Date.now(), events, acks: {}, control: [] },
          [...contents],
        ),
      ));
  }
  // And a job written into ds's mirror before approval, the ordinary way.
  await put(ds.mirror(owner), `${inbox}/job2/run.sh`, "echo job2\n");
  await ds.ok(["sync"]);

  await owner.ok(["peer", "list"]);
  const run = posix.join(owner.datasite, inbox, "job1/run.sh");
  assert(!(await exists(run)), "nothing applied before approval");
  await owner.ok(["sync"]);
  assert(!(await exists(run)), "nothing applied before approval, even after a sync");

  // Approval runs a round: both batches are judged, in seq order.
  await owner.ok(["peer", "approve", ds.email, "--fingerprint", fp]);
  assertEquals(await Deno.readTextFile(run), "echo v2\n");
  assertEquals(
    await Deno.readTextFile(posix.join(owner.datasite, inbox, "job1/data.csv")),
    "a,b\n",
  );
  await ds.ok(["sync"]);
  await owner.ok(["sync"]);
  assertEquals(
    await Deno.readTextFile(posix.join(owner.datasite, inbox, "job2/run.sh")),
    "echo job2\n",
  );
  assertEquals((await quarantineOf(owner)).length, 0);
});

Deno.test("hostile paths: a file and a folder of the same name never wedge a round, either direction", async (t) => {
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  const mirror = ds.mirror(owner);
  const inbox = `app_data/job/inbox/${ds.email}`;

  await t.step("the owner replaces a published file by a folder of the same name", async () => {
    await put(owner.datasite, "public/swap", "a file first");
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
    await Deno.remove(posix.join(owner.datasite, "public/swap"));
    await put(owner.datasite, "public/swap/inner.txt", "now a folder");
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
    assertEquals(
      await Deno.readTextFile(posix.join(mirror, "public/swap/inner.txt")),
      "now a folder",
    );
    await ds.ok(["sync"]);
  });

  await t.step("the peer replaces a proposed file by a folder of the same name", async () => {
    await put(mirror, `${inbox}/j/run`, "a file first");
    await ds.ok(["sync"]);
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
    assertEquals(
      await Deno.readTextFile(posix.join(owner.datasite, inbox, "j/run")),
      "a file first",
    );
    await Deno.remove(posix.join(mirror, inbox, "j/run"));
    await put(mirror, `${inbox}/j/run/x`, "now a folder");
    await ds.ok(["sync"]);
    await owner.ok(["sync"]);
    assertEquals(
      await Deno.readTextFile(posix.join(owner.datasite, inbox, "j/run/x")),
      "now a folder",
    );
    await owner.ok(["sync"]);
  });

  await t.step("a hostile owner's batch with a file and a file under it", async () => {
    const file = fileEvent(owner.email, "public/h", "file h");
    const under = fileEvent(owner.email, "public/h/x", "file under h");
    await dropAsSender(w.shared, owner, ds, async (seq) =>
      await sealAs(
        owner,
        ds,
        seq,
        await batchBody(
          {
            seq,
            sender: owner.email,
            created_at: Date.now(),
            events: [file.event, under.event],
            acks: {},
            control: [],
          },
          [file.content, under.content],
        ),
      ));
    await ds.ok(["sync"]);
    await ds.ok(["sync"]);
    await goodBatchApplies(owner, ds, "public/after-h.txt");
  });

  await t.step("a hostile peer's proposals with a file and a file under it", async () => {
    const file = fileEvent(owner.email, `${inbox}/k`, "file k");
    const under = fileEvent(owner.email, `${inbox}/k/x`, "file under k");
    await dropAsSender(w.shared, ds, owner, async (seq) =>
      await sealAs(
        ds,
        owner,
        seq,
        await batchBody(
          {
            seq,
            sender: ds.email,
            created_at: Date.now(),
            events: [file.event, under.event],
            acks: {},
            control: [],
          },
          [file.content, under.content],
        ),
      ));
    await owner.ok(["sync"]);
    await owner.ok(["sync"]);
    assertEquals(await Deno.readTextFile(posix.join(owner.datasite, inbox, "k")), "file k");
    await goodBatchApplies(owner, ds, "public/after-k.txt");
  });
});
