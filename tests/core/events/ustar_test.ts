/**
 * Our ustar writer against modern-tar's reader (the one unpackBody uses):
 * every output round-trips, with names and sizes drawn at random, including
 * the edges of a 512-byte block and of the writer's chunks.
 */
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../../assert.ts";
import { createTarDecoder, createTarPacker } from "modern-tar";
import { TAR_CHUNK_BYTES, TarChunks, ustarHeader } from "../../../core/events/ustar.ts";
import { prng } from "../../../core/random/prng.ts";

interface Entry {
  name: string;
  bytes: Uint8Array;
}

async function write(entries: Entry[]): Promise<{ tar: Uint8Array; chunks: number[] }> {
  const parts: Uint8Array[] = [];
  const tar = new TarChunks((chunk) => {
    parts.push(chunk.slice());
    return Promise.resolve();
  });
  for (const e of entries) await tar.add(e.name, e.bytes);
  await tar.finish();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.byteLength) - p.byteLength);
  return { tar: out, chunks: parts.map((p) => p.byteLength) };
}

async function read(tar: Uint8Array): Promise<Entry[]> {
  const out: Entry[] = [];
  const entries = new Blob([tar as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    createTarDecoder({ strict: true }),
  );
  for await (const { header, body } of entries) {
    assertEquals(header.type, "file", header.name);
    assertEquals(header.mode, 0o644, header.name);
    assertEquals(header.uid, 0);
    assertEquals(header.mtime?.getTime(), 0);
    out.push({ name: header.name, bytes: new Uint8Array(await new Response(body).arrayBuffer()) });
  }
  return out;
}

Deno.test("tar written here reads back through modern-tar: random names and sizes, block and chunk edges", async () => {
  const next = prng(16);
  const nameChars = "abcdefghijklmnopqrstuvwxyz0123456789._-/";
  const sizes = [0, 1, 511, 512, 513, 1024, TAR_CHUNK_BYTES - 512, TAR_CHUNK_BYTES, 300 * 1024];
  for (let round = 0; round < 40; round++) {
    const entries: Entry[] = [];
    const names = new Set<string>();
    for (let i = 0, n = 1 + Math.floor(next() * 12); i < n; i++) {
      let name = "";
      for (let j = 0, len = 1 + Math.floor(next() * 99); j < len; j++) {
        name += nameChars[Math.floor(next() * nameChars.length)];
      }
      if (name.startsWith("/") || name.endsWith("/") || names.has(name)) continue;
      names.add(name);
      const size = next() < 0.5
        ? sizes[Math.floor(next() * sizes.length)]!
        : Math.floor(next() * 70_000);
      const bytes = new Uint8Array(size);
      for (let k = 0; k < size; k += 997) bytes[k] = Math.floor(next() * 256);
      entries.push({ name, bytes });
    }
    const { tar, chunks } = await write(entries);
    assertEquals(await read(tar), entries, `round ${round}`);
    // Every chunk but the last is a whole chunk: gzip gets large writes.
    for (const size of chunks.slice(0, -1)) assertEquals(size, TAR_CHUNK_BYTES);
    assertEquals(tar.byteLength % 512, 0);
  }
});

Deno.test("a header matches what modern-tar's own packer writes for the same file", async () => {
  const { readable, controller } = createTarPacker();
  const bytes = new TextEncoder().encode("hello");
  const collected = new Response(readable).arrayBuffer();
  const w = controller.add({
    name: "c/abc",
    size: bytes.byteLength,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: new Date(0),
  }).getWriter();
  await w.write(bytes);
  await w.close();
  controller.finalize();
  const theirs = new Uint8Array(await collected).subarray(0, 512);
  const ours = ustarHeader("c/abc", bytes.byteLength);
  // The fields that carry meaning (name, mode, ids, size, mtime, type, magic) agree byte for byte.
  for (const [from, to] of [[0, 100], [100, 108], [124, 136], [156, 157], [257, 263]]) {
    assertEquals(ours.subarray(from!, to!), theirs.subarray(from!, to!), `bytes ${from}-${to}`);
  }
  assert(ours.every((b, i) => i < 500 || b === 0), "the tail is zeros");
});

Deno.test("a name that is not ours, or a size ustar cannot hold, is refused before a byte is written", () => {
  assertThrows(
    () => ustarHeader("x".repeat(101), 1),
    (e) => assertStringIncludes(String(e), "not ours"),
  );
  assertThrows(() => ustarHeader("a b", 1), (e) => assertStringIncludes(String(e), "not ours"));
  assertThrows(() => ustarHeader("", 1), (e) => assertStringIncludes(String(e), "not ours"));
  assertThrows(
    () => ustarHeader("a", 8 ** 11),
    (e) => assertStringIncludes(String(e), "impossible size"),
  );
  assertThrows(
    () => ustarHeader("a", -1),
    (e) => assertStringIncludes(String(e), "impossible size"),
  );
});

Deno.test("a header's size and checksum are octal as ustar spells them, for sizes up to the largest", () => {
  const ascii = (b: Uint8Array) => new TextDecoder().decode(b);
  for (const size of [0, 1, 7, 8, 511, 512, 4096, 65_535, 2 ** 32 + 5, 8 ** 11 - 1]) {
    const name = `c/${"f".repeat(size % 64)}${size}`;
    const h = ustarHeader(name, size);
    assertEquals(ascii(h.subarray(0, name.length)), name);
    assertEquals(ascii(h.subarray(124, 136)), `${size.toString(8).padStart(11, "0")}\0`);
    let sum = 0;
    h.forEach((b, i) => sum += i >= 148 && i < 156 ? 0x20 : b);
    assertEquals(ascii(h.subarray(148, 156)), `${sum.toString(8).padStart(6, "0")}\0 `);
  }
});
