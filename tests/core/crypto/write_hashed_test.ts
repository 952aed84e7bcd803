import { createHash } from "node:crypto";
import { EARLY_SYNC_BYTES, writeHashed } from "../../../core/crypto/hash.ts";
import { MemoryFs } from "../../../core/testing/memory_fs.ts";
import { assert, assertEquals } from "../../assert.ts";

/** `total` bytes in 1 MiB pieces, each filled with its index, and their SHA-256. */
function pieces(total: number): { stream: ReadableStream<Uint8Array>; hash: string } {
  const hash = createHash("sha256");
  const all: Uint8Array[] = [];
  for (let at = 0, i = 0; at < total; at += 1 << 20, i++) {
    const piece = new Uint8Array(Math.min(1 << 20, total - at)).fill(i & 0xff);
    hash.update(piece);
    all.push(piece);
  }
  return { stream: ReadableStream.from(all), hash: hash.digest("hex") };
}

Deno.test("writeHashed() has a large body's first stretch made durable before its caller's fsync", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("/stage");
  const total = EARLY_SYNC_BYTES + (1 << 20);
  const body = pieces(total);
  const got = await writeHashed(body.stream, "/stage/blob.part", fs);
  assertEquals(got, { hash: body.hash, size: total });
  assert(fs.syncs >= 1, "no early sync ran");
  fs.crash(); // the caller's own fsync never came
  const kept = (await fs.lstat("/stage/blob.part")).size;
  assert(kept >= EARLY_SYNC_BYTES, `only ${kept} bytes survived the crash`);
});

Deno.test("writeHashed() leaves a body under the early-sync size to its caller's fsync", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("/stage");
  const body = pieces(3 << 20);
  const got = await writeHashed(body.stream, "/stage/blob.part", fs);
  assertEquals(got, { hash: body.hash, size: 3 << 20 });
  assertEquals(fs.syncs, 0);
  fs.crash();
  assertEquals(fs.existsSync("/stage/blob.part"), false);
});
