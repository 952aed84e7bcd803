/**
 * The fake Dropbox, over real HTTP with fetch: what it must share with
 * Dropbox for a plugin tested against it to work against the real one.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import {
  BLOCK_SIZE,
  dropboxContentHash,
  type FakeDropbox,
  s256,
  startFakeDropbox,
} from "./dropbox_server.ts";

const A = "a@x.org", B = "b@y.org", C = "c@z.org";

/** A fake with three users, closed when `fn` ends. */
async function withDropbox(
  fn: (dbx: FakeDropbox) => Promise<void>,
  options: Parameters<typeof startFakeDropbox>[0] = {},
): Promise<void> {
  const dbx = await startFakeDropbox({ users: [A, B, C], ...options });
  try {
    await fn(dbx);
  } finally {
    await dbx.close();
  }
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** Status and body: JSON where it parses, else the plain text Dropbox sends for 400s. */
async function parsed(res: Response): Promise<{ status: number; body: Json }> {
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/**
 * A minimal Dropbox client for one token; `fresh` opens a new connection per
 * call, so a cut connection is seen as one (on a reused connection fetch may
 * silently resend the request).
 */
function client(dbx: FakeDropbox, token: string, fresh?: Deno.HttpClient) {
  const fetch = (url: string, init: RequestInit) =>
    globalThis.fetch(url, fresh ? { ...init, client: fresh } : init);
  /** An RPC call: status, and the body as JSON (or text when not JSON). */
  const rpc = async (route: string, arg?: unknown): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${dbx.url}/api/2/${route}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        ...(arg === undefined ? {} : { "content-type": "application/json" }),
      },
      body: arg === undefined ? null : JSON.stringify(arg),
    });
    return await parsed(res);
  };
  const ok = async (route: string, arg?: unknown): Promise<Json> => {
    const r = await rpc(route, arg);
    if (r.status !== 200) throw new Error(`${route}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  /** A content upload route. */
  const content = async (
    route: string,
    arg: unknown,
    data: Uint8Array | string = new Uint8Array(0),
  ): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${dbx.url}/content/2/${route}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/octet-stream",
        "dropbox-api-arg": headerJson(arg),
      },
      body: (typeof data === "string" ? new TextEncoder().encode(data) : data) as Uint8Array<
        ArrayBuffer
      >,
    });
    return await parsed(res);
  };
  const upload = (path: string, data: Uint8Array | string, extra: Record<string, unknown> = {}) =>
    content("files/upload", {
      path,
      mode: "add",
      autorename: false,
      strict_conflict: true,
      mute: true,
      ...extra,
    }, data);
  const download = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${dbx.url}/content/2/files/download`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "dropbox-api-arg": headerJson({ path }),
        ...headers,
      },
    });
  return { rpc, ok, content, upload, download };
}

const text = (s: string) => new TextEncoder().encode(s);

/** JSON for an HTTP header, non-ASCII escaped as Dropbox asks. */
function headerJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

Deno.test("fake dropbox: OAuth code flow with PKCE and state, refresh, revocation and expiry as Dropbox answers them", async () => {
  await withDropbox(async (dbx) => {
    const verifier = "v".repeat(20) + "-._~" + "0123456789abcdefghijklmnop";
    const redirect = "http://127.0.0.1:53682/callback";
    const authorize = (extra: Record<string, string> = {}) =>
      fetch(
        `${dbx.url}/oauth2/authorize?${new URLSearchParams({
          client_id: dbx.appKey,
          response_type: "code",
          redirect_uri: redirect,
          state: "st4te",
          token_access_type: "offline",
          code_challenge: s256(verifier),
          code_challenge_method: "S256",
          scope: "account_info.read files.content.write",
          ...extra,
        })}`,
        { redirect: "manual" },
      );
    const token = async (form: Record<string, string>) => {
      const res = await fetch(`${dbx.url}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form),
      });
      return { status: res.status, body: await res.json() };
    };
    dbx.approveAs(B);
    const res = await authorize();
    assertEquals(res.status, 302);
    const back = new URL(res.headers.get("location")!);
    assertEquals([back.origin + back.pathname, back.searchParams.get("state")], [
      redirect,
      "st4te",
    ]);
    const code = back.searchParams.get("code")!;
    const exchange = (over: Record<string, string> = {}) =>
      token({
        grant_type: "authorization_code",
        code,
        client_id: dbx.appKey,
        redirect_uri: redirect,
        code_verifier: verifier,
        ...over,
      });
    // A wrong verifier burns the code, as any use does.
    const wrong = await exchange({ code_verifier: "w".repeat(43) });
    assertEquals([wrong.status, wrong.body.error], [400, "invalid_grant"]);
    assertEquals((await exchange()).body.error, "invalid_grant");

    const fresh = async () =>
      new URL((await authorize()).headers.get("location")!).searchParams.get("code")!;
    const mismatch = await exchange({ code: await fresh(), redirect_uri: "http://127.0.0.1:1/" });
    assertEquals(mismatch.body.error, "invalid_grant");
    const granted = await exchange({ code: await fresh() });
    assertEquals(granted.status, 200);
    assertEquals(granted.body.token_type, "bearer");
    assertEquals(granted.body.scope, "account_info.read files.content.write");
    assertEquals(granted.body.account_id, dbx.accountId(B));
    assert(granted.body.expires_in > 0 && typeof granted.body.refresh_token === "string");

    const me = await client(dbx, granted.body.access_token).ok("users/get_current_account");
    assertEquals([me.email, me.account_id], [B, dbx.accountId(B)]);
    // The token holds only the scopes asked for.
    const listed = await client(dbx, granted.body.access_token).rpc("files/list_folder", {
      path: "",
    });
    assertEquals([listed.status, listed.body.error[".tag"]], [401, "missing_scope"]);
    assertEquals(listed.body.error.required_scope, "files.metadata.read");

    const refreshed = await token({
      grant_type: "refresh_token",
      refresh_token: granted.body.refresh_token,
      client_id: dbx.appKey,
    });
    assertEquals(refreshed.status, 200);
    dbx.expireAccessTokens(B);
    const expired = await client(dbx, refreshed.body.access_token).rpc("users/get_current_account");
    assertEquals([expired.status, expired.body.error[".tag"]], [401, "expired_access_token"]);
    dbx.revoke(B);
    const revoked = await token({
      grant_type: "refresh_token",
      refresh_token: granted.body.refresh_token,
      client_id: dbx.appKey,
    });
    assertEquals([revoked.status, revoked.body.error], [400, "invalid_grant"]);
    // auth/token/revoke ends the access token and the refresh token behind it.
    const second = await exchange({ code: await fresh() });
    dbx.approveAs(C);
    const other = await exchange({ code: await fresh() });
    const bClient = client(dbx, second.body.access_token);
    assertEquals((await bClient.rpc("auth/token/revoke")).status, 200);
    const afterRevoke = await bClient.rpc("users/get_current_account");
    assertEquals([afterRevoke.status, afterRevoke.body.error[".tag"]], [
      401,
      "invalid_access_token",
    ]);
    const refreshAfter = await token({
      grant_type: "refresh_token",
      refresh_token: second.body.refresh_token,
      client_id: dbx.appKey,
    });
    assertEquals(refreshAfter.body.error, "invalid_grant");
    assertEquals(
      (await client(dbx, other.body.access_token).rpc("users/get_current_account")).status,
      200,
    );
    const unknownApp = await authorize({ client_id: "nope" });
    assertEquals(unknownApp.status, 400);
    await unknownApp.body?.cancel();
    dbx.approveAs("deny");
    const denied = new URL((await authorize()).headers.get("location")!);
    assertEquals(denied.searchParams.get("error"), "access_denied");
  });
});

Deno.test("fake dropbox: malformed calls are plain-text 400s, a bad token a 401, and routes live on their own host", async () => {
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A));
    const noType = await fetch(`${dbx.url}/api/2/files/list_folder`, {
      method: "POST",
      headers: { authorization: `Bearer ${dbx.token(A)}` },
      body: JSON.stringify({ path: "" }),
    });
    assertEquals(noType.status, 400);
    assertMatch(await noType.text(), /Content-Type/);
    const unknownField = await a.rpc("files/list_folder", { path: "", recursve: true });
    assertEquals(unknownField.status, 400);
    assertMatch(unknownField.body, /unknown field 'recursve'/);
    const slash = await a.rpc("files/list_folder", { path: "/" });
    assertMatch(slash.body, /empty string rather than as "\/"/);
    const badMode = await a.upload("/x", "x", { mode: "append" });
    assertEquals(badMode.status, 400);
    const anon = await fetch(`${dbx.url}/api/2/users/get_current_account`, { method: "POST" });
    assertEquals(anon.status, 400);
    await anon.body?.cancel();
    const bad = await client(dbx, "sl.nope").rpc("users/get_current_account");
    assertEquals([bad.status, bad.body.error[".tag"]], [401, "invalid_access_token"]);
    const wrongHost = await fetch(`${dbx.url}/api/2/files/upload`, { method: "POST" });
    assertEquals(wrongHost.status, 404);
    await wrongHost.body?.cancel();
    const raw = await fetch(`${dbx.url}/content/2/files/upload`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${dbx.token(A)}`,
        "content-type": "application/octet-stream",
        "dropbox-api-arg": JSON.stringify({ path: "/café" }), // not escaped
      },
      body: "x",
    });
    assertEquals(raw.status, 400);
    assertMatch(await raw.text(), /non-ASCII/);
    assertEquals((await a.ok("check/user", { query: "ping" })).result, "ping");
    const noArg = await a.rpc("users/get_current_account", null);
    assertEquals(noArg.status, 200);
  });
});

Deno.test("fake dropbox: upload modes: add is create-only (identical content is no conflict), autorename, overwrite, strict update, content hash checked", async () => {
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A));
    const first = await a.upload("/syft/o/one.bin", "hello", {
      content_hash: dropboxContentHash(text("hello")),
    });
    assertEquals(first.status, 200);
    assertEquals(first.body[".tag"], undefined); // upload's result is FileMetadata, untagged
    assertEquals(first.body.content_hash, dropboxContentHash(text("hello")));
    assertEquals([first.body.size, first.body.path_display], [5, "/syft/o/one.bin"]);
    assertMatch(first.body.rev, /^[0-9a-f]{9,}$/);
    assertMatch(first.body.id, /^id:/);
    // A retry after a lost response: same bytes, same file, no new revision.
    const again = await a.upload("/syft/o/one.bin", "hello");
    assertEquals([again.status, again.body.rev], [200, first.body.rev]);
    const clash = await a.upload("/syft/o/one.bin", "other");
    assertEquals(clash.status, 409);
    assertMatch(clash.body.error_summary, /^path\/conflict\/file\//);
    assertEquals(clash.body.error[".tag"], "path");
    assertEquals(clash.body.error.reason, { ".tag": "conflict", conflict: { ".tag": "file" } });
    const renamed = await a.upload("/syft/o/one.bin", "other", { autorename: true });
    assertEquals(renamed.body.path_display, "/syft/o/one (1).bin");
    const over = await a.upload("/syft/o/one.bin", "third", { mode: "overwrite" });
    assertEquals(over.body.id, first.body.id);
    assert(over.body.rev !== first.body.rev);
    const stale = await a.upload("/syft/o/one.bin", "third", {
      mode: { ".tag": "update", update: first.body.rev },
    });
    assertMatch(stale.body.error_summary, /^path\/conflict\/file\//);
    const onFolder = await a.upload("/syft/o", "x");
    assertMatch(onFolder.body.error_summary, /^path\/conflict\/folder\//);
    const underFile = await a.upload("/syft/o/one.bin/deeper", "x");
    assertMatch(underFile.body.error_summary, /^path\/conflict\/file_ancestor\//);
    const mismatch = await a.upload("/syft/o/two.bin", "hello", {
      content_hash: dropboxContentHash(text("hellO")),
    });
    assertEquals(mismatch.status, 409);
    assertMatch(mismatch.body.error_summary, /^content_hash_mismatch\//);
    assertEquals((await a.rpc("files/get_metadata", { path: "/syft/o/two.bin" })).status, 409);
    const malformed = await a.upload("/syft/o/", "x");
    assertMatch(malformed.body.error_summary, /^path\/malformed_path\//);
    const folder = await a.ok("files/create_folder_v2", { path: "/syft/p" });
    // CreateFolderResult holds a FolderMetadata struct: no `.tag`.
    assertEquals([folder.metadata[".tag"], folder.metadata.path_display], [undefined, "/syft/p"]);
    const twice = await a.rpc("files/create_folder_v2", { path: "/SYFT/P" });
    assertMatch(twice.body.error_summary, /^path\/conflict\/folder\//);
    const gone = await a.ok("files/delete_v2", { path: "/syft/o/one (1).bin" });
    assertEquals(gone.metadata.name, "one (1).bin");
    const missing = await a.rpc("files/delete_v2", { path: "/syft/o/one (1).bin" });
    assertMatch(missing.body.error_summary, /^path_lookup\/not_found\//);
  });
});

Deno.test("fake dropbox: the content hash is SHA-256 over the SHA-256 of each 4 MiB block", async () => {
  const { createHash } = await import("node:crypto");
  const bytes = new Uint8Array(BLOCK_SIZE + 10).map((_, i) => i & 255);
  const blocks = [bytes.subarray(0, BLOCK_SIZE), bytes.subarray(BLOCK_SIZE)]
    .map((b) => createHash("sha256").update(b).digest());
  const expected = createHash("sha256").update(blocks[0]!).update(blocks[1]!).digest("hex");
  assertEquals(dropboxContentHash(bytes), expected);
  assertEquals(
    dropboxContentHash(new Uint8Array(0)),
    createHash("sha256").digest("hex"),
  );
});

Deno.test("fake dropbox: paths are case-insensitive and case-preserving", async () => {
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A));
    await a.upload("/Syft/Mixed/File.TXT", "1");
    const meta = await a.ok("files/get_metadata", { path: "/syft/MIXED/file.txt" });
    assertEquals([meta.path_lower, meta.path_display, meta.name], [
      "/syft/mixed/file.txt",
      "/Syft/Mixed/File.TXT",
      "File.TXT",
    ]);
    // A new file takes the case of the folders that exist.
    const next = await a.upload("/SYFT/mixed/second.txt", "2");
    assertEquals(next.body.path_display, "/Syft/Mixed/second.txt");
    const clash = await a.upload("/syft/mixed/FILE.txt", "different");
    assertMatch(clash.body.error_summary, /^path\/conflict\/file\//);
    const byId = await a.ok("files/get_metadata", { path: meta.id });
    assertEquals(byId.path_lower, "/syft/mixed/file.txt");
    const root = await a.rpc("files/get_metadata", { path: "" });
    assertEquals(root.status, 400);
  });
});

Deno.test("fake dropbox: upload sessions check offsets (incorrect_offset gives correct_offset), concurrent appends in 4 MiB units, and a finished session is gone", async () => {
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A));
    const started = await a.content("files/upload_session/start", {}, "abc");
    const id = started.body.session_id as string;
    const resend = await a.content("files/upload_session/append_v2", {
      cursor: { session_id: id, offset: 0 },
    }, "abc");
    assertEquals(resend.status, 409);
    assertMatch(resend.body.error_summary, /^incorrect_offset\//);
    assertEquals(resend.body.error, { ".tag": "incorrect_offset", correct_offset: 3 });
    const ok = await a.content("files/upload_session/append_v2", {
      cursor: { session_id: id, offset: 3 },
      content_hash: dropboxContentHash(text("def")),
    }, "def");
    assertEquals([ok.status, ok.body], [200, null]);
    const corrupt = await a.content("files/upload_session/append_v2", {
      cursor: { session_id: id, offset: 6 },
      content_hash: dropboxContentHash(text("xyz")),
    }, "XYZ");
    assertMatch(corrupt.body.error_summary, /^content_hash_mismatch\//);
    const commit = { path: "/big/file.bin", mode: "add", autorename: false, strict_conflict: true };
    const early = await a.content("files/upload_session/finish", {
      cursor: { session_id: id, offset: 2 },
      commit,
    }, "ghi");
    assertMatch(early.body.error_summary, /^lookup_failed\/incorrect_offset\//);
    assertEquals(early.body.error.lookup_failed.correct_offset, 6);
    const done = await a.content("files/upload_session/finish", {
      cursor: { session_id: id, offset: 6 },
      commit,
    }, "ghi");
    assertEquals(done.status, 200);
    assertEquals([done.body.size, done.body.content_hash], [
      9,
      dropboxContentHash(text("abcdefghi")),
    ]);
    const twice = await a.content("files/upload_session/finish", {
      cursor: { session_id: id, offset: 9 },
      commit,
    });
    assertMatch(twice.body.error_summary, /^lookup_failed\/not_found\//);
    // Another user cannot use the session id.
    const theirs = await client(dbx, dbx.token(B)).content("files/upload_session/append_v2", {
      cursor: {
        session_id: (await a.content("files/upload_session/start", {})).body.session_id,
        offset: 0,
      },
    }, "x");
    assertMatch(theirs.body.error_summary, /^not_found\//);
    assertEquals(dbx.uploadSessionCount(), 1);
    dbx.expireUploadSessions();
    assertEquals(dbx.uploadSessionCount(), 0);

    const block = new Uint8Array(BLOCK_SIZE).fill(7);
    const conc = (await a.content("files/upload_session/start", { session_type: "concurrent" }))
      .body.session_id;
    const withData = await a.content("files/upload_session/start", {
      session_type: { ".tag": "concurrent" },
    }, "x");
    assertMatch(withData.body.error_summary, /^concurrent_session_data_not_allowed\//);
    const odd = await a.content("files/upload_session/append_v2", {
      cursor: { session_id: conc, offset: 0 },
    }, "short");
    assertMatch(odd.body.error_summary, /^concurrent_session_invalid_data_size\//);
    const misplaced = await a.content("files/upload_session/append_v2", {
      cursor: { session_id: conc, offset: 5 },
      close: true,
    }, "tail");
    assertMatch(misplaced.body.error_summary, /^concurrent_session_invalid_offset\//);
    // The tail may arrive first; the session is whole once both are in.
    await a.content("files/upload_session/append_v2", {
      cursor: { session_id: conc, offset: BLOCK_SIZE },
      close: true,
    }, "tail");
    const notYet = await a.content("files/upload_session/finish", {
      cursor: { session_id: conc, offset: BLOCK_SIZE + 4 },
      commit: { path: "/big/conc.bin" },
    });
    assertMatch(notYet.body.error_summary, /^concurrent_session_missing_data\//);
    await a.content("files/upload_session/append_v2", {
      cursor: { session_id: conc, offset: 0 },
    }, block);
    const whole = await a.content("files/upload_session/finish", {
      cursor: { session_id: conc, offset: BLOCK_SIZE + 4 },
      commit: { path: "/big/conc.bin" },
    });
    const expected = new Uint8Array(BLOCK_SIZE + 4);
    expected.set(block);
    expected.set(text("tail"), BLOCK_SIZE);
    assertEquals(whole.body.content_hash, dropboxContentHash(expected), JSON.stringify(whole.body));
  });
});

Deno.test("fake dropbox: download gives bytes with Dropbox-API-Result, honours Range, and names what is missing", async () => {
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A));
    await a.upload("/d/été.txt", "0123456789");
    const res = await a.download("/D/ÉTÉ.txt");
    assertEquals(res.status, 200);
    assertEquals(await res.text(), "0123456789");
    const header = res.headers.get("dropbox-api-result")!;
    assert(/^[\x20-\x7e]*$/.test(header), "the result header is ASCII");
    assertEquals(JSON.parse(header).path_display, "/d/été.txt");
    const part = await a.download("/d/été.txt", { range: "bytes=2-4" });
    assertEquals([part.status, await part.text()], [206, "234"]);
    assertEquals(part.headers.get("content-range"), "bytes 2-4/10");
    const tail = await a.download("/d/été.txt", { range: "bytes=-3" });
    assertEquals(await tail.text(), "789");
    const beyond = await a.download("/d/été.txt", { range: "bytes=20-" });
    assertEquals(beyond.status, 416);
    await beyond.body?.cancel();
    const folder = await a.download("/d");
    assertEquals(folder.status, 409);
    assertMatch((await folder.json()).error_summary, /^path\/not_file\//);
    const missing = await a.download("/d/none");
    assertMatch((await missing.json()).error_summary, /^path\/not_found\//);
    const etag = res.headers.get("etag")!;
    const cached = await a.download("/d/été.txt", { "if-none-match": etag });
    assertEquals(cached.status, 304);
    await cached.body?.cancel();
    // A download may also be a GET with its argument and token in the URL.
    const viaQuery = await fetch(
      `${dbx.url}/content/2/files/download?${new URLSearchParams({
        arg: JSON.stringify({ path: "/d/été.txt" }),
        authorization: `Bearer ${dbx.token(A)}`,
      })}`,
    );
    assertEquals(await viaQuery.text(), "0123456789");
  });
});

Deno.test("fake dropbox: list_folder pages, continue reports changes (deleted included) and a long-poll wakes on a write", async () => {
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A));
    for (const n of ["1", "2", "3"]) await a.upload(`/syft/ch/f${n}`, n);
    await a.upload("/elsewhere", "x");
    const first = await a.ok("files/list_folder", { path: "/syft", recursive: true, limit: 2 });
    assertEquals([first.entries.length, first.has_more], [2, true]);
    const entries = [...first.entries];
    let page = first;
    while (page.has_more) {
      page = await a.ok("files/list_folder/continue", { cursor: page.cursor });
      entries.push(...page.entries);
    }
    assertEquals(entries.map((e: Json) => `${e[".tag"]} ${e.path_lower}`), [
      "folder /syft",
      "folder /syft/ch",
      "file /syft/ch/f1",
      "file /syft/ch/f2",
      "file /syft/ch/f3",
    ]);
    // The same cursor again gives the same page (a retry after a lost answer).
    const replay = await a.ok("files/list_folder/continue", { cursor: first.cursor });
    assertEquals(replay.entries.map((e: Json) => e.path_lower), ["/syft/ch/f1", "/syft/ch/f2"]);
    const rest = page;
    const idle = await a.ok("files/list_folder/continue", { cursor: rest.cursor });
    assertEquals([idle.entries, idle.has_more], [[], false]);

    const poll = (cursor: string, timeout = 30) =>
      fetch(`${dbx.url}/notify/2/files/list_folder/longpoll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ cursor, timeout }),
      }).then((r) => r.json());
    const started = performance.now();
    const waiting = poll(idle.cursor);
    await new Promise((r) => setTimeout(r, 50));
    await a.upload("/elsewhere2", "outside the listed folder: no wake-up");
    await a.upload("/syft/ch/f4", "4");
    assertEquals(await waiting, { changes: true });
    assert(performance.now() - started < 1000, "woken within a second");
    await a.ok("files/delete_v2", { path: "/syft/ch/f1" });
    const changes = await a.ok("files/list_folder/continue", { cursor: idle.cursor });
    assertEquals(changes.entries.map((e: Json) => `${e[".tag"]} ${e.path_lower}`), [
      "file /syft/ch/f4",
      "deleted /syft/ch/f1",
    ]);
    const latest = await a.ok("files/list_folder/get_latest_cursor", {
      path: "/syft",
      recursive: true,
    });
    assertEquals((await a.ok("files/list_folder/continue", { cursor: latest.cursor })).entries, []);
    const tooShort = await fetch(`${dbx.url}/notify/2/files/list_folder/longpoll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ cursor: latest.cursor, timeout: 10 }),
    });
    assertEquals(tooShort.status, 400);
    await tooShort.body?.cancel();
    const forgotten = await fetch(`${dbx.url}/notify/2/files/list_folder/longpoll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ cursor: "AAH" + "x".repeat(24) }),
    });
    assertEquals([forgotten.status, (await forgotten.json()).error[".tag"]], [409, "reset"]);
    assertEquals(dbx.callCounts(A)["files/list_folder/longpoll"], 1);
  }, { longpollSecondMs: 2 });
});

Deno.test("fake dropbox: an idle long-poll times out with changes false, carries backoff when set, and is answered when the fake closes", async () => {
  let pending: Promise<unknown> | null = null;
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A));
    const { cursor } = await a.ok("files/list_folder/get_latest_cursor", { path: "" });
    dbx.setFaults({ longpollBackoffSeconds: 5 });
    const started = performance.now();
    const res = await fetch(`${dbx.url}/notify/2/files/list_folder/longpoll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ cursor, timeout: 30 }),
    });
    assertEquals(await res.json(), { changes: false, backoff: 5 });
    assert(performance.now() - started >= 55, "waited its (scaled) 30 s");
    pending = fetch(`${dbx.url}/notify/2/files/list_folder/longpoll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ cursor, timeout: 480 }),
    }).then((r) => r.json());
    await new Promise((r) => setTimeout(r, 20));
  }, { longpollSecondMs: 2 });
  assertEquals(await pending, { changes: false, backoff: 5 });
});

Deno.test("fake dropbox: a shared folder is mounted by a viewer under a free name, members are listed, viewers cannot write, content is live", async () => {
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A)), b = client(dbx, dbx.token(B));
    const c = client(dbx, dbx.token(C));
    const channel = `/syft/syft1#${A}#${B}`;
    await a.upload(`${channel}/m-0001.syft`, "sealed");
    const shared = await a.ok("sharing/share_folder", { path: channel });
    assertEquals(shared[".tag"], "complete");
    const id = shared.shared_folder_id as string;
    assertEquals(shared.path_lower, channel);
    const again = await a.rpc("sharing/share_folder", { path: channel });
    assertMatch(again.body.error_summary, /^bad_path\/already_shared\//);
    await a.ok("sharing/add_folder_member", {
      shared_folder_id: id,
      members: [{ member: { ".tag": "email", email: B }, access_level: { ".tag": "viewer" } }],
      quiet: true,
    });

    // B already has a folder of that name: the mount lands beside it.
    await b.ok("files/create_folder_v2", { path: `/syft1#${A}#${B}` });
    const mountable = await b.ok("sharing/list_mountable_folders", {});
    assertEquals(mountable.entries.map((e: Json) => e.shared_folder_id), [id]);
    assertEquals(mountable.entries[0].path_lower, undefined);
    assertEquals(mountable.entries[0].access_type[".tag"], "viewer");
    assertEquals(
      (await a.ok("sharing/list_folders", {})).entries.map((e: Json) => e.access_type[".tag"]),
      ["owner"],
    );
    const mounted = await b.ok("sharing/mount_folder", { shared_folder_id: id });
    assertEquals(mounted.path_display, `/syft1#${A}#${B} (1)`);
    const twice = await b.rpc("sharing/mount_folder", { shared_folder_id: id });
    assertMatch(twice.body.error_summary, /^already_mounted\//);

    const members = await b.ok("sharing/list_folder_members", { shared_folder_id: id });
    assertEquals(
      members.users.map((u: Json) => [u.access_type[".tag"], u.user.email, u.user.account_id]),
      [["owner", A, dbx.accountId(A)], ["viewer", B, dbx.accountId(B)]],
    );
    const outsider = await c.rpc("sharing/list_folder_members", { shared_folder_id: id });
    assertMatch(outsider.body.error_summary, /^not_a_member\//);
    assertMatch(
      (await c.rpc("sharing/mount_folder", { shared_folder_id: id })).body.error_summary,
      /^access_error\/not_a_member\//,
    );
    assertEquals(
      (await b.ok("sharing/get_folder_metadata", { shared_folder_id: id })).name,
      `syft1#${A}#${B}`,
    );

    const listing = await b.ok("files/list_folder", { path: "", recursive: true });
    const file = listing.entries.find((e: Json) => e.name === "m-0001.syft");
    assertEquals(file.path_lower, `/syft1#${A}#${B} (1)/m-0001.syft`);
    assertEquals(file.sharing_info, {
      read_only: true,
      parent_shared_folder_id: id,
      modified_by: dbx.accountId(A),
    });
    const mountEntry = listing.entries.find((e: Json) => e.shared_folder_id === id);
    assertEquals(mountEntry.sharing_info.shared_folder_id, id);

    const refused = await b.upload(`${mounted.path_lower}/fake.syft`, "forged");
    assertEquals(refused.status, 409);
    assertMatch(refused.body.error_summary, /^path\/no_write_permission\//);
    const noDelete = await b.rpc("files/delete_v2", { path: file.path_lower });
    assertMatch(noDelete.body.error_summary, /^path_write\/no_write_permission\//);

    // The owner writes; the viewer's cursor sees it at its own mount path, and reads it.
    await a.upload(`${channel}/m-0002.syft`, "next");
    const delta = await b.ok("files/list_folder/continue", { cursor: listing.cursor });
    assertEquals(delta.entries.map((e: Json) => e.path_display), [
      `/syft1#${A}#${B} (1)/m-0002.syft`,
    ]);
    assertEquals(await (await b.download(delta.entries[0].id)).text(), "next");

    // A second folder for B: the list comes in pages.
    const second = (await a.ok("sharing/share_folder", { path: "/syft/second" })).shared_folder_id;
    await a.ok("sharing/add_folder_member", {
      shared_folder_id: second,
      members: [{ member: { ".tag": "email", email: B } }],
    });
    const page1 = await b.ok("sharing/list_mountable_folders", { limit: 1 });
    const page2 = await b.ok("sharing/list_mountable_folders/continue", { cursor: page1.cursor });
    assertEquals([...page1.entries, ...page2.entries].map((e: Json) => e.shared_folder_id), [
      id,
      second,
    ]);
    assertEquals(page2.cursor, undefined);

    // An e-mail without an account is an invitee, until it signs up.
    const D = "d@w.org";
    await a.ok("sharing/add_folder_member", {
      shared_folder_id: id,
      members: [{ member: { ".tag": "email", email: D }, access_level: "viewer" }],
    });
    const withInvitee = await a.ok("sharing/list_folder_members", { shared_folder_id: id });
    assertEquals(withInvitee.invitees.map((i: Json) => i.invitee.email), [D]);
    const d = client(dbx, dbx.addUser(D).token);
    assertEquals(
      (await d.ok("sharing/list_mountable_folders", {})).entries.map((e: Json) =>
        e.shared_folder_id
      ),
      [id],
    );
    const badEmail = await a.rpc("sharing/add_folder_member", {
      shared_folder_id: id,
      members: [{ member: { ".tag": "email", email: "not-an-email" } }],
    });
    assertMatch(badEmail.body.error_summary, /^bad_member\/invalid_email\//);
    const byViewer = await b.rpc("sharing/add_folder_member", {
      shared_folder_id: id,
      members: [{ member: { ".tag": "email", email: C } }],
    });
    assertMatch(byViewer.body.error_summary, /^no_permission\//);

    const job = await a.ok("sharing/share_folder", { path: "/syft/async", force_async: true });
    assertEquals(job[".tag"], "async_job_id");
    const poll = () => a.ok("sharing/check_share_job_status", { async_job_id: job.async_job_id });
    assertEquals((await poll())[".tag"], "in_progress");
    const done = await poll();
    assertEquals([done[".tag"], done.path_lower], ["complete", "/syft/async"]);
  });
});

Deno.test("fake dropbox: move_v2 renames and moves subtrees, moves a member's mount (its content follows) and refuses what Dropbox refuses", async () => {
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A)), b = client(dbx, dbx.token(B));
    await a.upload("/tmp/dir/x.txt", "x");
    await a.upload("/tmp/other.txt", "o");
    const moved = await a.ok("files/move_v2", { from_path: "/tmp/dir", to_path: "/Kept/Dir" });
    assertEquals([moved.metadata[".tag"], moved.metadata.path_display], ["folder", "/Kept/Dir"]);
    assertEquals(
      (await a.ok("files/get_metadata", { path: "/kept/dir/x.txt" })).path_display,
      "/Kept/Dir/x.txt",
    );
    assertEquals((await a.rpc("files/get_metadata", { path: "/tmp/dir/x.txt" })).status, 409);
    const caseOnly = await a.ok("files/move_v2", {
      from_path: "/tmp/other.txt",
      to_path: "/tmp/OTHER.txt",
    });
    assertEquals(caseOnly.metadata.path_display, "/tmp/OTHER.txt");
    const taken = await a.rpc("files/move_v2", {
      from_path: "/tmp/OTHER.txt",
      to_path: "/kept/dir/x.txt",
    });
    assertMatch(taken.body.error_summary, /^to\/conflict\/file\//);
    const into = await a.rpc("files/move_v2", { from_path: "/kept", to_path: "/kept/dir/inner" });
    assertMatch(into.body.error_summary, /^cant_move_folder_into_itself\//);
    const none = await a.rpc("files/move_v2", { from_path: "/nothing", to_path: "/else" });
    assertMatch(none.body.error_summary, /^from_lookup\/not_found\//);

    const channel = `/syft/syft1#${A}#${B}`;
    await a.upload(`${channel}/m-1`, "1");
    const id = (await a.ok("sharing/share_folder", { path: channel })).shared_folder_id;
    await a.ok("sharing/add_folder_member", {
      shared_folder_id: id,
      members: [{ member: { ".tag": "email", email: B }, access_level: "viewer" }],
      quiet: true,
    });
    const mount = await b.ok("sharing/mount_folder", { shared_folder_id: id });
    const { cursor } = await b.ok("files/list_folder/get_latest_cursor", {
      path: "",
      recursive: true,
    });
    const relocated = await b.ok("files/move_v2", {
      from_path: mount.path_lower,
      to_path: `/syft/syft1#${A}#${B}`,
      allow_shared_folder: true,
      autorename: true,
    });
    assertEquals(relocated.metadata.shared_folder_id, id);
    assertEquals(
      (await b.ok("sharing/get_folder_metadata", { shared_folder_id: id })).path_lower,
      channel,
    );
    await a.upload(`${channel}/m-2`, "2");
    const seen = await b.ok("files/list_folder/continue", { cursor });
    assertEquals(seen.entries.map((e: Json) => `${e[".tag"]} ${e.path_lower}`), [
      "folder /syft", // made for the move, before it
      `deleted ${mount.path_lower}`,
      `folder ${channel}`,
      `file ${channel}/m-1`,
      `file ${channel}/m-2`,
    ]);
    const viewerMove = await b.rpc("files/move_v2", {
      from_path: `${channel}/m-1`,
      to_path: "/mine",
    });
    assertMatch(viewerMove.body.error_summary, /^from_write\/no_write_permission\//);
    await a.ok("sharing/share_folder", { path: "/other-share" });
    const nest = await a.rpc("files/move_v2", { from_path: channel, to_path: "/other-share/in" });
    assertMatch(nest.body.error_summary, /^cant_nest_shared_folder\//);

    // The member deleting its mount unmounts it; it can mount it again.
    await b.ok("files/delete_v2", { path: channel });
    assertEquals((await b.rpc("files/get_metadata", { path: channel })).status, 409);
    const again = await b.ok("sharing/mount_folder", { shared_folder_id: id });
    assertEquals(again.path_lower, `/syft1#${A}#${B}`);
    // The owner deleting it deletes it for everyone.
    const before = dbx.entryCount();
    await a.ok("files/delete_v2", { path: channel });
    assertEquals((await b.rpc("files/get_metadata", { path: again.path_lower })).status, 409);
    assertEquals(dbx.entryCount(), before - 4); // A's folder and two files, B's mount
  });
});

Deno.test("fake dropbox: faults: both 429s with Retry-After, 5xx, cut uploads, lost responses, latency, and call counts per route", async () => {
  using fresh = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A), fresh);
    dbx.faults.script({ kind: "429", route: "files/list_folder", user: A });
    const limited = await fetch(`${dbx.url}/api/2/files/list_folder`, {
      method: "POST",
      headers: { authorization: `Bearer ${dbx.token(A)}`, "content-type": "application/json" },
      body: JSON.stringify({ path: "" }),
    });
    assertEquals([limited.status, limited.headers.get("retry-after")], [429, "1"]);
    assertEquals((await limited.json()).error, {
      reason: { ".tag": "too_many_requests" },
      retry_after: 1,
    });
    dbx.faults.script({ kind: "429-write", route: "files/upload" });
    const writes = await a.upload("/f/w", "w");
    assertEquals(writes.status, 429);
    assertEquals(writes.body.error.reason[".tag"], "too_many_write_operations");
    dbx.faults.script({ kind: "503" });
    assertEquals((await a.rpc("users/get_current_account")).status, 503);

    dbx.faults.script({ kind: "drop", route: "files/upload" });
    await assertRejects(() => a.upload("/f/cut", new Uint8Array(256 * 1024)));
    assertEquals((await a.rpc("files/get_metadata", { path: "/f/cut" })).status, 409);
    dbx.faults.script({ kind: "lose-response", route: "files/upload" });
    await assertRejects(() => a.upload("/f/lost", "done anyway"));
    assertEquals((await a.ok("files/get_metadata", { path: "/f/lost" })).size, 11);
    assertEquals((await a.upload("/f/lost", "done anyway")).status, 200);
    dbx.faults.script({ kind: "drop", route: "files/download" });
    await assertRejects(async () => {
      const res = await a.download("/f/lost");
      await res.arrayBuffer();
    });

    dbx.faults.script({ kind: "latency" });
    const started = performance.now();
    await a.ok("users/get_current_account");
    assert(performance.now() - started >= 45);

    // Dropbox's write lock: a second write while one is in progress is refused.
    dbx.setFaults({ writeContention: true });
    const release = Promise.withResolvers<void>();
    const slow = fetch(`${dbx.url}/content/2/files/upload`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${dbx.token(A)}`,
        "content-type": "application/octet-stream",
        "dropbox-api-arg": JSON.stringify({ path: "/f/slow" }),
      },
      body: new ReadableStream({
        async start(c) {
          c.enqueue(text("part"));
          await release.promise;
          c.close();
        },
      }),
    });
    await new Promise((r) => setTimeout(r, 50));
    const parallel = await a.upload("/f/parallel", "p");
    assertEquals(parallel.status, 429);
    assertEquals(parallel.body.error.reason[".tag"], "too_many_write_operations");
    assertEquals((await a.rpc("files/list_folder", { path: "" })).status, 200); // reads pass
    release.resolve();
    assertEquals((await (await slow).json()).size, 4);
    assertEquals((await a.upload("/f/parallel", "p")).status, 200);
    dbx.faults.clear();

    dbx.resetCounts();
    await a.ok("files/list_folder", { path: "" });
    await a.upload("/f/n", "n");
    await a.upload("/f/m", "m");
    assertEquals(dbx.callCounts(A), { total: 3, "files/list_folder": 1, "files/upload": 2 });
    assertEquals(dbx.callCounts(B), { total: 0 });

    // A seeded plan replays: the same seed and calls give the same faults.
    const run = async () => {
      dbx.setFaults({ seed: 7, rate: 0.5, kinds: ["500", "429"] });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await a.rpc("check/user", { query: "q" })).status);
      return out;
    };
    const once = await run();
    assertEquals(await run(), once);
    assert(once.includes(200) && once.some((s) => s !== 200));
    dbx.faults.clear();
  });
});

Deno.test("fake dropbox: with listing lag a change shows only after the lag", async () => {
  await withDropbox(async (dbx) => {
    const a = client(dbx, dbx.token(A));
    const { cursor } = await a.ok("files/list_folder/get_latest_cursor", {
      path: "",
      recursive: true,
    });
    dbx.setFaults({ listingLagMs: 150 });
    await a.upload("/late", "x");
    assertEquals((await a.ok("files/list_folder/continue", { cursor })).entries, []);
    await new Promise((r) => setTimeout(r, 200));
    const later = await a.ok("files/list_folder/continue", { cursor });
    assertEquals(later.entries.map((e: Json) => e.path_lower), ["/late"]);
  });
});
