/**
 * The fake Drive, over real HTTP with fetch: what it must share with Google's
 * Drive for a plugin tested against it to work against the real one.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { type FakeDrive, FOLDER, s256, startFakeDrive, UPLOAD_UNIT } from "./gdrive_server.ts";

const A = "a@x.org", B = "b@y.org", C = "c@z.org";

/** A fake with three users, closed when `fn` ends. */
async function withDrive(fn: (drive: FakeDrive) => Promise<void>): Promise<void> {
  const drive = await startFakeDrive({ users: [A, B, C] });
  try {
    await fn(drive);
  } finally {
    await drive.close();
  }
}

interface Call {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

/** A minimal Drive client for one token. */
function client(drive: FakeDrive, token: string) {
  const raw = (path: string, c: Call = {}) =>
    fetch(`${drive.url}${path}`, {
      method: c.method ?? (c.json !== undefined || c.body !== undefined ? "POST" : "GET"),
      headers: {
        authorization: `Bearer ${token}`,
        ...(c.json !== undefined ? { "content-type": "application/json" } : {}),
        ...c.headers,
      },
      body: c.json !== undefined ? JSON.stringify(c.json) : c.body ?? null,
    });
  // deno-lint-ignore no-explicit-any
  const json = async (path: string, c: Call = {}): Promise<{ status: number; body: any }> => {
    const res = await raw(path, c);
    const text = await res.text();
    return { status: res.status, body: text === "" ? null : JSON.parse(text) };
  };
  const ok = async (path: string, c: Call = {}) => {
    const r = await json(path, c);
    if (r.status >= 300) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return {
    raw,
    json,
    ok,
    folder: async (name: string, parent?: string): Promise<string> =>
      (await ok("/drive/v3/files", {
        json: { name, mimeType: FOLDER, ...(parent ? { parents: [parent] } : {}) },
      })).id,
    file: async (name: string, parent?: string, content = "x"): Promise<string> =>
      (await ok(
        "/upload/drive/v3/files?uploadType=multipart",
        multipart({
          name,
          ...(parent ? { parents: [parent] } : {}),
        }, new TextEncoder().encode(content)),
      )).id,
    list: async (q: string, extra = ""): Promise<string[]> =>
      (await ok(`/drive/v3/files?q=${encodeURIComponent(q)}&fields=files(name)${extra}`)).files
        .map((f: { name: string }) => f.name).sort(),
    share: (id: string, email: string) =>
      ok(`/drive/v3/files/${id}/permissions?sendNotificationEmail=false`, {
        json: { type: "user", role: "reader", emailAddress: email },
      }),
  };
}

/** A `multipart/related` upload body. */
function multipart(meta: unknown, media: Uint8Array): Call {
  const enc = new TextEncoder();
  const head = enc.encode(
    `--XyZ\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${
      JSON.stringify(meta)
    }\r\n--XyZ\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = enc.encode("\r\n--XyZ--\r\n");
  const body = new Uint8Array(head.length + media.length + tail.length);
  body.set(head);
  body.set(media, head.length);
  body.set(tail, head.length + media.length);
  return { body, headers: { "content-type": "multipart/related; boundary=XyZ" } };
}

function bytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 255;
  return out;
}

Deno.test("fake drive: about.get names the token's user, needs fields, and a call without a token is 401", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    assertEquals((await a.ok("/drive/v3/about?fields=user(emailAddress)")).user, {
      emailAddress: A,
    });
    const noFields = await a.json("/drive/v3/about");
    assertEquals(noFields.status, 400);
    assertEquals(noFields.body.error.errors[0].reason, "required");
    const anon = await fetch(`${drive.url}/drive/v3/files`);
    assertEquals(anon.status, 401);
    assertEquals((await anon.json()).error.errors[0].reason, "required");
    drive.expireAccessTokens(A);
    const expired = await a.json("/drive/v3/files");
    assertEquals([expired.status, expired.body.error.errors[0].reason], [401, "authError"]);
  });
});

Deno.test("fake drive: what a user cannot see answers 404 notFound, until the owner shares its folder", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A)), b = client(drive, drive.token(B));
    const folder = await a.folder("syft1#a@x.org#b@y.org");
    const inside = await a.file("b-0001.syft", folder, "hello");
    for (const id of [folder, inside]) {
      const r = await b.json(`/drive/v3/files/${id}`);
      assertEquals(r.status, 404);
      assertEquals(r.body.error.errors[0].reason, "notFound");
      assertEquals((await b.json(`/drive/v3/files/${id}?alt=media`)).status, 404);
    }
    assertEquals((await b.json(`/drive/v3/files/${inside}`, { method: "DELETE" })).status, 404);
    assertEquals(await b.list(`'${folder}' in parents`), []);

    await a.share(folder, B);
    assertEquals(await b.list(`'${folder}' in parents`), ["b-0001.syft"]);
    const meta = await b.ok(`/drive/v3/files/${folder}?fields=owners(emailAddress),ownedByMe`);
    assertEquals(meta, { owners: [{ emailAddress: A }], ownedByMe: false });
    assertEquals(await (await b.raw(`/drive/v3/files/${inside}?alt=media`)).text(), "hello");
    // A reader may not write into the folder, nor delete what is in it.
    const write = await b.json("/drive/v3/files", { json: { name: "x", parents: [folder] } });
    assertEquals([write.status, write.body.error.errors[0].reason], [
      403,
      "insufficientFilePermissions",
    ]);
    assertEquals((await b.json(`/drive/v3/files/${inside}`, { method: "DELETE" })).status, 403);
    // C still sees nothing.
    assertEquals(
      (await client(drive, drive.token(C)).json(`/drive/v3/files/${inside}`)).status,
      404,
    );
  });
});

Deno.test("fake drive: fields returns only what is asked, nextPageToken only when asked, and refuses unknown fields", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    for (const n of ["one", "two", "three"]) await a.file(n);
    const byDefault = await a.ok("/drive/v3/files?pageSize=1");
    assertEquals(Object.keys(byDefault).sort(), [
      "files",
      "incompleteSearch",
      "kind",
      "nextPageToken",
    ]);
    assertEquals(Object.keys(byDefault.files[0]).sort(), ["id", "kind", "mimeType", "name"]);
    const narrow = await a.ok("/drive/v3/files?pageSize=1&fields=files(id,size)");
    assertEquals(Object.keys(narrow), ["files"]);
    assertEquals(Object.keys(narrow.files[0]).sort(), ["id", "size"]);
    assertEquals(narrow.files[0].size, "1"); // int64 travels as a string
    const paged = await a.ok("/drive/v3/files?pageSize=1&fields=nextPageToken,files/name");
    assert(typeof paged.nextPageToken === "string");
    assertEquals(Object.keys(paged.files[0]), ["name"]);
    const bad = await a.json("/drive/v3/files?fields=files(id,nmae)");
    assertEquals([bad.status, bad.body.error.errors[0].location], [400, "fields"]);
    const created = await a.ok("/drive/v3/files?fields=id,createdTime,parents", {
      json: { name: "meta" },
    });
    assertEquals(Object.keys(created).sort(), ["createdTime", "id", "parents"]);
    assertMatch(created.createdTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});

Deno.test("fake drive: q understands names, word-prefix contains, parents, owners, sharedWithMe, trashed and and/or/not", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A)), b = client(drive, drive.token(B));
    const mine = await a.folder("syft1#a@x.org#b@y.org");
    await a.file("HelloWorld.txt", mine);
    await a.file("say hello.txt", mine);
    await a.file("it's here", mine);
    const trashed = await a.file("old-hello", mine);
    await a.ok(`/drive/v3/files/${trashed}`, { method: "PATCH", json: { trashed: true } });
    await a.share(mine, B);
    await b.folder("syft1#b@y.org#a@x.org");

    const inMine = `'${mine}' in parents`;
    assertEquals(await a.list(`name contains 'hello' and ${inMine}`), [
      "HelloWorld.txt",
      "old-hello",
      "say hello.txt",
    ]);
    assertEquals(await a.list(`name contains 'World' and ${inMine}`), []);
    assertEquals(await a.list(`name contains 'hello' and ${inMine} and trashed = false`), [
      "HelloWorld.txt",
      "say hello.txt",
    ]);
    assertEquals(await a.list(`name = 'it\\'s here'`), ["it's here"]);
    assertEquals(await a.list(`mimeType = '${FOLDER}' and 'me' in owners`), [
      "syft1#a@x.org#b@y.org",
    ]);
    assertEquals(await b.list(`sharedWithMe and mimeType = '${FOLDER}'`), [
      "syft1#a@x.org#b@y.org",
    ]);
    assertEquals(
      await b.list(`name contains 'syft1#' and (sharedWithMe = true or 'me' in owners)`),
      ["syft1#a@x.org#b@y.org", "syft1#b@y.org#a@x.org"],
    );
    assertEquals(
      await b.list(`'${A}' in owners and not mimeType = '${FOLDER}' and trashed = false`),
      [
        "HelloWorld.txt",
        "it's here",
        "say hello.txt",
      ],
    );
    for (
      const q of ["name = hello", "name contains", "(trashed = false", "size > 3", "name == 'x'"]
    ) {
      const r = await a.json(`/drive/v3/files?q=${encodeURIComponent(q)}`);
      assertEquals([r.status, r.body.error.errors[0].location], [400, "q"], q);
    }
  });
});

Deno.test("fake drive: pages follow nextPageToken through every file once, in orderBy order, and allow duplicate names", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    const folder = await a.folder("many");
    const names: string[] = [];
    for (let i = 0; i < 25; i++) names.push(`f-${String(24 - i).padStart(2, "0")}`);
    for (const n of names) await a.file(n, folder);
    await a.file("f-00", folder); // a duplicate name: allowed, as on Drive
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await a.ok(
        `/drive/v3/files?q=${encodeURIComponent(`'${folder}' in parents`)}&pageSize=7` +
          `&orderBy=name&fields=nextPageToken,files(name)${token ? `&pageToken=${token}` : ""}`,
      );
      assert(page.files.length <= 7);
      seen.push(...page.files.map((f: { name: string }) => f.name));
      token = page.nextPageToken;
    } while (token);
    assertEquals(seen, ["f-00", ...[...names].sort()]);
    const byTime = await a.ok(
      `/drive/v3/files?q=${encodeURIComponent(`'${folder}' in parents`)}&pageSize=1000` +
        `&orderBy=createdTime desc&fields=files(name,createdTime)`,
    );
    const times = byTime.files.map((f: { createdTime: string }) => f.createdTime);
    assertEquals(times, [...times].sort().reverse());
    assertEquals((await a.json("/drive/v3/files?pageSize=1001")).status, 400);
    assertEquals((await a.json("/drive/v3/files?orderBy=size")).status, 400);
  });
});

Deno.test("fake drive: a multipart upload stores metadata and bytes; alt=media serves Range as 206 and a bad range as 416", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    const data = bytes(1000);
    const file = await a.ok(
      "/upload/drive/v3/files?uploadType=multipart&fields=id,name,size,md5Checksum,appProperties",
      multipart({ name: "blob.bin", appProperties: { kind: "x" } }, data),
    );
    assertEquals([file.name, file.size, file.appProperties], ["blob.bin", "1000", { kind: "x" }]);
    assertEquals(file.md5Checksum.length, 32);
    const whole = await a.raw(`/drive/v3/files/${file.id}?alt=media`);
    assertEquals(new Uint8Array(await whole.arrayBuffer()), data);
    const part = await a.raw(`/drive/v3/files/${file.id}?alt=media`, {
      headers: { range: "bytes=100-" },
    });
    assertEquals(part.status, 206);
    assertEquals(part.headers.get("content-range"), "bytes 100-999/1000");
    assertEquals(new Uint8Array(await part.arrayBuffer()), data.slice(100));
    const beyond = await a.raw(`/drive/v3/files/${file.id}?alt=media`, {
      headers: { range: "bytes=1000-" },
    });
    await beyond.body?.cancel();
    assertEquals([beyond.status, beyond.headers.get("content-range")], [416, "bytes */1000"]);
  });
});

/** Start a resumable upload; returns the session URL. */
async function startSession(drive: FakeDrive, token: string, name: string, total: number) {
  const res = await client(drive, token).raw(
    "/upload/drive/v3/files?uploadType=resumable&fields=id,name,size",
    {
      json: { name },
      headers: { "x-upload-content-length": String(total) },
    },
  );
  await res.body?.cancel();
  assertEquals(res.status, 200);
  return res.headers.get("location")!;
}

function put(
  session: string,
  body: Uint8Array | null,
  range: string,
  http?: Deno.HttpClient,
): Promise<Response> {
  return fetch(session, {
    ...(http ? { client: http } : {}),
    method: "PUT",
    headers: { "content-range": range },
    body: body as Uint8Array<ArrayBuffer> | null,
  });
}

Deno.test("fake drive: a resumable upload answers 308 with Range per chunk, a status query, then the file", async () => {
  await withDrive(async (drive) => {
    const token = drive.token(A);
    const total = 2 * UPLOAD_UNIT + 100;
    const data = bytes(total);
    const session = await startSession(drive, token, "big.bin", total);
    let res = await put(session, null, `bytes */${total}`);
    await res.body?.cancel();
    assertEquals([res.status, res.headers.get("range")], [308, null]);
    res = await put(session, data.slice(0, UPLOAD_UNIT), `bytes 0-${UPLOAD_UNIT - 1}/${total}`);
    await res.body?.cancel();
    assertEquals([res.status, res.headers.get("range")], [308, `bytes=0-${UPLOAD_UNIT - 1}`]);
    // A chunk that is not whole 256 KiB units keeps only its whole units.
    res = await put(
      session,
      data.slice(UPLOAD_UNIT, 2 * UPLOAD_UNIT + 50),
      `bytes ${UPLOAD_UNIT}-${2 * UPLOAD_UNIT + 49}/${total}`,
    );
    await res.body?.cancel();
    assertEquals(res.headers.get("range"), `bytes=0-${2 * UPLOAD_UNIT - 1}`);
    res = await put(
      session,
      data.slice(2 * UPLOAD_UNIT),
      `bytes ${2 * UPLOAD_UNIT}-${total - 1}/${total}`,
    );
    const file = await res.json();
    assertEquals([res.status, file.name, file.size], [200, "big.bin", String(total)]);
    const back = await client(drive, token).raw(`/drive/v3/files/${file.id}?alt=media`);
    assertEquals(new Uint8Array(await back.arrayBuffer()), data);
    // The finished session still answers with the file.
    res = await put(session, null, `bytes */${total}`);
    assertEquals([res.status, (await res.json()).id], [200, file.id]);
    drive.expireUploadSessions();
    res = await put(session, null, `bytes */${total}`);
    await res.body?.cancel();
    assertEquals(res.status, 404);
  });
});

Deno.test("fake drive: a chunk cut mid-way keeps the whole units that arrived, and the upload resumes from the status query", async () => {
  await withDrive(async (drive) => {
    const token = drive.token(A);
    const total = 4 * UPLOAD_UNIT;
    const data = bytes(total, 3);
    const session = await startSession(drive, token, "cut.bin", total);
    drive.faults.script({ kind: "drop", method: "files.upload" });
    // A fresh connection: fetch silently resends an idempotent PUT cut on a reused one.
    const fresh = Deno.createHttpClient({});
    try {
      await assertRejects(() =>
        put(session, data, `bytes 0-${total - 1}/${total}`, fresh).then((r) => r.text())
      );
    } finally {
      fresh.close();
    }
    const status = await put(session, null, `bytes */${total}`);
    await status.body?.cancel();
    assertEquals(status.status, 308);
    const received = Number(/^bytes=0-(\d+)$/.exec(status.headers.get("range")!)![1]) + 1;
    assert(
      received > 0 && received < total && received % UPLOAD_UNIT === 0,
      `received ${received}`,
    );
    const last = await put(
      session,
      data.slice(received),
      `bytes ${received}-${total - 1}/${total}`,
    );
    const file = await last.json();
    assertEquals(last.status, 200);
    const back = await client(drive, token).raw(`/drive/v3/files/${file.id}?alt=media`);
    assertEquals(new Uint8Array(await back.arrayBuffer()), data);
  });
});

Deno.test("fake drive: a create whose response is lost has still happened", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    drive.faults.script({ kind: "lose-response", method: "files.create", user: A });
    await assertRejects(() => a.ok("/drive/v3/files", { json: { name: "ghost" } }));
    assertEquals(await a.list("name = 'ghost'"), ["ghost"]);
  });
});

Deno.test("fake drive: a download cut mid-body delivers a part, and Range fetches the rest", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    const data = bytes(300_000, 5);
    const file = await a.ok(
      "/upload/drive/v3/files?uploadType=multipart",
      multipart({ name: "d" }, data),
    );
    drive.faults.script({ kind: "drop", method: "files.download" });
    const res = await a.raw(`/drive/v3/files/${file.id}?alt=media`);
    const got: Uint8Array[] = [];
    let n = 0;
    await assertRejects(async () => {
      for await (const chunk of res.body!) {
        got.push(chunk);
        n += chunk.length;
      }
    });
    assert(n > 0 && n < data.length, `got ${n}`);
    const rest = await a.raw(`/drive/v3/files/${file.id}?alt=media`, {
      headers: { range: `bytes=${n}-` },
    });
    assertEquals(new Uint8Array(await rest.arrayBuffer()), data.slice(n));
  });
});

Deno.test("fake drive: changes.list reports files others add to a folder shared with the user, and removals", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A)), b = client(drive, drive.token(B));
    const start = (await b.ok("/drive/v3/changes/startPageToken")).startPageToken;
    const folder = await a.folder("syft1#a@x.org#b@y.org");
    await a.file("unshared-yet", folder);
    const quiet = await b.ok(
      `/drive/v3/changes?pageToken=${start}&fields=newStartPageToken,changes(fileId)`,
    );
    assertEquals(quiet.changes, []);
    await a.share(folder, B);
    const inside = await a.file("b-0001.syft", folder);
    await a.file("elsewhere"); // in A's root: B never hears of it
    const names: string[] = [];
    let token = start, next: string | undefined;
    for (;;) {
      const page = await b.ok(
        `/drive/v3/changes?pageToken=${token}&pageSize=1&fields=nextPageToken,newStartPageToken,changes(removed,file(name))`,
      );
      names.push(...page.changes.map((c: { file: { name: string } }) => c.file.name));
      if (page.newStartPageToken) {
        next = page.newStartPageToken;
        break;
      }
      token = page.nextPageToken;
    }
    assertEquals(names.sort(), ["b-0001.syft", "syft1#a@x.org#b@y.org", "unshared-yet"]);
    await a.ok(`/drive/v3/files/${inside}`, { method: "DELETE" });
    const after = await b.ok(
      `/drive/v3/changes?pageToken=${next}&fields=changes(fileId,removed,file)`,
    );
    assertEquals(after.changes, [{ fileId: inside, removed: true }]);
  });
});

Deno.test("fake drive: sign-in redirects with code and state, the token endpoint checks PKCE S256, and refresh dies with revocation", async () => {
  await withDrive(async (drive) => {
    const redirect = "http://127.0.0.1:9/callback";
    const verifier = "v".repeat(43) + "-._~0123456789";
    const authorize = (challenge: string) => {
      const u = new URL(drive.clientFile().installed.auth_uri as string);
      for (
        const [k, v] of Object.entries({
          client_id: drive.client.id,
          redirect_uri: redirect,
          response_type: "code",
          scope: "https://www.googleapis.com/auth/drive",
          state: "st8",
          code_challenge: challenge,
          code_challenge_method: "S256",
          access_type: "offline",
          prompt: "consent",
          login_hint: B,
        })
      ) u.searchParams.set(k, v);
      return fetch(u, { redirect: "manual" });
    };
    const token = (form: Record<string, string>) =>
      fetch(drive.clientFile().installed.token_uri as string, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          client_id: drive.client.id,
          client_secret: drive.client.secret,
          ...form,
        }),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const codeFrom = async (res: Response) => {
      await res.body?.cancel();
      assertEquals(res.status, 302);
      const to = new URL(res.headers.get("location")!);
      assertEquals([to.origin + to.pathname, to.searchParams.get("state")], [redirect, "st8"]);
      return to.searchParams.get("code")!;
    };

    const wrong = await token({
      grant_type: "authorization_code",
      code: await codeFrom(await authorize(s256(verifier))),
      redirect_uri: redirect,
      code_verifier: "w".repeat(43),
    });
    assertEquals([wrong.status, wrong.body.error], [400, "invalid_grant"]);

    const code = await codeFrom(await authorize(s256(verifier)));
    const granted = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirect,
      code_verifier: verifier,
    });
    assertEquals([granted.status, granted.body.token_type, granted.body.expires_in], [
      200,
      "Bearer",
      3599,
    ]);
    assert(typeof granted.body.refresh_token === "string");
    const again = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirect,
      code_verifier: verifier,
    });
    assertEquals(again.body.error, "invalid_grant"); // a code works once

    const who = await client(drive, granted.body.access_token).ok(
      "/drive/v3/about?fields=user/emailAddress",
    );
    assertEquals(who.user.emailAddress, B); // approved as the login_hint
    const info = await fetch(`${drive.url}/tokeninfo?access_token=${granted.body.access_token}`);
    const infoBody = await info.json();
    assertEquals([infoBody.email, infoBody.scope, infoBody.aud], [
      B,
      "https://www.googleapis.com/auth/drive",
      drive.client.id,
    ]);

    const refreshed = await token({
      grant_type: "refresh_token",
      refresh_token: granted.body.refresh_token,
    });
    assertEquals(refreshed.status, 200);
    drive.revoke(B);
    const revoked = await token({
      grant_type: "refresh_token",
      refresh_token: granted.body.refresh_token,
    });
    assertEquals([revoked.status, revoked.body.error], [400, "invalid_grant"]);
    const deadInfo = await fetch(
      `${drive.url}/tokeninfo?access_token=${granted.body.access_token}`,
    );
    assertEquals([deadInfo.status, (await deadInfo.json()).error], [400, "invalid_token"]);
    const badSecret = await token({
      grant_type: "refresh_token",
      refresh_token: "x",
      client_secret: "nope",
    });
    assertEquals([badSecret.status, badSecret.body.error], [401, "invalid_client"]);

    drive.approveAs("deny");
    const denied = await authorize(s256(verifier));
    await denied.body?.cancel();
    assertEquals(
      new URL(denied.headers.get("location")!).searchParams.get("error"),
      "access_denied",
    );
  });
});

Deno.test("fake drive: a drive.file token reaches only what its app created for that user", async () => {
  await withDrive(async (drive) => {
    const aFull = client(drive, drive.token(A));
    const shared = await aFull.folder("syft1#a@x.org#b@y.org");
    await aFull.share(shared, B);
    const bFile = client(drive, drive.token(B, { scope: "file" }));
    assertEquals((await bFile.json(`/drive/v3/files/${shared}`)).status, 404);
    assertEquals(await bFile.list("sharedWithMe"), []);
    const own = await bFile.folder("syft1#b@y.org#a@x.org");
    assertEquals(
      (await bFile.ok(`/drive/v3/files/${own}?fields=name`)).name,
      "syft1#b@y.org#a@x.org",
    );
    // The same user through another app does not reach it either.
    const other = client(drive, drive.token(B, { scope: "file", clientId: "other-app" }));
    assertEquals((await other.json(`/drive/v3/files/${own}`)).status, 404);
    assertEquals(await client(drive, drive.token(B)).list("sharedWithMe"), [
      "syft1#a@x.org#b@y.org",
    ]);
  });
});

Deno.test("fake drive: injected faults look like Drive's, counts are per user and method, and a seed replays the same faults", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    drive.faults.script({ kind: "429", method: "files.list" });
    drive.faults.script({ kind: "403-user-rate", method: "files.list" });
    drive.faults.script({ kind: "403-rate", method: "files.list" });
    drive.faults.script({ kind: "503", method: "files.list" });
    const r429 = await a.raw("/drive/v3/files");
    assertEquals([r429.status, r429.headers.get("retry-after")], [429, "1"]);
    assertEquals((await r429.json()).error.errors[0].reason, "rateLimitExceeded");
    const user = await a.json("/drive/v3/files");
    assertEquals(
      [user.status, user.body.error.errors[0].reason, user.body.error.errors[0].domain],
      [
        403,
        "userRateLimitExceeded",
        "usageLimits",
      ],
    );
    assertEquals(
      (await a.json("/drive/v3/files")).body.error.errors[0].reason,
      "rateLimitExceeded",
    );
    const r503 = await a.json("/drive/v3/files");
    assertEquals([r503.status, r503.body.error.errors[0].reason], [503, "backendError"]);
    assertEquals((await a.json("/drive/v3/files")).status, 200);
    await a.json("/drive/v3/about?fields=user");
    assertEquals(drive.callCounts(A), { total: 6, "files.list": 5, "about.get": 1 });
    assertEquals(drive.callCounts(B), { total: 0 });

    const run = async () => {
      drive.faults.set({ seed: 42, rate: 0.3, kinds: ["500", "429"], methods: ["files.get"] });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await a.json("/drive/v3/files/root")).status);
      return statuses;
    };
    const first = await run();
    assert(first.some((s) => s !== 200) && first.some((s) => s === 200));
    assertEquals(await run(), first);
    drive.faults.clear();
  });
});

Deno.test("fake drive: listing lag keeps a new file out of the next listings, and a latency fault only delays", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    drive.faults.set({ listingLag: 2 });
    const id = await a.file("late");
    assertEquals(await a.list("name = 'late'"), []);
    assertEquals(await a.list("name = 'late'"), []);
    assertEquals(await a.list("name = 'late'"), ["late"]);
    assertEquals((await a.ok(`/drive/v3/files/${id}?fields=name`)).name, "late"); // get sees it at once
    drive.faults.set({ rate: 1, kinds: ["latency"], latencyMs: 60 });
    const t0 = Date.now();
    assertEquals(await a.list("name = 'late'"), ["late"]);
    assert(Date.now() - t0 >= 55);
  });
});

Deno.test("fake drive: only the owner deletes; a deleted folder takes its owner's files, others' files lose the parent", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A)), b = client(drive, drive.token(B));
    const folder = await a.folder("shared-rw");
    await a.ok(`/drive/v3/files/${folder}/permissions?sendNotificationEmail=false`, {
      json: { type: "user", role: "writer", emailAddress: B },
    });
    const mine = await a.file("mine", folder);
    const theirs = await b.file("theirs", folder);
    assertEquals((await b.json(`/drive/v3/files/${folder}`, { method: "DELETE" })).status, 403);
    const del = await a.raw(`/drive/v3/files/${folder}`, { method: "DELETE" });
    await del.body?.cancel();
    assertEquals(del.status, 204);
    assertEquals((await a.json(`/drive/v3/files/${mine}`)).status, 404);
    assertEquals(await b.ok(`/drive/v3/files/${theirs}?fields=id,parents`), { id: theirs });
  });
});

Deno.test("fake drive: sharing without notification needs a Google account, and a notified share is recorded", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    const folder = await a.folder("f");
    const noAccount = await a.json(
      `/drive/v3/files/${folder}/permissions?sendNotificationEmail=false`,
      {
        json: { type: "user", role: "reader", emailAddress: "nobody@nowhere.org" },
      },
    );
    assertEquals([noAccount.status, noAccount.body.error.errors[0].reason], [
      400,
      "invalidSharingRequest",
    ]);
    const perm = await a.ok(`/drive/v3/files/${folder}/permissions`, {
      json: { type: "user", role: "reader", emailAddress: C },
    });
    assertEquals(Object.keys(perm).sort(), ["id", "kind", "role", "type"]);
    assertEquals(drive.notifications.map((n) => [n.from, n.to, n.fileId]), [[A, C, folder]]);
  });
});

Deno.test("fake drive: a per-user quota refuses calls beyond its burst with 403 userRateLimitExceeded", async () => {
  await withDrive(async (drive) => {
    drive.setQuota({ perSecond: 1, burst: 3 });
    const a = client(drive, drive.token(A)), b = client(drive, drive.token(B));
    for (let i = 0; i < 3; i++) assertEquals((await a.json("/drive/v3/files/root")).status, 200);
    const over = await a.json("/drive/v3/files/root");
    assertEquals([over.status, over.body.error.errors[0].reason], [403, "userRateLimitExceeded"]);
    assertEquals((await b.json("/drive/v3/files/root")).status, 200); // B has its own bucket
    drive.setQuota(null);
    assertEquals((await a.json("/drive/v3/files/root")).status, 200);
  });
});

Deno.test("fake drive: started on its own, it prints its URL first and serves a token it prints", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      new URL("./gdrive_server.ts", import.meta.url).pathname,
      "--user",
      A,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let text = "";
    while (text.split("\n").length < 3) {
      const { done, value } = await lines.read();
      if (done) break;
      text += value;
    }
    const [url, info] = text.split("\n");
    assertMatch(url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    const { tokens, client_file } = JSON.parse(info!);
    assertEquals(client_file.installed.token_uri, `${url}/token`);
    const res = await fetch(`${url}/drive/v3/about?fields=user/emailAddress`, {
      headers: { authorization: `Bearer ${tokens[A]}` },
    });
    assertEquals((await res.json()).user.emailAddress, A);
  } finally {
    child.kill();
    await lines.cancel();
    await child.status;
  }
});

Deno.test("fake drive: a create with an id from generateIds happens once; its retry answers 409, a made-up id 400", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A)), b = client(drive, drive.token(B));
    const { ids } = await a.ok("/drive/v3/files/generateIds?count=2");
    assertEquals(ids.length, 2);
    drive.faults.script({ kind: "lose-response", method: "files.create" });
    await assertRejects(() => a.ok("/drive/v3/files", { json: { id: ids[0], name: "once" } }));
    const retry = await a.json("/drive/v3/files", { json: { id: ids[0], name: "once" } });
    assertEquals(retry.status, 409);
    assertEquals(await a.list("name = 'once'"), ["once"]);
    const made = await a.json("/drive/v3/files", { json: { id: "1madeUpByTheClient", name: "x" } });
    assertEquals([made.status, made.body.error.errors[0].reason], [400, "fileIdNotUsable"]);
    // An id generated for A is not B's to use.
    assertEquals(
      (await b.json("/drive/v3/files", { json: { id: ids[1], name: "y" } })).status,
      400,
    );
  });
});

Deno.test("fake drive: unsharing a folder takes it and its files out of reach, and the change feed reports them removed", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A)), b = client(drive, drive.token(B));
    const folder = await a.folder("syft1#a@x.org#b@y.org");
    const inside = await a.file("b-0001.syft", folder);
    await a.share(folder, B);
    const start = (await b.ok("/drive/v3/changes/startPageToken")).startPageToken;
    const { permissions } = await a.ok(
      `/drive/v3/files/${folder}/permissions?fields=permissions(id,emailAddress,role)`,
    );
    const bPerm = permissions.find((p: { emailAddress: string }) => p.emailAddress === B);
    assertEquals(bPerm.role, "reader");
    const del = await a.raw(`/drive/v3/files/${folder}/permissions/${bPerm.id}`, {
      method: "DELETE",
    });
    await del.body?.cancel();
    assertEquals(del.status, 204);
    assertEquals((await b.json(`/drive/v3/files/${inside}`)).status, 404);
    const feed = await b.ok(`/drive/v3/changes?pageToken=${start}&fields=changes(fileId,removed)`);
    assertEquals(
      feed.changes.sort((x: { fileId: string }, y: { fileId: string }) =>
        x.fileId.localeCompare(y.fileId)
      ),
      [{ fileId: folder, removed: true }, { fileId: inside, removed: true }].sort((x, y) =>
        x.fileId.localeCompare(y.fileId)
      ),
    );
  });
});

Deno.test("fake drive: when the last chunk's answer is lost, the status query answers with the file that was made", async () => {
  await withDrive(async (drive) => {
    const token = drive.token(A);
    const data = bytes(1000, 9);
    const session = await startSession(drive, token, "last.bin", data.length);
    drive.faults.script({ kind: "lose-response", method: "files.upload" });
    const fresh = Deno.createHttpClient({});
    try {
      await assertRejects(() =>
        put(session, data, `bytes 0-${data.length - 1}/${data.length}`, fresh).then((r) => r.text())
      );
    } finally {
      fresh.close();
    }
    const status = await put(session, null, `bytes */${data.length}`);
    const file = await status.json();
    assertEquals([status.status, file.name, file.size], [200, "last.bin", "1000"]);
    assertEquals(await client(drive, token).list("name = 'last.bin'"), ["last.bin"]);
  });
});

Deno.test("fake drive: update renames, merges appProperties (null deletes), moves with add/removeParents, and refuses parents in the body", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    const from = await a.folder("from"), to = await a.folder("to");
    const id = (await a.ok("/drive/v3/files", {
      json: { name: "old", parents: [from], appProperties: { k: "1", gone: "x" } },
    })).id;
    const updated = await a.ok(
      `/drive/v3/files/${id}?addParents=${to}&removeParents=${from}&fields=name,parents,appProperties,version`,
      { method: "PATCH", json: { name: "new", appProperties: { gone: null, more: "2" } } },
    );
    assertEquals(updated, {
      name: "new",
      parents: [to],
      appProperties: { k: "1", more: "2" },
      version: "2",
    });
    const body = await a.json(`/drive/v3/files/${id}`, {
      method: "PATCH",
      json: { parents: [from] },
    });
    assertEquals([body.status, body.body.error.errors[0].reason], [403, "fieldNotWritable"]);
    const two = await a.json(`/drive/v3/files/${id}?addParents=${from}`, {
      method: "PATCH",
      json: {},
    });
    assertEquals([two.status, two.body.error.errors[0].reason], [403, "cannotAddParent"]);
  });
});

Deno.test("fake drive: with short pages, a page holds less than pageSize before the end and the token still leads to every file", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A));
    for (let i = 0; i < 5; i++) await a.file(`s-${i}`);
    drive.faults.set({ shortPages: true });
    const first = await a.ok("/drive/v3/files?pageSize=4&fields=nextPageToken,files(name)");
    assertEquals(first.files.length, 2);
    const names = first.files.map((f: { name: string }) => f.name);
    let token: string | undefined = first.nextPageToken;
    while (token) {
      const page = await a.ok(
        `/drive/v3/files?pageSize=4&pageToken=${token}&fields=nextPageToken,files(name)`,
      );
      names.push(...page.files.map((f: { name: string }) => f.name));
      token = page.nextPageToken;
    }
    assertEquals(names.sort(), ["s-0", "s-1", "s-2", "s-3", "s-4"]);
  });
});

Deno.test("fake drive: a file shared on its own reaches its grantee by id and by search, not its folder, siblings or others", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A)), b = client(drive, drive.token(B));
    const c = client(drive, drive.token(C));
    const pool = await a.folder("syft2pool");
    const blob = await a.file("p-1", pool, "pooled");
    const sibling = await a.file("p-2", pool, "not for b");
    await a.share(blob, B);
    await a.share(blob, B); // the same grant again changes nothing and does not fail
    const perms = await a.ok(`/drive/v3/files/${blob}/permissions?fields=permissions(role)`);
    assertEquals(perms.permissions.map((p: { role: string }) => p.role), ["owner", "reader"]);

    assertEquals(await (await b.raw(`/drive/v3/files/${blob}?alt=media`)).text(), "pooled");
    // The grantee sees who owns it, but not the folder it sits in.
    assertEquals(await b.ok(`/drive/v3/files/${blob}?fields=name,parents,owners(emailAddress)`), {
      name: "p-1",
      owners: [{ emailAddress: A }],
    });
    assertEquals(await b.list(`name = 'p-1' and '${A}' in owners and sharedWithMe = true`), [
      "p-1",
    ]);
    assertEquals(await b.list("sharedWithMe"), ["p-1"]);
    assertEquals(await b.list(`'${pool}' in parents`), []);
    for (const id of [pool, sibling]) {
      assertEquals((await b.json(`/drive/v3/files/${id}`)).status, 404);
      assertEquals((await b.json(`/drive/v3/files/${id}?alt=media`)).status, 404);
    }
    // A reader may not share it on, nor delete it.
    const reshare = await b.json(
      `/drive/v3/files/${blob}/permissions?sendNotificationEmail=false`,
      {
        json: { type: "user", role: "reader", emailAddress: C },
      },
    );
    assertEquals([reshare.status, reshare.body.error.errors[0].reason], [
      403,
      "insufficientFilePermissions",
    ]);
    assertEquals((await b.json(`/drive/v3/files/${blob}`, { method: "DELETE" })).status, 403);
    // Someone else gets Drive's 404 and finds nothing.
    const denied = await c.json(`/drive/v3/files/${blob}?alt=media`);
    assertEquals([denied.status, denied.body.error.errors[0].reason], [404, "notFound"]);
    assertEquals(await c.list("sharedWithMe"), []);
    assertEquals(await c.list(`name = 'p-1'`), []);
  });
});

Deno.test("fake drive: sharing lag keeps a new grant out of the grantee's searches, not out of get or the change feed", async () => {
  await withDrive(async (drive) => {
    const a = client(drive, drive.token(A)), b = client(drive, drive.token(B));
    const start = (await b.ok("/drive/v3/changes/startPageToken")).startPageToken;
    const blob = await a.file("p-1", undefined, "late");
    drive.faults.set({ sharingLag: 2 });
    await a.share(blob, B);
    assertEquals(await b.list("sharedWithMe"), []);
    assertEquals(await b.list("name = 'p-1'"), []);
    assertEquals(await b.list("sharedWithMe"), ["p-1"]);
    assertEquals(await a.list("name = 'p-1'"), ["p-1"]); // the owner's own search never lagged
    assertEquals(await (await b.raw(`/drive/v3/files/${blob}?alt=media`)).text(), "late");
    const feed = await b.ok(
      `/drive/v3/changes?pageToken=${start}&fields=changes(fileId,file(name))`,
    );
    assertEquals(feed.changes, [{ fileId: blob, file: { name: "p-1" } }]);
  });
});
