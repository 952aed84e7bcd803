/**
 * Hostile bodies, written byte by byte: each must be refused whole with one
 * E_BAD_MESSAGE, without hanging, without inflating a bomb past its cap and
 * without handing a bad content to onContent.
 */
import { createHash } from "node:crypto";
import { SyftError } from "../../../core/errors/mod.ts";
import { packBody, unpackBody, type UnpackBodyOptions } from "../../../core/events/body.ts";
import { INLINE_LIMIT } from "../../../core/events/types.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../assert.ts";

const enc = new TextEncoder();
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------
// A hand-written ustar writer, so the tests control every byte modern-tar's
// writer would never produce.

interface RawHeader {
  name: string;
  /** The typeflag character: "0" file, "1" hard link, "2" symlink, "3"/"4" devices, "5" dir, "6" FIFO, "x"/"g" pax, "L" GNU long name. */
  type?: string;
  size?: number;
  linkname?: string;
  prefix?: string;
  /** Written as is instead of the octal size. */
  sizeField?: string;
  /** Write a wrong checksum. */
  badChecksum?: boolean;
}

function header(h: RawHeader): Uint8Array {
  const block = new Uint8Array(512);
  const put = (offset: number, length: number, text: string) =>
    block.set(enc.encode(text).subarray(0, length), offset);
  put(0, 100, h.name);
  put(100, 8, "0000644\0");
  put(108, 8, "0000000\0");
  put(116, 8, "0000000\0");
  put(124, 12, h.sizeField ?? `${(h.size ?? 0).toString(8).padStart(11, "0")}\0`);
  put(136, 12, "00000000000\0");
  block.fill(0x20, 148, 156);
  put(156, 1, h.type ?? "0");
  put(157, 100, h.linkname ?? "");
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  put(345, 155, h.prefix ?? "");
  let sum = block.reduce((a, b) => a + b, 0);
  if (h.badChecksum) sum += 1;
  put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 512) * 512);
  out.set(bytes);
  return out;
}

/** A complete entry: header plus padded body. */
function entry(h: RawHeader, body: Uint8Array = new Uint8Array()): Uint8Array {
  return concat(header({ size: body.length, ...h }), padded(body));
}

function pax(records: Record<string, string>, type = "x"): Uint8Array {
  const body = enc.encode(
    Object.entries(records).map(([k, v]) => {
      const line = ` ${k}=${v}\n`;
      let length = line.length + 1;
      length = line.length + String(length + String(length).length - 1).length;
      return `${length}${line}`;
    }).join(""),
  );
  return entry({ name: "PaxHeader/x", type }, body);
}

const END = new Uint8Array(1024);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const JSON_BYTES = enc.encode('{"seq":1}');
const BATCH = entry({ name: "batch.json" }, JSON_BYTES);
const DATA = enc.encode("hello");
const HASH = sha256(DATA);
const GOOD = entry({ name: `c/${HASH}` }, DATA);

const DATA2 = enc.encode("second");
const GOOD2 = entry({ name: `c/${sha256(DATA2)}` }, DATA2);
const DATA3 = enc.encode("third");
const HASH3 = sha256(DATA3);
const GOOD3 = entry({ name: `c/${HASH3}` }, DATA3);

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
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

/**
 * Unpacks `body` (gzip'd already) expecting a refusal whose message contains
 * `fragment`; returns the hashes onContent saw.
 */
async function assertRefused(
  body: Uint8Array | ReadableStream<Uint8Array>,
  fragment: string,
  options: Partial<UnpackBodyOptions> = {},
): Promise<string[]> {
  const seen: string[] = [];
  await assertRejects(
    () =>
      unpackBody(body instanceof Uint8Array ? streamOf(body) : body, {
        first: "batch.json",
        onContent: (hash) => {
          seen.push(hash);
          return Promise.resolve();
        },
        ...options,
      }),
    (err) => {
      assert(err instanceof SyftError, `expected a SyftError, got ${String(err)}`);
      assertEquals(err.code, "E_BAD_MESSAGE", err.message);
      assert(!/[\r\n]/.test(err.message), `message is not one line: ${err.message}`);
      assertStringIncludes(err.message, fragment);
    },
  );
  return seen;
}

Deno.test("the hand-written tar of a batch and one content is accepted (the baseline)", async () => {
  const seen: string[] = [];
  const json = await unpackBody(streamOf(await gzip(concat(BATCH, GOOD, END))), {
    first: "batch.json",
    onContent: (hash) => {
      seen.push(hash);
      return Promise.resolve();
    },
  });
  assertEquals(json, JSON_BYTES);
  assertEquals(seen, [HASH]);
});

Deno.test("unpackBody() accepts zero padding after the end-of-archive blocks", async () => {
  const json = await unpackBody(streamOf(await gzip(concat(BATCH, END, new Uint8Array(9216)))), {
    first: "batch.json",
    onContent: () => Promise.resolve(),
  });
  assertEquals(json, JSON_BYTES);
});

// ---------------------------------------------------------------------------
// Entries that are not plain files, or are named to escape

const ENTRY_CASES: readonly [string, Uint8Array, string][] = [
  [
    "a symlink named c/..",
    entry({ name: "c/..", type: "2", linkname: "/etc" }),
    '"c/.." is a symlink',
  ],
  [
    "a symlink with a content's name",
    entry({ name: `c/${HASH}`, type: "2", linkname: "/etc/passwd" }),
    "is a symlink; only regular files are allowed",
  ],
  [
    "a hard link",
    entry({ name: `c/${HASH}`, type: "1", linkname: "batch.json" }),
    "is a hard link",
  ],
  ["a character device", entry({ name: "c/tty", type: "3" }), '"c/tty" is a character device'],
  ["a block device", entry({ name: `c/${HASH}`, type: "4" }), "is a block device"],
  ["a FIFO", entry({ name: `c/${HASH}`, type: "6" }), "is a FIFO"],
  ["a directory", entry({ name: "c/", type: "5" }), '"c/" is a directory'],
  ["a file whose name ends in /", entry({ name: "c/" }), "is a directory"],
  ["a file named ../x", entry({ name: "../x" }, DATA), '"../x" climbs out with ".."'],
  ["a file named c/../x", entry({ name: "c/../x" }, DATA), 'climbs out with ".."'],
  ["a file with an absolute name", entry({ name: "/abs" }, DATA), '"/abs" has an absolute name'],
  ["a ustar prefix that climbs out", entry({ name: "x", prefix: ".." }, DATA), '"../x" climbs out'],
  [
    "a content name in upper case",
    entry({ name: `c/${HASH.toUpperCase()}` }, DATA),
    "is not named c/<64",
  ],
  ["a content name with a suffix", entry({ name: `c/${HASH}/x` }, DATA), "is not named c/<64"],
  ["a content in another folder", entry({ name: `d/${HASH}` }, DATA), "is not named c/<64"],
  ["a second batch.json", entry({ name: "batch.json" }, JSON_BYTES), '"batch.json" appears twice'],
  ["a duplicate content", concat(GOOD, GOOD), `"c/${HASH}" appears twice`],
  [
    "a content that does not hash to its name",
    entry({ name: `c/${HASH}` }, enc.encode("hellO")),
    `"c/${HASH}" holds content whose SHA-256 is ${sha256(enc.encode("hellO"))}`,
  ],
  [
    "a pax header renaming the next entry to ../evil",
    concat(pax({ path: "../evil" }), entry({ name: `c/${HASH}` }, DATA)),
    'entry "../evil" carries pax attributes ("path")',
  ],
  [
    "a pax header dressing a bad ustar name as a content",
    concat(pax({ path: `c/${HASH}` }), entry({ name: "../evil" }, DATA)),
    'carries pax attributes ("path")',
  ],
  [
    "a global pax header",
    concat(pax({ comment: "hi" }, "g"), entry({ name: `c/${HASH}` }, DATA)),
    'carries pax attributes ("comment")',
  ],
  [
    "a GNU long name renaming the next entry out of the folder",
    concat(
      entry({ name: "././@LongLink", type: "L" }, enc.encode("../../etc/passwd\0")),
      entry({ name: `c/${HASH}` }, DATA),
    ),
    '"../../etc/passwd" climbs out with ".."',
  ],
];

for (const [what, bad, fragment] of ENTRY_CASES) {
  Deno.test(`unpackBody() refuses the whole body for ${what}`, async () => {
    const seen = await assertRefused(await gzip(concat(BATCH, GOOD2, bad, GOOD3, END)), fragment);
    // Entries before the bad one may have been handed over (they verified);
    // nothing after it ever is.
    assertEquals(seen.filter((h) => h === HASH3), []);
  });
}

// ---------------------------------------------------------------------------
// The first entry

Deno.test("unpackBody() refuses a content placed before batch.json", async () => {
  await assertRefused(
    await gzip(concat(GOOD, BATCH, END)),
    `batch body: its first entry is "c/${HASH}", not batch.json`,
  );
});

Deno.test("unpackBody() refuses a first entry with another name", async () => {
  await assertRefused(
    await gzip(concat(entry({ name: "./batch.json" }, JSON_BYTES), END)),
    "not batch.json",
  );
  await assertRefused(
    await gzip(concat(BATCH, END)),
    'checkpoint body: its first entry is "batch.json", not checkpoint.json',
    { first: "checkpoint.json" },
  );
});

Deno.test("unpackBody() refuses a batch.json that is a symlink", async () => {
  await assertRefused(
    await gzip(concat(entry({ name: "batch.json", type: "2", linkname: "/etc/passwd" }), END)),
    '"batch.json" is a symlink',
  );
});

Deno.test("unpackBody() refuses an empty tar", async () => {
  await assertRefused(await gzip(END), "it is an empty tar, without batch.json");
});

Deno.test("unpackBody() refuses a batch.json over 64 MiB from its header alone", async () => {
  // The header claims 65 MiB and no body follows: refused before any is read.
  await assertRefused(
    await gzip(header({ name: "batch.json", size: 65 * MiB })),
    `"batch.json" is ${65 * MiB} bytes, more than ${64 * MiB}`,
  );
  await assertRefused(await gzip(concat(BATCH, END)), "more than 4", { maxFirstBytes: 4 });
});

// ---------------------------------------------------------------------------
// Sizes and counts

Deno.test("unpackBody() refuses a content one byte over the inline limit", async () => {
  const big = new Uint8Array(INLINE_LIMIT + 1);
  const seen = await assertRefused(
    await gzip(concat(BATCH, entry({ name: `c/${sha256(big)}` }, big), END)),
    `is ${INLINE_LIMIT + 1} bytes, more than ${INLINE_LIMIT}`,
  );
  assertEquals(seen, []);
});

Deno.test("unpackBody() refuses a content whose header claims 8 GiB, without reading it", async () => {
  await assertRefused(
    await gzip(concat(BATCH, header({ name: `c/${HASH}`, sizeField: "77777777777\0" }))),
    "bytes, more than 262144",
  );
});

Deno.test("unpackBody() refuses more entries than maxEntries, before reading the extra one", async () => {
  const parts = Array.from({ length: 5 }, (_, i) => {
    const bytes = enc.encode(`content ${i}`);
    return entry({ name: `c/${sha256(bytes)}` }, bytes);
  });
  const seen = await assertRefused(
    await gzip(concat(BATCH, ...parts, END)),
    "it has more than 4 tar entries",
    { maxEntries: 4 },
  );
  assertEquals(seen.length, 3);
});

Deno.test("unpackBody() refuses 20,002 entries under the default cap", async () => {
  const parts: Uint8Array[] = [BATCH];
  for (let i = 0; i < 20_001; i++) {
    const bytes = enc.encode(String(i));
    parts.push(entry({ name: `c/${sha256(bytes)}` }, bytes));
  }
  const seen = await assertRefused(
    await gzip(concat(...parts, END)),
    "it has more than 20001 tar entries",
  );
  assertEquals(seen.length, 20_000);
});

// ---------------------------------------------------------------------------
// Broken gzip and tar

const CORRUPTIONS: readonly [string, () => Promise<Uint8Array>, string][] = [
  [
    "bytes that are not gzip",
    () => Promise.resolve(enc.encode("plain text, not gzip")),
    "it is not valid gzip",
  ],
  ["an empty input", () => Promise.resolve(new Uint8Array()), "it is not valid gzip"],
  [
    "a truncated gzip",
    async () => (await gzip(concat(BATCH, GOOD, END))).slice(0, 40),
    "it is not valid gzip",
  ],
  ["a gzip without its trailer", async () => {
    const z = await gzip(concat(BATCH, GOOD, END));
    return z.slice(0, z.length - 8);
  }, "it is not valid gzip"],
  ["a flipped byte in the deflate data", async () => {
    const z = await gzip(concat(BATCH, GOOD, END));
    z[30] = (z[30] ?? 0) ^ 0x55;
    return z;
  }, "batch body: it is not"],
  ["a wrong CRC", async () => {
    const z = await gzip(concat(BATCH, GOOD, END));
    z[z.length - 6] = (z[z.length - 6] ?? 0) ^ 1;
    return z;
  }, "it is not valid gzip"],
  ["garbage after the gzip stream", async () => {
    return concat(await gzip(concat(BATCH, GOOD, END)), enc.encode("trailing"));
  }, "it is not valid gzip"],
  ["a second gzip member", async () => {
    const z = await gzip(concat(BATCH, GOOD, END));
    return concat(z, z);
  }, "it is not valid gzip"],
  [
    "a tar truncated in a body",
    () => gzip(concat(BATCH, GOOD.slice(0, 520))),
    "it is not a valid tar",
  ],
  ["a tar without end-of-archive blocks", () => gzip(concat(BATCH, GOOD)), "it is not a valid tar"],
  ["a tar cut in a header", () => gzip(concat(BATCH, GOOD.slice(0, 300))), "it is not a valid tar"],
  [
    "a header with a wrong checksum",
    () => gzip(concat(BATCH, entry({ name: `c/${HASH}`, badChecksum: true }, DATA), END)),
    "it is not a valid tar",
  ],
  [
    "a header with a size that is not octal",
    () => gzip(concat(BATCH, header({ name: `c/${HASH}`, sizeField: "12x45\0" }), END)),
    "it is not a valid tar",
  ],
  [
    "garbage after the end-of-archive blocks",
    () => gzip(concat(BATCH, END, enc.encode("hidden payload"))),
    "it is not a valid tar",
  ],
  [
    "a lone zero block followed by a header",
    () => gzip(concat(BATCH, new Uint8Array(512), GOOD, END)),
    "it is not a valid tar",
  ],
];

for (const [what, make, fragment] of CORRUPTIONS) {
  Deno.test(`unpackBody() refuses ${what}`, async () => {
    await assertRefused(await make(), fragment);
  });
}

// ---------------------------------------------------------------------------
// Gzip bombs

/** `zeros` bytes of zeros after a valid tar, gzip'd as a lazy stream; counts what was pulled. */
function bomb(zeros: number, prefix: Uint8Array): {
  stream: ReadableStream<Uint8Array>;
  produced: () => number;
  compressedRead: () => number;
  cancelled: () => boolean;
} {
  let produced = 0;
  let compressed = 0;
  let cancelled = false;
  const block = new Uint8Array(MiB);
  const plain = new ReadableStream<BufferSource>({
    start(c) {
      c.enqueue(prefix as Uint8Array<ArrayBuffer>);
    },
    pull(c) {
      if (produced >= zeros) return c.close();
      const n = Math.min(MiB, zeros - produced);
      produced += n;
      c.enqueue(block.subarray(0, n));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const reader = plain.pipeThrough(new CompressionStream("gzip")).getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      const r = await reader.read();
      if (r.done) return c.close();
      compressed += r.value.length;
      c.enqueue(r.value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  return {
    stream,
    produced: () => produced,
    compressedRead: () => compressed,
    cancelled: () => cancelled,
  };
}

Deno.test("unpackBody() stops a 600 MiB gzip bomb at a 1 MiB cap, reading only a sliver of it", async () => {
  const b = bomb(600 * MiB, concat(BATCH, END));
  await assertRefused(b.stream, "it inflates to more than 1048576 bytes", {
    maxInflatedBytes: MiB,
  });
  // The source was cancelled instead of being inflated to the end.
  assert(b.produced() < 32 * MiB, `the bomb was inflated to ${b.produced()} bytes`);
  for (let i = 0; i < 20 && !b.cancelled(); i++) await new Promise((r) => setTimeout(r, 5));
  assert(b.cancelled(), "the bomb's source was not cancelled");
});

Deno.test("unpackBody() stops a bomb of pure zeros (no tar entry at all) at the cap", async () => {
  const b = bomb(600 * MiB, new Uint8Array());
  await assertRefused(b.stream, "it inflates to more than 4194304 bytes", {
    maxInflatedBytes: 4 * MiB,
  });
  assert(b.produced() < 40 * MiB, `the bomb was inflated to ${b.produced()} bytes`);
});

Deno.test("unpackBody() counts a bomb's bytes in the first entry against the cap", async () => {
  const b = bomb(600 * MiB, header({ name: "batch.json", size: 60 * MiB }));
  await assertRefused(b.stream, "it inflates to more than 2097152 bytes", {
    maxInflatedBytes: 2 * MiB,
  });
});

Deno.test("unpackBody() stops a 600 MiB gzip bomb at the default 512 MiB cap", async () => {
  const started = performance.now();
  const b = bomb(600 * MiB, concat(BATCH, END));
  await assertRefused(b.stream, `it inflates to more than ${512 * MiB} bytes`);
  assert(b.produced() < 560 * MiB, `the bomb was inflated to ${b.produced()} bytes`);
  const seconds = (performance.now() - started) / 1000;
  assert(seconds < 15, `took ${seconds.toFixed(1)} s`);
});

// ---------------------------------------------------------------------------
// Never hangs, never throws anything else

Deno.test("unpackBody() cancels its input when it refuses a body", async () => {
  const z = await gzip(concat(GOOD, BATCH, END));
  let cancelled = false;
  let sent = false;
  const input = new ReadableStream<Uint8Array>({
    pull(c) {
      // Send the body, then stall forever: only a cancel ends this stream.
      if (!sent) c.enqueue(z);
      sent = true;
      return new Promise(() => {});
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  await assertRefused(input, "its first entry is");
  assert(cancelled, "the input was not cancelled");
});

Deno.test("unpackBody() refuses random bytes after a gzip header with E_BAD_MESSAGE only", async () => {
  // Seeded, so a failure replays: print the seed with the failure.
  for (let seed = 1; seed <= 40; seed++) {
    let x = seed * 2654435761 >>> 0 || 1;
    const junk = new Uint8Array(2000);
    for (let i = 0; i < junk.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      junk[i] = x & 0xff;
    }
    junk.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    try {
      await assertRefused(junk, "batch body: it is not");
    } catch (err) {
      throw new Error(`seed ${seed}: ${String(err)}`);
    }
  }
});

Deno.test("unpackBody() refuses every truncation of a valid body", async () => {
  const z = await packedBody();
  for (let cut = 0; cut < z.length; cut += 7) {
    try {
      await assertRefused(z.slice(0, cut), "batch body: it is not");
    } catch (err) {
      throw new Error(`cut at ${cut}: ${String(err)}`);
    }
  }
});

async function packedBody(): Promise<Uint8Array> {
  const body = packBody({ name: "batch.json", bytes: JSON_BYTES }, [{ hash: HASH, bytes: DATA }]);
  return new Uint8Array(await new Response(body).arrayBuffer());
}
