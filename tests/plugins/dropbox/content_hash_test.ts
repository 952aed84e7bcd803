/**
 * Dropbox's content hash, computed by us: the reference definition (SHA-256
 * of the SHA-256 of each 4 MiB block) on known vectors and across block
 * edges, whatever the slicing of the stream it is fed from.
 */
import { createHash } from "node:crypto";
import { assertEquals } from "../_assert.ts";
import {
  CONTENT_HASH_BLOCK,
  contentHash,
  ContentHasher,
} from "../../../plugins/dropbox/_content_hash.ts";

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest();

/** The definition, written out plainly. */
function reference(bytes: Uint8Array): string {
  const outer = createHash("sha256");
  for (let at = 0; at < bytes.byteLength; at += CONTENT_HASH_BLOCK) {
    outer.update(sha(bytes.subarray(at, at + CONTENT_HASH_BLOCK)));
  }
  return outer.digest("hex");
}

function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >> 12)) & 0xff;
  return out;
}

Deno.test("the content hash of known inputs matches Dropbox's definition", () => {
  // No blocks: the SHA-256 of nothing.
  assertEquals(
    contentHash(new Uint8Array(0)),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  // One block "abc": SHA-256(SHA-256("abc")), fixed here so a change of definition shows.
  assertEquals(
    contentHash(new TextEncoder().encode("abc")),
    "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358",
  );
});

Deno.test("the content hash is per 4 MiB block: one block, a block and a byte, several blocks", () => {
  const MiB = 1024 * 1024;
  for (const size of [1, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 9 * MiB + 5]) {
    const bytes = pattern(size);
    assertEquals(contentHash(bytes), reference(bytes), `size ${size}`);
  }
  // Two blocks hash differently from the SHA-256 of the whole.
  const two = pattern(4 * MiB + 1);
  assertEquals(contentHash(two) === createHash("sha256").update(two).digest("hex"), false);
});

Deno.test("the incremental hasher gives the same hash whatever the slicing", () => {
  const bytes = pattern(8 * 1024 * 1024 + 777);
  for (const slice of [1000, 65536, 4 * 1024 * 1024 - 3, 8 * 1024 * 1024]) {
    const hasher = new ContentHasher();
    for (let at = 0; at < bytes.byteLength; at += slice) {
      hasher.update(bytes.subarray(at, at + slice));
    }
    assertEquals(hasher.digest(), reference(bytes), `slices of ${slice}`);
  }
});
