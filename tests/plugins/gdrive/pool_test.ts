/**
 * The Drive pool (protocol v2): a blob stored once in the sender's own
 * `syft2pool` folder and shared file by file with exactly its readers, over
 * the fake Drive in this process. Each test proves one promise: who reads,
 * what it costs, create-only under a lost answer, squatters ignored, Drive's
 * search lag ridden out through the change feed, and nothing left half-way.
 */
import { assert, assertEquals, assertRejects, assertTransportError } from "../_assert.ts";
import { readAll } from "../contract_suite.ts";
import { type FakeDrive, FOLDER, startFakeDrive } from "../../fakes/gdrive_server.ts";
import { GdriveTransport } from "../../../plugins/gdrive/transport.ts";
import { POOL_FOLDER_NAME, POOL_PROPERTY } from "../../../plugins/gdrive/_pool.ts";
import { CLIENT_FILE, TOKEN_FILE, TokenSource } from "../../../plugins/gdrive/_tokens.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { tempDir } from "../../_temp.ts";

const A = "alice@a.example.org", B = "bob@b.example.org", C = "carol@c.example.org";
const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

interface Rig {
  drive: FakeDrive;
  /** A transport signed in as `identity` (a new one each call: a fresh plugin life). */
  make(identity: string): Promise<GdriveTransport>;
  /** A raw API call with `identity`'s token; the parsed JSON answer. */
  raw(identity: string, path: string, init?: RequestInit): Promise<Record<string, unknown>>;
}

/** A fake Drive with A, B and C, removed with its credentials when `fn` ends. */
async function withPool(fn: (rig: Rig) => Promise<void>): Promise<void> {
  const drive = await startFakeDrive({ users: [A, B, C] });
  const dirs: string[] = [];
  try {
    await fn({
      drive,
      async make(identity) {
        const dir = await tempDir("syft-gdrive-pool-");
        dirs.push(dir);
        await Deno.writeTextFile(`${dir}/${CLIENT_FILE}`, JSON.stringify(drive.clientFile()));
        await Deno.writeTextFile(
          `${dir}/${TOKEN_FILE}`,
          JSON.stringify({
            access_token: drive.token(identity),
            refresh_token: drive.refreshToken(identity),
            expiry_date: Date.now() + 3_000_000,
            scope: "https://www.googleapis.com/auth/drive",
            token_type: "Bearer",
          }),
        );
        return new GdriveTransport(
          {
            identity,
            credentialsDir: dir,
            apiBase: `${drive.url}/`,
            fullListEvery: 1000,
            rate: { perSecond: 2000, burst: 2000 },
            backoff: { baseMs: 5, capMs: 40, tries: 8 },
          },
          await TokenSource.load(dir),
          () => {},
        );
      },
      async raw(identity, path, init = {}) {
        const response = await fetch(`${drive.url}/${path}`, {
          ...init,
          headers: {
            authorization: `Bearer ${drive.token(identity)}`,
            "content-type": "application/json",
          },
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${text}`);
        return text === "" ? {} : JSON.parse(text);
      },
    });
  } finally {
    await drive.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Names of every file in A's pool folder, duplicates included, as Drive holds them. */
async function rawPool(rig: Rig): Promise<string[]> {
  const q = (query: string) =>
    `drive/v3/files?pageSize=1000&fields=files(id,name)&q=${encodeURIComponent(query)}`;
  const folders = (await rig.raw(A, q(`name = '${POOL_FOLDER_NAME}' and trashed = false`)))
    .files as { id: string }[];
  assertEquals(folders.length, 1, "one pool folder");
  const files = (await rig.raw(A, q(`'${folders[0]!.id}' in parents and trashed = false`)))
    .files as { name: string }[];
  return files.map((f) => f.name).sort();
}

Deno.test("a pooled blob is stored once for its readers: they read it, others get E_TRANSPORT and see no channel", async () => {
  await withPool(async (rig) => {
    const a = await rig.make(A), b = await rig.make(B), c = await rig.make(C);
    assertEquals((await a.capabilities()).pool, true);
    const cCursor = (await c.changes(null)).cursor;
    await a.poolPut("p-warm", bytes("warm-up"), [B]); // makes the syft and pool folders
    rig.drive.resetCounts();
    await a.poolPut("p-1", bytes("sealed once"), [B, C, B]);
    const cost = rig.drive.callCounts(A);
    // One upload, the duplicate check, one grant per distinct reader: nothing per byte or peer beyond.
    assertEquals(cost, {
      total: 4,
      "files.create": 1,
      "files.list": 1,
      "permissions.create": 2,
    });
    await a.poolPut("p-2", bytes("for b only"), [B]);

    assertEquals(await readAll(await b.poolGet(A, "p-1")), bytes("sealed once"));
    assertEquals(await readAll(await c.poolGet(A, "p-1")), bytes("sealed once"));
    assertEquals(await readAll(await b.poolGet(A, "p-2")), bytes("for b only"));
    const denied = await assertTransportError(() => c.poolGet(A, "p-2"), "poolGet");
    assert(denied.message.includes(A), "the error names the sender");
    await assertTransportError(() => b.poolGet(A, "p-nothing"), "poolGet");
    // The sender reads its own pool; the pool is no channel to anyone.
    assertEquals(await readAll(await a.poolGet(A, "p-2")), bytes("for b only"));
    assertEquals((await c.changes(cCursor)).channels, []);
    assertEquals(await c.listIncoming(), []);
    assertEquals((await a.poolList()).objects, [
      { name: "p-1", size: 11 },
      { name: "p-2", size: 10 },
      { name: "p-warm", size: 7 },
    ]);
    assertEquals(await a.poolList({ prefix: "p-", after: "p-1", limit: 1 }), {
      objects: [{ name: "p-2", size: 10 }],
      next: "p-2",
    });
    assertEquals((await b.poolList()).objects, [], "B's own pool is empty");
    // The folder itself is shared with nobody: each file is.
    const folder = (await rig.raw(
      A,
      `drive/v3/files?fields=files(shared)&q=${encodeURIComponent(`name = '${POOL_FOLDER_NAME}'`)}`,
    )).files as { shared: boolean }[];
    assertEquals(folder, [{ shared: false }]);
  });
});

Deno.test("pool arguments are checked before any call: names, readers, sender", async () => {
  await withPool(async (rig) => {
    const a = await rig.make(A);
    rig.drive.resetCounts();
    await assertTransportError(() => a.poolPut("../x", bytes("x"), [B]), "poolPut");
    await assertTransportError(() => a.poolPut("p-1", bytes("x"), []), "poolPut");
    await assertTransportError(() => a.poolPut("p-1", bytes("x"), ["Not An Email"]), "poolPut");
    await assertTransportError(() => a.poolAddReaders("p-1", []), "poolAddReaders");
    await assertTransportError(() => a.poolGet("nobody", "p-1"), "poolGet");
    await assertTransportError(() => a.poolDelete(".hidden"), "poolDelete");
    await assertTransportError(() => a.poolList({ limit: 0 }), "poolList");
    assertEquals(rig.drive.callCounts(A).total, 0);
  });
});

Deno.test("readers added later can read; a repeated grant costs no call; a missing object is E_TRANSPORT", async () => {
  await withPool(async (rig) => {
    const a = await rig.make(A), c = await rig.make(C);
    await a.poolPut("p-1", bytes("later"), [B]);
    await assertTransportError(() => c.poolGet(A, "p-1"), "poolGet");
    await a.poolAddReaders("p-1", [C]);
    assertEquals(await readAll(await c.poolGet(A, "p-1")), bytes("later"));
    rig.drive.resetCounts();
    await a.poolAddReaders("p-1", [B, C]);
    assertEquals(rig.drive.callCounts(A).total, 0);
    // Another life of the plugin does not know; Drive's grant is idempotent.
    const again = await rig.make(A);
    await again.poolAddReaders("p-1", [C]);
    assertEquals(await readAll(await c.poolGet(A, "p-1")), bytes("later"));
    await assertTransportError(() => a.poolAddReaders("p-none", [C]), "poolAddReaders");
    // Another life replaced the object: the id this one knew is stale and looked up again.
    await a.poolPut("p-2", bytes("first"), [B]);
    await again.poolDelete("p-2");
    await again.poolPut("p-2", bytes("second"), [B]);
    await a.poolAddReaders("p-2", [C]);
    assertEquals(await readAll(await c.poolGet(A, "p-2")), bytes("second"));
    assertEquals(await readAll(await a.poolGet(A, "p-2")), bytes("second"));
  });
});

Deno.test("a deleted pool blob is unreadable and unlisted, deleting twice is fine, and its removal marks no channel", async () => {
  await withPool(async (rig) => {
    const a = await rig.make(A), b = await rig.make(B);
    await a.openChannel(B);
    await a.poolPut("p-1", bytes("short-lived"), [B]);
    const cursor = (await b.changes(null)).cursor;
    assertEquals(await readAll(await b.poolGet(A, "p-1")), bytes("short-lived"));
    await a.poolDelete("p-1");
    await a.poolDelete("p-1");
    await (await rig.make(A)).poolDelete("p-never"); // another life, nothing there
    assertEquals((await a.poolList()).objects, []);
    assertEquals(await rawPool(rig), []);
    await assertTransportError(() => b.poolGet(A, "p-1"), "poolGet");
    // B knew the id: Drive's removal is a pool object gone, not a channel to re-list.
    assertEquals((await b.changes(cursor)).channels, []);
  });
});

Deno.test("a pool put whose create answer is lost is made once, and the name stays create-only", async () => {
  await withPool(async (rig) => {
    const a = await rig.make(A), b = await rig.make(B);
    await a.poolPut("p-0", bytes("folders first"), [B]);
    rig.drive.faults.script({ kind: "lose-response", method: "files.create", user: A });
    await a.poolPut("p-1", bytes("once"), [B]);
    assertEquals(rig.drive.faults.injected()["lose-response"], 1);
    assertEquals(await rawPool(rig), ["p-0", "p-1"]);
    assertEquals(await readAll(await b.poolGet(A, "p-1")), bytes("once"));
    const taken = await assertRejects(() => a.poolPut("p-1", bytes("twice"), [B]), SyftError);
    assertEquals(taken.code, "E_EXISTS");
    // A large body is refused before its upload; another life of the plugin too.
    const big = new Uint8Array(6 * 1024 * 1024);
    const again = await rig.make(A);
    rig.drive.resetCounts();
    const bigTaken = await assertRejects(
      () => again.poolPut("p-1", new Blob([big]).stream(), [B]),
      SyftError,
    );
    assertEquals(bigTaken.code, "E_EXISTS");
    assertEquals(rig.drive.callCounts(A)["files.create"] ?? 0, 0);
    assertEquals(await readAll(await b.poolGet(A, "p-1")), bytes("once"));
    assertEquals(await rawPool(rig), ["p-0", "p-1"]);
  });
});

Deno.test("a large pooled stream goes up resumably and comes down whole, resumed after a cut", async () => {
  await withPool(async (rig) => {
    const a = await rig.make(A), b = await rig.make(B);
    // A grant whose answer is lost is sent again: Drive's grant is idempotent.
    rig.drive.faults.script({ kind: "lose-response", method: "permissions.create", user: A });
    rig.drive.faults.script({ kind: "drop", method: "files.download", user: B });
    const big = crypto.getRandomValues(new Uint8Array(65536));
    const body = new Uint8Array(6 * 1024 * 1024 + 5);
    for (let at = 0; at < body.length; at += big.length) {
      body.set(big.subarray(0, body.length - at), at);
    }
    await a.poolPut("p-big", new Blob([body]).stream(), [B]);
    assertEquals(rig.drive.faults.injected(), { "lose-response": 1 });
    rig.drive.resetCounts();
    assertEquals(await readAll(await b.poolGet(A, "p-big")), body);
    assertEquals(rig.drive.faults.injected(), { drop: 1 });
    // The cut download went on from where it stopped: one more request, not a second pass.
    assertEquals(rig.drive.callCounts(B)["files.download"], 2);
  });
});

Deno.test("a same-named file from someone else, or a channel object of the sender, is not the sender's pool blob", async () => {
  await withPool(async (rig) => {
    const a = await rig.make(A), b = await rig.make(B);
    // C squats the name, marks it as a pool object, and shares it with B.
    const squat = await rig.raw(
      C,
      "drive/v3/files?fields=id",
      {
        method: "POST",
        body: JSON.stringify({
          name: "p-1",
          mimeType: "application/octet-stream",
          properties: { [POOL_PROPERTY.key]: POOL_PROPERTY.value },
        }),
      },
    );
    await rig.raw(C, `drive/v3/files/${squat.id}/permissions?sendNotificationEmail=false`, {
      method: "POST",
      body: JSON.stringify({ type: "user", role: "reader", emailAddress: B }),
    });
    const cursor = (await b.changes(null)).cursor;
    await assertTransportError(() => b.poolGet(A, "p-1"), "poolGet");
    // The sender's channel object of a pool-like name is no pool object either.
    const ch = await a.openChannel(B);
    await a.put(ch, "p-2", bytes("channel object"));
    await assertTransportError(() => b.poolGet(A, "p-2"), "poolGet");
    await a.poolPut("p-1", bytes("the real one"), [B]);
    await b.changes(cursor); // the feed shows both p-1 files: only A's counts
    assertEquals(await readAll(await b.poolGet(A, "p-1")), bytes("the real one"));
    assertEquals(await readAll(await (await rig.make(B)).poolGet(A, "p-1")), bytes("the real one"));
  });
});

Deno.test("while Drive's search lags behind a new grant, a reader that saw it in the change feed reads it at once", async () => {
  await withPool(async (rig) => {
    const a = await rig.make(A), b = await rig.make(B);
    await a.openChannel(B);
    const cursor = (await b.changes(null)).cursor;
    rig.drive.faults.set({ sharingLag: 3 });
    await a.poolPut("p-1", bytes("fresh"), [B]);
    // A plugin that did not follow the feed cannot find it yet, and says why.
    const fresh = await rig.make(B);
    const early = await assertTransportError(() => fresh.poolGet(A, "p-1"), "poolGet");
    assert(early.hint?.includes("yet"), `hint: ${early.hint}`);
    assertEquals((await b.changes(cursor)).channels, [], "a pool grant marks no channel");
    rig.drive.resetCounts();
    assertEquals(await readAll(await b.poolGet(A, "p-1")), bytes("fresh"));
    assertEquals(rig.drive.callCounts(B), { total: 1, "files.download": 1 });
    // Once search catches up, any reader finds it.
    let found: Uint8Array | null = null;
    for (let i = 0; i < 4 && found === null; i++) {
      found = await fresh.poolGet(A, "p-1").then(readAll, () => null);
    }
    assertEquals(found, bytes("fresh"));
  });
});

Deno.test("a pool put whose grant fails leaves nothing behind, so it can be repeated", async () => {
  await withPool(async (rig) => {
    const a = await rig.make(A), b = await rig.make(B);
    const err = await assertTransportError(
      () => a.poolPut("p-1", bytes("x"), [B, "nobody@nowhere.example.org"]),
      "poolPut",
    );
    assert(err.message.includes("nobody@nowhere.example.org"), err.message);
    assertEquals((await a.poolList()).objects, []);
    assertEquals(await rawPool(rig), []);
    await assertTransportError(() => b.poolGet(A, "p-1"), "poolGet");
    await a.poolPut("p-1", bytes("y"), [B]);
    assertEquals(await readAll(await b.poolGet(A, "p-1")), bytes("y"));
    const folders = (await rig.raw(
      A,
      `drive/v3/files?fields=files(name)&q=${encodeURIComponent(`mimeType = '${FOLDER}'`)}`,
    )).files as { name: string }[];
    assertEquals(folders.map((f) => f.name).sort(), ["syft", POOL_FOLDER_NAME]);
  });
});
