/**
 * gzip for bodies, level chosen chunk by chunk: deflate (level 6) where the
 * bytes compress, stored blocks (level 0) where a sample looks random.
 * Encrypted data, images and archives do not compress, and deflating them
 * cost ~40 MB/s here; a stored block costs a copy and a CRC. The output is
 * one ordinary gzip stream either way (deflate mixes block types freely), so
 * readers are unchanged. node:zlib, because WebCompression has no level.
 * @module
 */
import zlib from "node:zlib";

/** Bytes looked at per chunk to judge it. */
const SAMPLE_BYTES = 4096;

/**
 * Bits per byte above which a sample is taken for incompressible. Random
 * bytes measure ~7.95 on 4 KiB; text, JSON and CSV stay well under 6.
 */
const RANDOM_BITS_PER_BYTE = 7.5;

/** The order-0 entropy of a sample of `chunk`, in bits per byte. */
export function sampleEntropy(chunk: Uint8Array): number {
  const n = Math.min(chunk.byteLength, SAMPLE_BYTES);
  if (n === 0) return 0;
  // The middle of the chunk: its start is often a tar header.
  const from = Math.floor((chunk.byteLength - n) / 2);
  const counts = new Uint32Array(256);
  for (let i = from; i < from + n; i++) counts[chunk[i]!]!++;
  let bits = 0;
  for (const c of counts) {
    if (c === 0) continue;
    const p = c / n;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Whether `chunk` looks like it would not compress. */
export function looksIncompressible(chunk: Uint8Array): boolean {
  return chunk.byteLength >= 512 && sampleEntropy(chunk) > RANDOM_BITS_PER_BYTE;
}

interface Tunable {
  params(level: number, strategy: number, done: () => void): void;
}

/**
 * A gzip writer: `write` compresses a chunk and hands the output to `onOut`;
 * `end` finishes the stream.
 */
export class GzipOut {
  readonly #gz = zlib.createGzip({ level: 6 });
  #level = 6;
  readonly #out: Uint8Array[] = [];
  #failed: unknown = null;

  constructor(readonly onOut: (bytes: Uint8Array) => void | Promise<void>) {
    this.#gz.on("data", (b: Uint8Array) => this.#out.push(b));
    this.#gz.on("error", (err: unknown) => (this.#failed = err));
  }

  async write(chunk: Uint8Array): Promise<void> {
    const level = looksIncompressible(chunk) ? 0 : 6;
    if (level !== this.#level) {
      // Node's Gzip has params(); Deno's type definitions leave it out.
      const gz = this.#gz as unknown as Tunable;
      await new Promise<void>((ok) => gz.params(level, zlib.constants.Z_DEFAULT_STRATEGY, ok));
      this.#level = level;
    }
    await new Promise<void>((ok, fail) => this.#gz.write(chunk, (e) => (e ? fail(e) : ok())));
    await this.#drain();
  }

  async end(): Promise<void> {
    const ended = new Promise<void>((ok, fail) => {
      this.#gz.once("end", () => ok());
      this.#gz.once("error", fail);
    });
    this.#gz.end();
    await ended;
    await this.#drain();
  }

  /** Stop: nothing more is written. */
  destroy(): void {
    this.#gz.destroy();
  }

  async #drain(): Promise<void> {
    if (this.#failed) throw this.#failed;
    while (this.#out.length > 0) await this.onOut(this.#out.shift()!);
  }
}
