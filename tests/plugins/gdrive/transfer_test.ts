/**
 * Large transfers against a small stub of Drive's upload and media endpoints:
 * a resumable upload goes in 8 MiB chunks and, when a chunk fails half-way,
 * asks Drive how far it got (`Content-Range: bytes *\/*`) and resends only
 * the rest; a download cut mid-way resumes with `Range`; small bodies go in
 * one multipart request.
 */
import { assert, assertEquals } from "../_assert.ts";
import { CHUNK_BYTES, DriveApi } from "../../../plugins/gdrive/_api.ts";
import { TokenBucket } from "../../../plugins/gdrive/_rate.ts";
import { TokenSource } from "../../../plugins/gdrive/_tokens.ts";
import { readAll } from "../contract_suite.ts";
import { SyftError } from "../../../core/errors/mod.ts";

const MiB = 1024 * 1024;

function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >> 12)) & 0xff;
  return out;
}

function streamOf(bytes: Uint8Array, piece = 256 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + piece));
      offset += piece;
    },
  });
}

/** A DriveApi on `base` with a token that never expires and no waiting between retries. */
function api(base: string): DriveApi {
  const tokens = new TokenSource(
    "/nonexistent",
    { clientId: "i", clientSecret: "s", authUri: base, tokenUri: base },
    {
      access_token: "t",
      refresh_token: "r",
      expiry_date: Date.now() + 86_400_000,
      scope: "",
      token_type: "Bearer",
    },
  );
  return new DriveApi({
    apiBase: base,
    tokens,
    rate: new TokenBucket({ perSecond: 1000, burst: 1000 }),
    backoff: {
      baseMs: 1,
      capMs: 2,
      tries: 8,
      random: () => 0,
      sleep: () => Promise.resolve(),
    },
  });
}

async function withServer(
  handler: (req: Request) => Response | Promise<Response>,
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/`);
  } finally {
    await server.shutdown();
  }
}

const FILE = (size: number) => ({
  id: "file-1",
  name: "x-big.syft",
  size: String(size),
  createdTime: "2026-01-01T00:00:00.000Z",
});

Deno.test("a resumable upload that fails half-way through a chunk resends only what Drive lacks", async () => {
  const body = pattern(2 * CHUNK_BYTES + 3 * MiB);
  const stored: Uint8Array[] = [];
  let storedBytes = 0;
  const log: string[] = [];
  let failedOnce = false;
  await withServer(async (req) => {
    const url = new URL(req.url);
    if (req.method === "POST" && url.searchParams.get("uploadType") === "resumable") {
      assertEquals(req.headers.get("authorization"), "Bearer t");
      const meta = await req.json();
      assertEquals(meta.name, "x-big.syft");
      return new Response(null, { headers: { location: `${url.origin}/session/1` } });
    }
    if (req.method === "PUT" && url.pathname === "/session/1") {
      const range = req.headers.get("content-range") ?? "";
      const bytes = new Uint8Array(await req.arrayBuffer());
      log.push(range);
      const status = /^bytes \*\/(\*|\d+)$/.exec(range);
      if (!status) {
        const m = /^bytes (\d+)-(\d+)\/(\*|\d+)$/.exec(range);
        assert(m, `a well-formed Content-Range: ${range}`);
        assertEquals(Number(m[1]), storedBytes, "chunks continue where Drive stopped");
        assertEquals(Number(m[2]) - Number(m[1]) + 1, bytes.length);
        if (Number(m[1]) === CHUNK_BYTES && !failedOnce) {
          // Keep the first half, then fail as a server error would.
          failedOnce = true;
          stored.push(bytes.subarray(0, MiB * 4));
          storedBytes += MiB * 4;
          return Response.json({ error: { code: 503, message: "backend", errors: [] } }, {
            status: 503,
          });
        }
        stored.push(bytes);
        storedBytes += bytes.length;
        if (m[3] !== "*" && storedBytes === Number(m[3])) return Response.json(FILE(storedBytes));
      }
      return new Response(null, { status: 308, headers: { range: `bytes=0-${storedBytes - 1}` } });
    }
    return new Response("unexpected", { status: 400 });
  }, async (base) => {
    const file = await api(base).uploadStream(
      "put",
      { name: "x-big.syft" },
      streamOf(body),
      () => Promise.resolve(undefined),
    );
    assertEquals(file.size, body.length);
  });
  assertEquals(log, [
    `bytes 0-${CHUNK_BYTES - 1}/*`,
    `bytes ${CHUNK_BYTES}-${2 * CHUNK_BYTES - 1}/*`,
    "bytes */*",
    `bytes ${CHUNK_BYTES + 4 * MiB}-${2 * CHUNK_BYTES - 1}/*`,
    `bytes ${2 * CHUNK_BYTES}-${body.length - 1}/${body.length}`,
  ]);
  const joined = new Uint8Array(storedBytes);
  let at = 0;
  for (const part of stored) {
    joined.set(part, at);
    at += part.length;
  }
  assertEquals(joined, body);
});

Deno.test("a small streamed body goes in one multipart request", async () => {
  const seen: string[] = [];
  await withServer(async (req) => {
    const url = new URL(req.url);
    seen.push(`${req.method} ${url.pathname} ${url.searchParams.get("uploadType")}`);
    const type = req.headers.get("content-type") ?? "";
    assert(type.startsWith("multipart/related; boundary="), type);
    const text = await req.text();
    assert(text.includes('"name":"hello.json"') && text.includes("hello bob"));
    return Response.json(FILE(9));
  }, async (base) => {
    await api(base).uploadStream(
      "put",
      { name: "hello.json" },
      streamOf(new TextEncoder().encode("hello bob")),
      () => Promise.resolve(undefined),
    );
  });
  assertEquals(seen, ["POST /upload/drive/v3/files multipart"]);
});

Deno.test("a download cut mid-way resumes with Range and yields every byte once", async () => {
  const body = pattern(3 * MiB + 17);
  const ranges: (string | null)[] = [];
  await withServer((req) => {
    const url = new URL(req.url);
    assertEquals(url.pathname, "/drive/v3/files/file-1");
    assertEquals(url.searchParams.get("alt"), "media");
    const range = req.headers.get("range");
    ranges.push(range);
    if (range === null) {
      // Promise the whole body, send a first part, then end: the connection
      // is cut short. (Erroring the stream instead makes Deno.serve print it.)
      let sent = false;
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (sent) return controller.close();
            sent = true;
            controller.enqueue(body.slice(0, MiB));
          },
        }),
        { headers: { "content-length": String(body.length) } },
      );
    }
    const from = Number(/^bytes=(\d+)-$/.exec(range)?.[1]);
    return new Response(body.slice(from), {
      status: 206,
      headers: { "content-range": `bytes ${from}-${body.length - 1}/${body.length}` },
    });
  }, async (base) => {
    const got = await readAll(await api(base).download("get", "file-1"));
    assertEquals(got.length, body.length);
    assertEquals(got, body);
  });
  assertEquals(ranges.length, 2);
  assertEquals(ranges[0], null);
  assert(/^bytes=\d+-$/.test(ranges[1] ?? ""), String(ranges[1]));
});

Deno.test({
  name: "a download redirected to a host outside the grant fails at once, naming the operation",
  // It needs a host this process may not reach: under --allow-all there is none.
  ignore: Deno.permissions.querySync({ name: "net", host: "localhost" }).state === "granted",
}, async () => {
  let requests = 0;
  await withServer((req) => {
    requests++;
    const url = new URL(req.url);
    // "localhost" is not the granted "127.0.0.1" (tests run with --allow-net=127.0.0.1).
    return Response.redirect(`http://localhost:${url.port}/elsewhere`, 307);
  }, async (base) => {
    const started = performance.now();
    let err: unknown;
    try {
      await api(base).download("get", "file-1");
    } catch (e) {
      err = e;
    }
    assert(err instanceof SyftError, String(err));
    assertEquals(err.code, "E_TRANSPORT");
    assert(/\bget\b/.test(err.message) && err.message.includes("may not reach"), err.message);
    assert(performance.now() - started < 1000, "no retries");
  });
  assertEquals(requests, 1);
});

Deno.test("bytes whose upload session Drive forgot (404) are uploaded again from a new session", async () => {
  const body = pattern(CHUNK_BYTES + MiB);
  let sessions = 0;
  const received = new Map<number, number>();
  await withServer(async (req) => {
    const url = new URL(req.url);
    if (req.method === "POST") {
      await req.body?.cancel();
      sessions++;
      return new Response(null, { headers: { location: `${url.origin}/session/${sessions}` } });
    }
    const session = Number(url.pathname.split("/").pop());
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (session === 1 && (received.get(1) ?? 0) > 0) {
      return Response.json(
        {
          error: { code: 404, message: "Upload session expired", errors: [{ reason: "notFound" }] },
        },
        { status: 404 },
      );
    }
    const total = (received.get(session) ?? 0) + bytes.length;
    received.set(session, total);
    if (total === body.length) return Response.json(FILE(total));
    return new Response(null, { status: 308, headers: { range: `bytes=0-${total - 1}` } });
  }, async (base) => {
    const file = await api(base).uploadBytes(
      "put",
      { name: "x-big.syft" },
      body,
      () => Promise.resolve(undefined),
    );
    assertEquals(file.size, body.length);
  });
  assertEquals(sessions, 2);
  assertEquals(received.get(2), body.length, "the second session got every byte");
});
