/**
 * Hostile envelopes (docs/protocol.md §3): every malformed, cut, edited, spliced,
 * replayed or foreign object is refused with E_BAD_MESSAGE — never accepted,
 * never a hang, never another kind of crash.
 */
import { type Expect, openEnvelope, sealEnvelope } from "../../../core/events/envelope.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import {
  alice,
  bob,
  type FixedIdentity,
  openKeys,
  patternBytes,
  readAll,
  sealKeys,
  streamOf,
  withinMs,
} from "../crypto/_fixtures.ts";

const NAME = "b-0000000000000002.syft";
const EXPECT: Expect = { name: NAME, sender: alice.email, recipient: bob.email };
const SALT = Uint8Array.from({ length: 16 }, (_, i) => i);
const FOX = new TextEncoder().encode("The quick brown fox jumps over the lazy dog.");

async function seal(
  plain: Uint8Array,
  extra: { name?: string; seq?: number; created_at?: number; salt?: Uint8Array } = {},
): Promise<Uint8Array> {
  return await readAll(sealEnvelope(
    {
      kind: "batch",
      name: extra.name ?? NAME,
      sender: alice.email,
      recipient: bob.email,
      seq: extra.seq ?? 2,
      created_at: extra.created_at ?? 1_700_000_000_000,
      size: plain.length,
      chunk: 16,
      salt: extra.salt ?? SALT,
    },
    plain,
    sealKeys(alice, bob),
  ));
}

/** The 44-byte reference object: prefix 278 bytes, then chunks at 278, 310, 342 (end 370). */
const GOOD = await seal(FOX);
const HEADER_END = 214;
const BODY = 278;
const CHUNK_AT = [278, 310, 342];
assertEquals(GOOD.length, 370);

interface Attempt {
  expect?: Expect;
  keys?: ReturnType<typeof openKeys>;
  pieces?: number[] | undefined;
}

/** Open and read `bytes` to the end; return the refusal, failing if it was accepted. */
async function refusal(bytes: Uint8Array, attempt: Attempt = {}): Promise<SyftError> {
  const run = async () => {
    const { body } = await openEnvelope(
      streamOf(bytes, attempt.pieces),
      attempt.expect ?? EXPECT,
      attempt.keys ?? openKeys(alice, bob),
    );
    await readAll(body);
  };
  try {
    await withinMs(run(), 5000, "opening a hostile envelope");
  } catch (err) {
    assert(err instanceof SyftError, `expected a SyftError, got ${err}`);
    assertEquals(err.code, "E_BAD_MESSAGE", err.message);
    assert(err.message.startsWith(`object ${(attempt.expect ?? EXPECT).name}: `), err.message);
    return err;
  }
  throw new Error(`a hostile envelope of ${bytes.length} bytes was accepted`);
}

async function assertRefused(bytes: Uint8Array, includes: string, attempt: Attempt = {}) {
  assertStringIncludes((await refusal(bytes, attempt)).message, includes);
}

const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};

/** An envelope whose header is `header` verbatim, properly signed by `by`: it reaches the parser. */
async function forged(header: string | Uint8Array, by: FixedIdentity = alice) {
  const bytes = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const signed = cat(new TextEncoder().encode("SYFT1\n"), u32(bytes.length), bytes);
  const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", by.signPrivate, signed));
  return cat(signed, sig, new Uint8Array(16));
}

const HEADER = {
  v: 1,
  kind: "batch",
  name: NAME,
  sender: alice.email,
  recipient: bob.email,
  seq: 2,
  created_at: 1_700_000_000_000,
  salt: "AAECAwQFBgcICQoLDA0ODw==",
  chunk: 16,
  size: 0,
};

Deno.test("the reference object opens, whole and one byte at a time", async () => {
  for (const pieces of [undefined, [1]]) {
    const { body } = await openEnvelope(streamOf(GOOD, pieces), EXPECT, openKeys(alice, bob));
    assertEquals(await readAll(body), FOX);
  }
  assertEquals(
    new TextDecoder().decode(GOOD.subarray(10, HEADER_END)),
    JSON.stringify({ ...HEADER, size: 44 }),
  );
});

Deno.test("an envelope cut at any byte is refused, saying where it ends", async () => {
  for (let cut = 0; cut < GOOD.length; cut++) {
    const expected = cut === 0
      ? "empty"
      : cut < 6
      ? "truncated inside the magic"
      : cut < 10
      ? "truncated inside the header length"
      : cut < HEADER_END
      ? "header length 204 runs past the end"
      : cut < BODY
      ? "truncated inside the signature"
      : CHUNK_AT.includes(cut)
      ? `chunk ${CHUNK_AT.indexOf(cut) + 1} of 3 is missing`
      : "truncated inside chunk";
    for (const pieces of [undefined, [7]]) {
      await assertRefused(GOOD.subarray(0, cut), expected, { pieces });
    }
  }
});

Deno.test("an envelope without its last chunk is refused, even when that chunk is empty", async () => {
  const exact = await seal(patternBytes(32)); // chunks of 16, 16 and an empty last one
  assertEquals(exact.length, BODY + 32 + 32 + 16);
  await assertRefused(exact.subarray(0, exact.length - 16), "chunk 3 of 3 is missing");
});

Deno.test("one flipped bit anywhere is refused: magic, length, header, signature, chunk, tag", async () => {
  for (let at = 0; at < GOOD.length; at++) {
    const bad = GOOD.slice();
    bad[at]! ^= 0x01;
    const err = await refusal(bad);
    const region = at < 6
      ? "wrong magic"
      : at < 10
      ? "header length"
      : at < BODY
      ? "bad signature"
      : `chunk ${CHUNK_AT.findLastIndex((c) => c <= at) + 1} of 3 failed authentication`;
    // Lengthening the header by one pulls a signature byte in: then the signature fails.
    if (at >= 6 && at < 10) assert(/header length|bad signature/.test(err.message), err.message);
    else assertStringIncludes(err.message, region, `flip at ${at}`);
  }
});

Deno.test("a wrong magic is refused before anything else is read", async () => {
  for (
    const magic of [
      "SYFT2\n",
      "syft1\n",
      "SYFT1\r",
      "PK\x03\x04\x00\x00",
      "\x1f\x8b\x08\x00\x00\x00",
    ]
  ) {
    const bad = cat(new TextEncoder().encode(magic), GOOD.subarray(6));
    await assertRefused(bad, "wrong magic");
  }
  await assertRefused(new TextEncoder().encode("{}"), "wrong magic");
});

Deno.test("a header length over 65,536 is refused without reading that far", async () => {
  for (const n of [65_537, 1_000_000, 0xffff_ffff]) {
    await assertRefused(
      cat(GOOD.subarray(0, 6), u32(n), GOOD.subarray(10)),
      `header length ${n} exceeds 65536`,
    );
  }
});

Deno.test("a header length past the end of the object is refused", async () => {
  await assertRefused(
    cat(GOOD.subarray(0, 6), u32(65_536), GOOD.subarray(10)),
    "runs past the end",
  );
  await assertRefused(
    cat(GOOD.subarray(0, 6), u32(5000), GOOD.subarray(10)),
    "header length 5000 runs past the end",
  );
});

Deno.test("a signed header that is not a JSON object is refused", async () => {
  const cases: [string | Uint8Array, string][] = [
    ["", "not JSON"],
    ["{", "not JSON"],
    ["batch", "not JSON"],
    ["[1,2]", "not a JSON object"],
    ["null", "not a JSON object"],
    ["\ufeff" + JSON.stringify(HEADER), "not JSON"],
    [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "not UTF-8"],
  ];
  for (const [header, why] of cases) await assertRefused(await forged(header), why);
});

Deno.test("a signed header with a wrong type, value or field set is refused, naming it", async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ v: 2 }, "version 2"],
    [{ v: "1" }, "version"],
    [{ kind: "tar" }, "kind"],
    [{ kind: 1 }, "kind"],
    [{ name: 7 }, "name"],
    [{ sender: null }, "sender"],
    [{ recipient: ["bob@example.org"] }, "recipient"],
    [{ name: "b 2.syft" }, "name"],
    [{ seq: -1 }, "seq"],
    [{ seq: "2" }, "seq"],
    [{ created_at: 1.5 }, "created_at"],
    [{ size: 2 ** 53 }, "size"],
    [{ size: -16 }, "size"],
    [{ chunk: 0 }, "chunk"],
    [{ chunk: 16 * 1024 * 1024 + 1 }, "chunk"],
    [{ chunk: "16" }, "chunk"],
    [{ chunk: 1, size: 2 ** 33 }, "2^32 chunks"],
    [{ salt: "AAECAwQFBgcICQoLDA0O" }, "salt"], // 15 bytes
    [{ salt: "AAECAwQFBgcICQoLDA0ODw" }, "salt"], // no padding
    [{ salt: "AAECAwQFBgcICQoLDA0ODx==" }, "salt"], // non-canonical last digit
    [{ salt: "AAECAwQFBgcICQoLDA0OD_==" }, "salt"], // url-safe alphabet
    [{ salt: 5 }, "salt"],
    [{ extra: true }, 'unknown field "extra"'],
    [{ ["__proto__"]: {} }, 'unknown field "__proto__"'],
  ];
  for (const [change, why] of cases) {
    const text = JSON.stringify({ ...HEADER, ...change });
    await assertRefused(await forged(text), why);
  }
  for (const field of Object.keys(HEADER)) {
    const { [field]: _gone, ...rest } = HEADER as Record<string, unknown>;
    await assertRefused(await forged(JSON.stringify(rest)), `lacks "${field}"`);
  }
});

Deno.test("a well-formed header signed by the right key opens (the forger itself is sound)", async () => {
  const { header } = await openEnvelope(
    streamOf(await forged(JSON.stringify(HEADER))),
    EXPECT,
    openKeys(alice, bob),
  );
  assertEquals(header.size, 0);
});

Deno.test("chunks reordered or spliced from another object are refused", async () => {
  const swapped = cat(
    GOOD.subarray(0, BODY),
    GOOD.subarray(310, 342),
    GOOD.subarray(278, 310),
    GOOD.subarray(342),
  );
  await assertRefused(swapped, "chunk 1 of 3 failed authentication");
  // Same key (same salt, name, parties) but another header: only the header hash in the
  // additional data tells the chunks apart.
  const other = await seal(FOX, { created_at: 1_700_000_000_001 });
  const spliced = cat(GOOD.subarray(0, 310), other.subarray(310, 342), GOOD.subarray(342));
  await assertRefused(spliced, "chunk 2 of 3 failed authentication");
  // A chunk of an object under another key.
  const foreign = await seal(FOX, { salt: new Uint8Array(16) });
  await assertRefused(
    cat(GOOD.subarray(0, BODY), foreign.subarray(BODY)),
    "chunk 1 of 3 failed authentication",
  );
  // A chunk repeated in the next slot: same key, but the nonce holds the index.
  await assertRefused(
    cat(GOOD.subarray(0, 310), GOOD.subarray(278, 310), GOOD.subarray(342)),
    "chunk 2 of 3 failed authentication",
  );
});

Deno.test("extra bytes after the last chunk are refused", async () => {
  await assertRefused(cat(GOOD, new Uint8Array(1)), "extra bytes after the last chunk");
  await assertRefused(cat(GOOD, GOOD.subarray(342)), "extra bytes after the last chunk");
  await assertRefused(cat(GOOD, GOOD), "extra bytes after the last chunk", { pieces: [3] });
});

Deno.test("an object opened under another name, sender, recipient or kind is refused", async () => {
  const cases: [Expect, string][] = [
    [{ ...EXPECT, name: "b-0000000000000003.syft" }, 'header name is "b-0000000000000002.syft"'],
    [{ ...EXPECT, sender: bob.email }, "header sender"],
    [{ ...EXPECT, recipient: alice.email }, "header recipient"],
    [{ ...EXPECT, kind: "blob" }, "header kind"],
  ];
  for (const [expect, why] of cases) await assertRefused(GOOD, why, { expect });
  // An old batch copied under the next seq name: its signed name still says b-1.
  const b1 = await seal(FOX, { name: "b-0000000000000001.syft", seq: 1 });
  await assertRefused(b1, "header name", { expect: EXPECT });
  // A header whose seq contradicts its own standard name.
  await assertRefused(await forged(JSON.stringify({ ...HEADER, seq: 3 })), "the name says 2");
  // A blob signed under a batch name.
  await assertRefused(await forged(JSON.stringify({ ...HEADER, kind: "blob" })), "header kind");
});

Deno.test("an object checked with another sender's key, or for another recipient, is refused", async () => {
  await assertRefused(GOOD, "bad signature", {
    keys: { ...openKeys(alice, bob), senderSignPublic: bob.signPublic },
  });
  // Signed by bob, claiming to come from alice.
  await assertRefused(await forged(JSON.stringify(HEADER), bob), "bad signature");
  // Read with another X25519 key: the header verifies, the first chunk cannot.
  const stranger = await crypto.subtle.generateKey({ name: "X25519" }, false, [
    "deriveBits",
  ]) as CryptoKeyPair;
  await assertRefused(GOOD, "chunk 1 of 3 failed authentication", {
    keys: { ...openKeys(alice, bob), agreePrivate: stranger.privateKey },
  });
});

Deno.test("an error of the source stream passes through unchanged, with no hang", async () => {
  const boom = new Error("transport went away");
  let sent = false;
  const source = new ReadableStream<Uint8Array>({
    pull(c) {
      if (!sent) {
        sent = true;
        c.enqueue(GOOD.subarray(0, 300));
      } else c.error(boom);
    },
  });
  const { body } = await openEnvelope(source, EXPECT, openKeys(alice, bob));
  let caught: unknown = null;
  try {
    await withinMs(readAll(body), 5000, "reading a failing source");
  } catch (err) {
    caught = err;
  }
  assertEquals(caught, boom);
});

Deno.test("random mutations are refused or harmless (seeded; the seed is printed on failure)", async () => {
  const seed = Number(Deno.env.get("SYFT_SEED") ?? Date.now() % 1_000_000);
  let x = seed || 1;
  const rand = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  try {
    for (let round = 0; round < 300; round++) {
      const bytes = Array.from(GOOD);
      const edits = 1 + rand(3);
      for (let e = 0; e < edits; e++) {
        const at = rand(bytes.length);
        const op = rand(3);
        if (op === 0) bytes[at] = rand(256);
        else if (op === 1) bytes.splice(at, 1 + rand(20));
        else bytes.splice(at, 0, ...Array.from({ length: 1 + rand(20) }, () => rand(256)));
      }
      const mutated = Uint8Array.from(bytes);
      if (mutated.length === GOOD.length && mutated.every((b, i) => b === GOOD[i])) continue;
      await refusal(mutated, { pieces: [1 + rand(64)] });
    }
  } catch (err) {
    console.error(`random mutation test failed with SYFT_SEED=${seed}`);
    throw err;
  }
});
