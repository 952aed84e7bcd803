/**
 * Dropbox's sharp edges, in process against the fake (no Worker, so the
 * plugin's reports and call counts are visible): a mount renamed on a name
 * clash, a squatter's folder and a stranger's object ignored and reported
 * once, a listing consistent with what changes() reported, an idle round's
 * cost (one call) and new peers still found, an idle watcher at one call a
 * period, a cut append of a concurrent upload session retried, an expired token refreshed
 * and stored, a revoked grant failing with the sign-in hint.
 */
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { startFakeDropbox } from "../../fakes/dropbox_server.ts";
import { DropboxTransport, INVITES_EVERY_MS } from "../../../plugins/dropbox/transport.ts";
import { TokenSource } from "../../../plugins/dropbox/_token_source.ts";
import { dropboxHosts } from "../../../plugins/dropbox/_env.ts";
import { DROPBOX_TOKEN_FILE, readDropboxTokens } from "../../../plugins/dropbox/_tokens.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import type { ChannelRef } from "../../../core/transport/contract.ts";

const encoder = new TextEncoder();
const A = "alice@example.org";
const B = "bob@example.org";
const C = "carol@example.org";

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A fake Dropbox, a transport per user (reports kept), raw calls, cleanup. */
async function rig(
  fn: (r: {
    dbx: Awaited<ReturnType<typeof startFakeDropbox>>;
    open(email: string, credentialsDir?: string | null, now?: () => number): DropboxTransport;
    reports: string[];
    raw(email: string, route: string, arg: unknown): Promise<Record<string, unknown>>;
    upload(email: string, path: string, bytes: Uint8Array<ArrayBuffer>): Promise<void>;
  }) => Promise<void>,
) {
  const dbx = await startFakeDropbox({ users: [A, B, C] });
  const reports: string[] = [];
  const hosts = dropboxHosts(dbx.url);
  try {
    await fn({
      dbx,
      reports,
      open(email, credentialsDir = null, now = Date.now) {
        const tokens = new TokenSource({
          app_key: dbx.appKey,
          access_token: dbx.token(email),
          refresh_token: dbx.refreshToken(email),
          expires_at: Date.now() + 3_600_000,
          account_id: dbx.accountId(email),
          email,
          scope: "",
        }, { credentialsDir, tokenUrl: hosts.token, fetch: (u, i) => fetch(u, i) });
        return new DropboxTransport(
          { identity: email, credentialsDir: "/unused", apiBase: dbx.url },
          tokens,
          (message) => reports.push(message),
          now,
        );
      },
      async raw(email, route, arg) {
        const response = await fetch(`${dbx.url}/api/2/${route}`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${dbx.token(email)}`,
            "content-type": "application/json",
          },
          body: JSON.stringify(arg),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${route}: ${response.status} ${text}`);
        return JSON.parse(text);
      },
      async upload(email, path, bytes) {
        const response = await fetch(`${dbx.url}/content/2/files/upload`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${dbx.token(email)}`,
            "content-type": "application/octet-stream",
            "dropbox-api-arg": JSON.stringify({ path, mode: "add" }),
          },
          body: bytes,
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`upload: ${response.status} ${text}`);
      },
    });
  } finally {
    await dbx.close();
  }
}

Deno.test("a mount renamed on a name clash is still the channel, found by its shared folder id", async () => {
  await rig(async ({ open, raw }) => {
    const alice = open(A);
    const bob = open(B);
    // Bob already has a folder of the channel's name where Dropbox mounts.
    await raw(B, "files/create_folder_v2", { path: `/syft1#${A}#${B}` });
    const ch = await alice.openChannel(B);
    await alice.put(ch, "b-0000000000000001.syft", encoder.encode("through the clash"));
    const first = await bob.changes(null);
    assertEquals(first.channels, [ch]);
    const mounts = await raw(B, "sharing/list_mountable_folders", {}) as {
      entries: { name: string; path_lower?: string }[];
    };
    const mounted = mounts.entries.find((e) => e.name === `syft1#${A}#${B}`)?.path_lower;
    assert(mounted !== undefined && mounted !== `/syft1#${A}#${B}`, `renamed: ${mounted}`);
    assertEquals((await bob.list(ch)).objects, [{ name: "b-0000000000000001.syft", size: 17 }]);
    assertEquals(
      await readAll(await bob.get(ch, "b-0000000000000001.syft")),
      encoder.encode("through the clash"),
    );
    await alice.put(ch, "b-0000000000000002.syft", encoder.encode("2"));
    assertEquals((await bob.changes(first.cursor)).channels, [ch], "its changes are seen");
  });
});

Deno.test("a squatter's folder and a stranger's object are ignored and reported once", async () => {
  await rig(async ({ open, raw, upload, dbx, reports }) => {
    const alice = open(A);
    const bob = open(B);
    // Carol shares a folder named as if Alice wrote it to Bob.
    await raw(C, "files/create_folder_v2", { path: `/syft/syft1#${A}#${B}` });
    const squat = await raw(C, "sharing/share_folder", { path: `/syft/syft1#${A}#${B}` });
    await raw(C, "sharing/add_folder_member", {
      shared_folder_id: squat.shared_folder_id,
      members: [{ member: { ".tag": "email", email: B }, access_level: { ".tag": "viewer" } }],
      quiet: true,
    });
    assertEquals(await bob.listIncoming(), []);
    assertEquals(await bob.listIncoming(), []);
    assertEquals(
      reports.filter((r) => r.includes(`its owner is ${C}`)).length,
      1,
      reports.join("\n"),
    );

    // Alice's real channel, into which an editor she let in writes too.
    const ch: ChannelRef = await alice.openChannel(B);
    await alice.put(ch, "b-0000000000000001.syft", encoder.encode("alice's"));
    const meta = await raw(A, "files/get_metadata", { path: `/syft/syft1#${A}#${B}` }) as {
      sharing_info?: { shared_folder_id?: string };
    };
    await raw(A, "sharing/add_folder_member", {
      shared_folder_id: meta.sharing_info?.shared_folder_id,
      members: [{ member: { ".tag": "email", email: C }, access_level: { ".tag": "editor" } }],
      quiet: true,
    });
    const mountable = await raw(C, "sharing/list_mountable_folders", {}) as {
      entries: { shared_folder_id: string; name: string }[];
    };
    const real = mountable.entries.find((e) =>
      e.shared_folder_id === meta.sharing_info?.shared_folder_id
    );
    const mount = await raw(C, "sharing/mount_folder", {
      shared_folder_id: real?.shared_folder_id,
    });
    await upload(C, `${mount.path_lower}/b-0000000000000002.syft`, encoder.encode("carol's"));
    assertEquals(await bob.listIncoming(), [ch]);
    for (let i = 0; i < 2; i++) {
      assertEquals((await bob.list(ch)).objects.map((o) => o.name), ["b-0000000000000001.syft"]);
      await assertRejects(() => bob.get(ch, "b-0000000000000002.syft"), SyftError);
    }
    const stranger = reports.filter((r) => r.includes("b-0000000000000002.syft"));
    assertEquals(stranger.length, 1, reports.join("\n"));
    assert(stranger[0]!.includes(dbx.accountId(C)), stranger[0]);
  });
});

Deno.test("a listing after changes() from an older cursor shows what it reported, not the cache", async () => {
  await rig(async ({ open }) => {
    const alice = open(A);
    const bob = open(B);
    const ch = await alice.openChannel(B);
    const start = (await bob.changes(null)).cursor;
    await alice.put(ch, "b-0000000000000001.syft", encoder.encode("1"));
    // A round that failed after its changes(): the caller keeps its old cursor,
    // while the plugin's cache has moved on.
    await bob.changes(start);
    await alice.put(ch, "b-0000000000000002.syft", encoder.encode("2"));
    const again = await bob.changes(start);
    assertEquals(again.channels, [ch]);
    assertEquals((await bob.list(ch)).objects.map((o) => o.name), [
      "b-0000000000000001.syft",
      "b-0000000000000002.syft",
    ]);
    // Nothing left to report: had the listing missed the second object, it would be lost.
    assertEquals((await bob.changes(again.cursor)).channels, []);
  });
});

Deno.test("an idle one-shot round costs one list_folder/continue, and its listing none", async () => {
  await rig(async ({ open, dbx }) => {
    const alice = open(A);
    const ch = await alice.openChannel(B);
    await alice.put(ch, "b-0000000000000001.syft", encoder.encode("1"));
    let r = await open(B).changes(null);
    r = await open(B).changes(r.cursor);
    // Each round is a new process (`syft sync`): a fresh plugin, the cursor kept by the core.
    const bob = open(B);
    dbx.resetCounts();
    r = await bob.changes(r.cursor);
    assertEquals(r.channels, []);
    assertEquals(bob.calls, 1);
    assertEquals(dbx.callCounts(B), { total: 1, "files/list_folder/continue": 1 });
    await alice.put(ch, "b-0000000000000002.syft", encoder.encode("2"));
    const busy = bob.calls;
    r = await bob.changes(r.cursor);
    assertEquals(r.channels, [ch]);
    assertEquals(bob.calls - busy, 1, "the channel's place came from the cursor");
    assertEquals((await bob.list(ch)).objects.length, 2);
  });
});

Deno.test("a new peer's channel is found at once by listIncoming and by rounds within the invitation period", async () => {
  await rig(async ({ open, dbx }) => {
    let t = Date.now();
    const clock = () => t;
    await open(A).openChannel(B);
    let r = await open(B, null, clock).changes(null);
    // carol runs `syft peer add bob`: Dropbox tells bob nothing.
    const carol = await open(C).openChannel(B);
    t += INVITES_EVERY_MS / 2;
    r = await open(B, null, clock).changes(r.cursor);
    assertEquals(r.channels, [], "not looked for yet: the last look is recent");
    // `syft peer list` asks every time.
    assertEquals((await open(B, null, clock).listIncoming()).map((c) => c.sender), [A, C]);
    t += INVITES_EVERY_MS / 2;
    dbx.resetCounts();
    r = await open(B, null, clock).changes(r.cursor);
    assertEquals(r.channels, [carol], "found once the period is over");
    assertEquals(dbx.callCounts(B)["sharing/list_mountable_folders"], 1);
    dbx.resetCounts();
    r = await open(B, null, clock).changes(r.cursor);
    assertEquals([r.channels, dbx.callCounts(B).total], [[], 1], "idle again: one call");
  });
});

Deno.test("while a channel of ours awaits its answer, every round looks for it", async () => {
  await rig(async ({ open, dbx }) => {
    const t = Date.now();
    const clock = () => t;
    let r = await open(A, null, clock).changes(null);
    // `syft peer add bob` in another process: alice's rounds learn it from the listing.
    await open(A).openChannel(B);
    r = await open(A, null, clock).changes(r.cursor);
    assertEquals(r.channels, []);
    // bob approves: his channel to alice is alice's answer, looked for at once.
    const answer = await open(B).openChannel(A);
    r = await open(A, null, clock).changes(r.cursor);
    assertEquals(r.channels, [answer]);
    dbx.resetCounts();
    r = await open(A, null, clock).changes(r.cursor);
    assertEquals([r.channels, dbx.callCounts(A).total], [[], 1], "answered: idle is one call");
  });
});

Deno.test("an idle watcher's round is one long-poll, and it wakes on a write in a known channel", async () => {
  await rig(async ({ open }) => {
    const alice = open(A);
    const bob = open(B);
    const ch = await alice.openChannel(B);
    const first = await bob.changes(null);
    const before = bob.calls;
    const idle = await bob.changes(first.cursor, { waitMs: 300 });
    assertEquals(idle.channels, []);
    assertEquals(bob.calls - before, 1, "the long-poll alone");
    const waiting = bob.changes(idle.cursor, { waitMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const putAt = performance.now();
    await alice.put(ch, "b-0000000000000001.syft", encoder.encode("wake"));
    assertEquals((await waiting).channels, [ch]);
    assert(performance.now() - putAt < 1000, "woke within a second");
  });
});

Deno.test("a large upload goes in a concurrent session of 8 MiB appends; a cut or unanswered append is retried", async () => {
  await rig(async ({ open, dbx }) => {
    const alice = open(A);
    const bob = open(B);
    const ch = await alice.openChannel(B);
    const size = 20 * 1024 * 1024 + 123;
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) body[i] = (i / 4096) & 0xff;
    dbx.faults.script({ kind: "drop", route: "files/upload_session/append_v2", user: A });
    dbx.faults.script({ kind: "lose-response", route: "files/upload_session/append_v2", user: A });
    dbx.resetCounts();
    await alice.put(ch, "x-big.syft", body);
    const counts = dbx.callCounts(A);
    assertEquals(counts["files/upload"], undefined, "no single upload for 20 MiB");
    assert((counts["files/upload_session/append_v2"] ?? 0) >= 3, JSON.stringify(counts));
    assertEquals(dbx.faults.injected(), { drop: 1, "lose-response": 1 });
    const back = await readAll(await bob.get(ch, "x-big.syft"));
    assertEquals(back.byteLength, size);
    assert(back.every((v, i) => v === body[i]), "the same bytes");
    await assertRejects(() => alice.put(ch, "x-big.syft", body), SyftError);
  });
});

Deno.test("an expired token is refreshed once and stored 0600; a revoked grant says syft auth dropbox", async () => {
  await rig(async ({ open, dbx }) => {
    const dir = await Deno.makeTempDir({ prefix: "syft-dropbox-edges-" });
    try {
      const alice = open(A, dir);
      dbx.expireAccessTokens(A);
      assertEquals((await alice.whoami()).email, A);
      const stored = await readDropboxTokens(dir);
      assertEquals(stored.email, A);
      assertEquals((await Deno.stat(`${dir}/${DROPBOX_TOKEN_FILE}`)).mode! & 0o777, 0o600);

      dbx.revoke(A);
      dbx.expireAccessTokens(A);
      const err = await assertRejects(() => alice.whoami(), SyftError);
      assertEquals(err.exitCode, 4);
      assertEquals(err.hint, "syft auth dropbox");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("a mount or its move into /syft that lost its answer is found where it went", async () => {
  await rig(async ({ open, raw, dbx }) => {
    const alice = open(A);
    const ch = await alice.openChannel(B);
    const toCarol = await alice.openChannel(C);
    await alice.put(ch, "b-0000000000000001.syft", encoder.encode("moved"));
    await alice.put(toCarol, "b-0000000000000001.syft", encoder.encode("mounted"));
    // The call happens, its answer is lost; the retry (ours, or the HTTP
    // client's on a reused connection) finds nothing left to do:
    // from_lookup/not_found for the move, already_mounted for the mount.
    dbx.faults.script({ kind: "lose-response", route: "files/move_v2", user: B });
    dbx.faults.script({ kind: "lose-response", route: "sharing/mount_folder", user: C });
    for (const [who, channel, bytes] of [[B, ch, "moved"], [C, toCarol, "mounted"]] as const) {
      const reader = open(who);
      assertEquals((await reader.changes(null)).channels, [channel]);
      const mounts = await raw(who, "sharing/list_mountable_folders", {}) as {
        entries: { name: string; path_lower?: string }[];
      };
      assertEquals(
        mounts.entries.find((e) => e.name === `syft1#${A}#${who}`)?.path_lower,
        `/syft/syft1#${A}#${who}`,
      );
      assertEquals((await reader.list(channel)).objects, [
        { name: "b-0000000000000001.syft", size: bytes.length },
      ]);
      assertEquals(
        await readAll(await reader.get(channel, "b-0000000000000001.syft")),
        encoder.encode(bytes),
      );
    }
    assertEquals(dbx.faults.injected(), { "lose-response": 2 });
  });
});

Deno.test("a put whose answer was lost succeeds, small or in a session; another's bytes there are E_EXISTS", async () => {
  await rig(async ({ open, dbx }) => {
    const alice = open(A);
    const bob = open(B);
    const ch = await alice.openChannel(B);
    await alice.put(ch, "warm.syft", encoder.encode("a reused connection"));
    dbx.faults.script({ kind: "lose-response", route: "files/upload", user: A });
    await alice.put(ch, "b-0000000000000001.syft", encoder.encode("once"));
    const big = new Uint8Array(9 * 1024 * 1024).fill(7);
    dbx.faults.script({ kind: "lose-response", route: "files/upload_session/finish", user: A });
    await alice.put(ch, "x-big.syft", big);
    assertEquals(dbx.faults.injected(), { "lose-response": 2 });
    assertEquals(
      await readAll(await bob.get(ch, "b-0000000000000001.syft")),
      encoder.encode("once"),
    );
    assertEquals((await readAll(await bob.get(ch, "x-big.syft"))).byteLength, big.byteLength);
    const err = await assertRejects(
      () => alice.put(ch, "b-0000000000000001.syft", encoder.encode("twice")),
      SyftError,
    );
    assertEquals(err.code, "E_EXISTS");
  });
});
