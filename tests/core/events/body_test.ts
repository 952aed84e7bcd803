import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { SyftError } from "../../../core/errors/mod.ts";
import { type BodyContent, packBody, unpackBody } from "../../../core/events/body.ts";
import { parseBatchJson, serializeJson } from "../../../core/events/parse.ts";
import { type BatchJson, INLINE_LIMIT } from "../../../core/events/types.ts";
import { assert, assertEquals, assertRejects } from "../../assert.ts";

const enc = new TextEncoder();

function content(bytes: Uint8Array): BodyContent {
  return { hash: createHash("sha256").update(bytes).digest("hex"), bytes };
}

/** Deterministic pseudo-random bytes (xorshift), so failures replay. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2 + 1; // odd and distinct per seed
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Same hashes in the same order, and the same bytes. Compared as summaries: a
 * failing deep-equal on megabytes of typed arrays takes minutes to print.
 */
function assertSameContents(
  actual: readonly BodyContent[],
  expected: readonly BodyContent[],
): void {
  const summary = (list: readonly BodyContent[]) => list.map((c) => `${c.hash}:${c.bytes.length}`);
  assertEquals(summary(actual), summary(expected));
  actual.forEach((c, i) => {
    assert(Buffer.from(c.bytes).equals(expected[i]?.bytes ?? new Uint8Array()), `bytes of #${i}`);
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function streamOf(bytes: Uint8Array, chunk = 65536): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(c) {
      if (offset >= bytes.length) return c.close();
      c.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

/** Unpacks and returns the first entry plus the contents in the order they arrived. */
async function unpack(
  body: Uint8Array | ReadableStream<Uint8Array>,
  first: "batch.json" | "checkpoint.json" = "batch.json",
): Promise<{ json: Uint8Array; contents: BodyContent[] }> {
  const contents: BodyContent[] = [];
  const json = await unpackBody(body instanceof Uint8Array ? streamOf(body) : body, {
    first,
    onContent: (hash, bytes) => {
      contents.push({ hash, bytes });
      return Promise.resolve();
    },
  });
  return { json, contents };
}

const JSON_BYTES = enc.encode('{"seq":1}');

Deno.test("packBody() then unpackBody() round-trips a body without contents", async () => {
  const got = await unpack(await collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, [])));
  assertEquals(got.json, JSON_BYTES);
  assertEquals(got.contents, []);
});

Deno.test("packBody() then unpackBody() round-trips 500 contents in order", async () => {
  const contents = Array.from({ length: 500 }, (_, i) => content(noise(i * 7, i + 1)));
  const got = await unpack(
    await collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, contents)),
  );
  assertEquals(got.json, JSON_BYTES);
  assertSameContents(got.contents, contents);
});

Deno.test("packBody() then unpackBody() round-trips a 255 KiB content and one of exactly the inline limit", async () => {
  const contents = [content(noise(255 * 1024, 42)), content(noise(INLINE_LIMIT, 43))];
  const got = await unpack(
    await collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, contents)),
  );
  assertSameContents(got.contents, contents);
});

Deno.test("packBody() then unpackBody() round-trips an empty file's content", async () => {
  const empty = content(new Uint8Array());
  const got = await unpack(
    await collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, [empty])),
  );
  assertSameContents(got.contents, [empty]);
});

Deno.test("packBody() then unpackBody() round-trips a checkpoint body", async () => {
  const body = await collect(packBody({ name: "checkpoint.json", bytes: JSON_BYTES }, [
    content(enc.encode("x")),
  ]));
  const got = await unpack(body, "checkpoint.json");
  assertEquals(got.json, JSON_BYTES);
  assertEquals(got.contents.length, 1);
});

Deno.test("a batch survives serializeJson → packBody → unpackBody → parseBatchJson", async () => {
  const file = content(enc.encode("a,b\n1,2\n"));
  const batch: BatchJson = {
    seq: 3,
    sender: "alice@example.org",
    created_at: 1_700_000_000_000,
    events: [{
      id: "e1",
      datasite: "alice@example.org",
      path: "public/data.csv",
      old_hash: null,
      new_hash: file.hash,
      size: file.bytes.length,
      deleted: false,
      mode: "file",
      submitted_at: 1,
      ts: 2,
      content: "inline",
    }],
    acks: { "bob@example.org": 2 },
    control: [],
  };
  const body = packBody({ name: "batch.json", bytes: serializeJson(batch) }, [file]);
  const got = await unpack(body);
  const parsed = parseBatchJson(got.json, {
    sender: "alice@example.org",
    recipient: "bob@example.org",
  });
  assertEquals(parsed, batch);
  assertSameContents(got.contents, [file]);
});

Deno.test("packBody() gives the same bytes for the same input", async () => {
  const contents = [content(enc.encode("one")), content(enc.encode("two"))];
  const a = await collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, contents));
  await new Promise((r) => setTimeout(r, 1100)); // a different second on the clock
  const b = await collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, contents));
  assertEquals(a, b);
});

Deno.test("packBody() writes a repeated hash once, since the reader refuses duplicates", async () => {
  const same = content(enc.encode("same"));
  const got = await unpack(packBody({ name: "batch.json", bytes: JSON_BYTES }, [same, same, same]));
  assertSameContents(got.contents, [same]);
});

Deno.test("packBody() streams several MiB of contents from an async generator", async () => {
  const sizes = Array.from({ length: 40 }, (_, i) => INLINE_LIMIT - i);
  async function* generate(): AsyncGenerator<BodyContent> {
    for (const [i, size] of sizes.entries()) {
      await Promise.resolve();
      yield content(noise(size, 1000 + i));
    }
  }
  const got = await unpack(packBody({ name: "batch.json", bytes: JSON_BYTES }, generate()));
  assertEquals(got.contents.map((c) => c.bytes.length), sizes);
  for (const c of got.contents) {
    assertEquals(createHash("sha256").update(c.bytes).digest("hex"), c.hash);
  }
});

Deno.test("packBody() closes the contents iterator when the reader cancels", async () => {
  let closed = false;
  let produced = 0;
  function* generate(): Generator<BodyContent> {
    try {
      for (let i = 0;; i++) {
        produced++;
        yield content(noise(INLINE_LIMIT, i + 1));
      }
    } finally {
      closed = true;
    }
  }
  const reader = packBody({ name: "batch.json", bytes: JSON_BYTES }, generate()).getReader();
  await reader.read();
  await reader.cancel();
  for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
  assert(closed, "the generator was not closed");
  assert(produced < 200, `the generator ran on after cancel: ${produced} contents`);
});

const WRITER_ERRORS: readonly [string, BodyContent, RegExp][] = [
  ["a content whose bytes do not match its hash", {
    hash: content(enc.encode("a")).hash,
    bytes: enc.encode("b"),
  }, /does not hash to its name/],
  [
    "a content over the inline limit",
    content(new Uint8Array(INLINE_LIMIT + 1)),
    /over the inline limit/,
  ],
  ["a hash in upper case", {
    hash: content(enc.encode("a")).hash.toUpperCase(),
    bytes: enc.encode("a"),
  }, /is not 64 lowercase hex digits/],
];

for (const [what, bad, pattern] of WRITER_ERRORS) {
  Deno.test(`packBody() fails the stream with E_INTERNAL on ${what}`, async () => {
    await assertRejects(
      () => collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, [bad])),
      (err) => {
        assert(err instanceof SyftError, String(err));
        assertEquals(err.code, "E_INTERNAL");
        assert(pattern.test(err.message), err.message);
      },
    );
  });
}

Deno.test("packBody() passes the contents iterable's own error to the reader", async () => {
  const boom = new Error("disk read failed");
  async function* generate(): AsyncGenerator<BodyContent> {
    yield content(enc.encode("ok"));
    throw boom;
  }
  const err = await assertRejects(() =>
    collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, generate()))
  );
  assertEquals(err, boom);
});

Deno.test("unpackBody() rethrows an onContent error unchanged and stops reading", async () => {
  const contents = Array.from({ length: 5 }, (_, i) => content(enc.encode(`c${i}`)));
  const body = await collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, contents));
  const boom = new Error("disk full");
  let calls = 0;
  const err = await assertRejects(() =>
    unpackBody(streamOf(body), {
      first: "batch.json",
      onContent: () => {
        calls++;
        return calls === 2 ? Promise.reject(boom) : Promise.resolve();
      },
    })
  );
  assertEquals(err, boom);
  assertEquals(calls, 2);
});

Deno.test("unpackBody() rethrows an error of its input stream unchanged", async () => {
  const body = await collect(
    packBody({ name: "batch.json", bytes: JSON_BYTES }, [content(noise(100_000, 9))]),
  );
  const transport = new SyftError("E_TRANSPORT", "the connection dropped");
  let sent = false;
  const failing = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent) return c.error(transport);
      c.enqueue(body.slice(0, 200));
      sent = true;
    },
  });
  const err = await assertRejects(() => unpack(failing));
  assertEquals(err, transport);
});

Deno.test("unpackBody() reads input delivered one byte at a time", async () => {
  const contents = [content(enc.encode("tiny")), content(noise(3000, 5))];
  const body = await collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, contents));
  const got = await unpack(streamOf(body, 1));
  assertSameContents(got.contents, contents);
});

Deno.test("unpackBody() reads input delivered as one large chunk", async () => {
  const contents = Array.from({ length: 20 }, (_, i) => content(noise(INLINE_LIMIT, 77 + i)));
  const body = await collect(packBody({ name: "batch.json", bytes: JSON_BYTES }, contents));
  const got = await unpack(streamOf(body, body.length));
  assertSameContents(got.contents, contents);
});
