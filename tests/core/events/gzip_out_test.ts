/**
 * The body's gzip: random-looking chunks are stored, others deflated, in one
 * ordinary gzip stream that DecompressionStream reads back byte for byte.
 */
import { assert, assertEquals } from "../../assert.ts";
import { GzipOut, looksIncompressible, sampleEntropy } from "../../../core/events/gzip_out.ts";

function random(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, i + 65536));
  return b;
}

const TEXT = new TextEncoder().encode("id,age,diagnosis\n17,54,hypertension\n".repeat(8000));

async function gzip(chunks: Uint8Array[]): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  const gz = new GzipOut((b) => void out.push(b));
  for (const c of chunks) await gz.write(c);
  await gz.end();
  return new Uint8Array(await new Blob(out as Uint8Array<ArrayBuffer>[]).arrayBuffer());
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("random bytes look incompressible, text and zeros do not", () => {
  assert(looksIncompressible(random(65536)));
  assert(!looksIncompressible(TEXT));
  assert(!looksIncompressible(new Uint8Array(65536)));
  assert(sampleEntropy(random(65536)) > 7.5);
  assert(sampleEntropy(TEXT) < 5);
});

Deno.test("mixed text and random chunks make one gzip stream that inflates to the same bytes", async () => {
  const rnd = random(600_000);
  const chunks = [TEXT, rnd.subarray(0, 262144), TEXT, rnd.subarray(262144), new Uint8Array(10)];
  const gz = await gzip(chunks);
  assertEquals(
    await gunzip(gz),
    new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer()),
  );
  // The text was deflated (it shrinks to a few KiB) and the random part stored (about its size).
  assert(gz.byteLength < rnd.byteLength + 20_000, `${gz.byteLength}`);
  assert(gz.byteLength > rnd.byteLength, `${gz.byteLength}`);
});

Deno.test("the same chunks give the same bytes", async () => {
  const rnd = random(300_000);
  assertEquals(await gzip([TEXT, rnd]), await gzip([TEXT, rnd]));
});
