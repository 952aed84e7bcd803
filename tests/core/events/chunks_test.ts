import { ByteReader } from "../../../core/events/_chunks.ts";
import { openEnvelope, sealEnvelope } from "../../../core/events/envelope.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import {
  alice,
  bob,
  openKeys,
  patternBytes,
  readAll,
  sealKeys,
  streamOf,
} from "../crypto/_fixtures.ts";

const bytes = (...values: number[]) => Uint8Array.from(values);

Deno.test("a ByteReader fills a buffer given back again, with the next bytes", async () => {
  const reader = new ByteReader(streamOf(patternBytes(12, 3), [3]));
  const first = await reader.read(4); // spans two 3-byte pieces: assembled
  assertEquals(first, patternBytes(12, 3).subarray(0, 4));
  reader.reuse(first);
  const second = await reader.read(4);
  assert(second.buffer === first.buffer, "the buffer given back was not filled again");
  assertEquals(second, patternBytes(12, 3).subarray(4, 8));
  // Not given back: the next read gets a buffer of its own.
  const third = await reader.read(4);
  assert(third.buffer !== second.buffer);
  assertEquals(third, patternBytes(12, 3).subarray(8, 12));
});

Deno.test("a ByteReader never refills bytes it did not assemble whole", async () => {
  // A read inside one source piece is a view of that piece: the source's bytes.
  const source = bytes(1, 2, 3, 4, 5, 6, 7, 8);
  const reader = new ByteReader(streamOf(source, [4, 1, 1, 1, 1]));
  const view = await reader.read(2);
  reader.reuse(view);
  const spanning = await reader.read(3); // 2 left of the first piece + 1
  assert(spanning.buffer !== view.buffer, "a view of a source piece was refilled");
  assertEquals(view, bytes(1, 2));
  assertEquals(spanning, bytes(3, 4, 5));
  // A part of an assembled buffer, or a buffer from elsewhere, is ignored too.
  reader.reuse(spanning.subarray(1));
  reader.reuse(new Uint8Array(3));
  const short = await reader.read(5); // only 3 bytes are left
  assert(short.buffer !== spanning.buffer);
  assertEquals(short, bytes(6, 7, 8));
  assertEquals(spanning, bytes(3, 4, 5));
});

const NAME = `x-${"ab".repeat(32)}.syft`;
const EXPECT = { name: NAME, sender: alice.email, recipient: bob.email, kind: "blob" as const };

async function sealed(plain: Uint8Array, chunk: number): Promise<Uint8Array> {
  const params = {
    kind: "blob" as const,
    name: NAME,
    sender: alice.email,
    recipient: bob.email,
    seq: 1,
    created_at: 1_700_000_000_000,
    size: plain.length,
    chunk,
  };
  return await readAll(sealEnvelope(params, streamOf(plain, [chunk - 7]), sealKeys(alice, bob)));
}

Deno.test("an envelope whose chunks never line up with its pieces opens whole, buffers reused", async () => {
  // 41 chunks of 64 bytes, sealed from and read in pieces that never line up,
  // so every chunk on both sides is assembled, and its buffer reused.
  const plain = patternBytes(40 * 64 + 9, 11);
  const object = await sealed(plain, 64);
  const { body } = await openEnvelope(streamOf(object, [50]), EXPECT, openKeys(alice, bob));
  assertEquals(await readAll(body), plain);
});

Deno.test("a tampered chunk is refused as before when buffers are reused", async () => {
  const plain = patternBytes(40 * 64 + 9, 12);
  const object = await sealed(plain, 64);
  const tampered = object.slice();
  // Sealed chunks are 80 bytes, the last (9 + 16) 25: this byte is in chunk 21 of 41.
  const at = tampered.length - 25 - 19 * 80 - 40;
  tampered[at] = tampered[at]! ^ 1;
  const { body } = await openEnvelope(streamOf(tampered, [50]), EXPECT, openKeys(alice, bob));
  await assertRejects(() => readAll(body), (err) => {
    assert(err instanceof SyftError && err.code === "E_BAD_MESSAGE", String(err));
    assertEquals(err.message, `object ${NAME}: chunk 21 of 41 failed authentication`);
  });
});
