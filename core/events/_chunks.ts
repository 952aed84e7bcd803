/**
 * Byte plumbing for the envelope: an exact-length reader over a byte stream
 * (whatever sizes the source chunks have) and a pull-driven stream of produced
 * pieces, so the envelope code holds one chunk at a time.
 * @module
 */

/** Bytes WebCrypto accepts (backed by a plain ArrayBuffer); copies only when needed. */
export function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes);
}

/** `n` as 4 bytes big-endian. */
export function u32be(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/** Spare buffers a {@linkcode ByteReader} keeps: one per chunk in flight, and one more. */
const MAX_SPARE = 4;

/**
 * Reads exact byte counts from a stream whose chunks may have any size. Holds at
 * most one source chunk beyond what was asked for, and up to `MAX_SPARE`
 * buffers given back for reuse.
 */
export class ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array> | null;
  #rest: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  #ended = false;
  /** Buffers this reader assembled, handed back by {@linkcode ByteReader.reuse}. */
  #spare: Uint8Array<ArrayBuffer>[] = [];
  /** Buffers this reader assembled and handed out (only those may come back). */
  readonly #assembled = new WeakSet<ArrayBuffer>();

  /** Read `source`, a stream (locked from now on) or bytes already in memory. */
  constructor(source: ReadableStream<Uint8Array> | Uint8Array) {
    if (source instanceof Uint8Array) {
      this.#reader = null;
      this.#rest = own(source);
      this.#ended = true;
    } else {
      this.#reader = source.getReader();
    }
  }

  /** The next non-empty source chunk, or null at the end. */
  async #next(): Promise<Uint8Array<ArrayBuffer> | null> {
    while (!this.#ended && this.#reader !== null) {
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#ended = true;
        this.#reader.releaseLock();
        break;
      }
      if (!(value instanceof Uint8Array)) {
        throw new TypeError("a byte stream yielded something other than a Uint8Array");
      }
      if (value.length > 0) return own(value);
    }
    return null;
  }

  /** Up to `n` bytes; fewer only when the stream ends first. */
  async read(n: number): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#rest.length >= n) {
      const out = this.#rest.subarray(0, n);
      this.#rest = this.#rest.subarray(n);
      return out;
    }
    if (this.#rest.length === 0) {
      // Zero-copy when one source chunk covers the whole request.
      const first = await this.#next();
      if (first === null) return new Uint8Array(0);
      this.#rest = first;
      if (first.length >= n) return this.read(n);
    }
    const out = this.#buffer(n);
    let filled = this.#rest.length;
    out.set(this.#rest, 0);
    this.#rest = new Uint8Array(0);
    while (filled < n) {
      const value = await this.#next();
      if (value === null) return out.subarray(0, filled);
      const take = Math.min(value.length, n - filled);
      out.set(value.subarray(0, take), filled);
      filled += take;
      this.#rest = value.subarray(take);
    }
    return out;
  }

  /**
   * A buffer for a read spanning source chunks: a spare one of that length
   * when there is one. A fresh one is zero-filled, and at 1 MiB it is fresh
   * pages: on a peer opening a 256 MiB object, zeroing them was 6% of the
   * process's CPU, all of it on the thread that runs the pipeline.
   */
  #buffer(n: number): Uint8Array<ArrayBuffer> {
    const i = this.#spare.findIndex((b) => b.length === n);
    const out = i < 0 ? new Uint8Array(n) : this.#spare.splice(i, 1)[0]!;
    this.#assembled.add(out.buffer);
    return out;
  }

  /**
   * Give back `bytes`, a result of {@linkcode ByteReader.read}, once nothing
   * reads it any more (say, the decryption it fed has finished), so a later
   * read can fill it again. Anything this reader did not assemble whole is
   * ignored, so calling it is always safe.
   */
  reuse(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    if (
      !(buffer instanceof ArrayBuffer) || !this.#assembled.has(buffer) ||
      bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength ||
      this.#spare.length >= MAX_SPARE
    ) {
      return;
    }
    this.#assembled.delete(buffer);
    this.#spare.push(bytes as Uint8Array<ArrayBuffer>);
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    if (this.#rest.length > 0) return false;
    const value = await this.#next();
    if (value === null) return true;
    this.#rest = value;
    return false;
  }

  /** Stop reading: cancel the source (releasing its file or connection), ignoring its errors. */
  cancel(reason?: unknown): void {
    this.#rest = new Uint8Array(0);
    this.#spare = [];
    if (this.#ended || this.#reader === null) return;
    this.#ended = true;
    this.#reader.cancel(reason).catch(() => {});
  }
}

/** The first step of a chunk's work is done; `done` settles when the rest has. */
export interface Started<T> {
  done: Promise<T>;
}

/**
 * Chunks started ahead of the one taken (Deno runs WebCrypto on a thread
 * pool). Measured sealing 256 MiB on 2 cores: 1 ahead 513-564 MiB/s, 2 ahead
 * 619-623, 4 ahead 671-721; 2 keeps the dead chunk buffers waiting for V8's
 * collector (which RSS shows) closer to what 1 had.
 */
export const CHUNKS_AHEAD = 2;

/**
 * Chunk `i` of `count` is made in two steps: `start(i)` reads its input (in
 * order, one chunk after another) and kicks off the rest (an AES-GCM call).
 * {@linkcode Ahead.take} keeps up to `depth` chunks started beyond the one
 * it waits for, so the reads go on while the consumer handles a chunk (this
 * cut a 1 GiB put and get by a fifth to a third), and the AES-GCM calls of
 * several chunks run at once on Deno's crypto threads (one at a time, sealing
 * ran at ~350 MiB/s on one core). Order is kept; at most `depth` chunks more
 * are held in memory.
 */
export class Ahead<T> {
  readonly #count: number;
  readonly #depth: number;
  readonly #start: (index: number) => Promise<Started<T>>;
  readonly #jobs = new Map<number, Promise<Started<T>>>();
  /** The next chunk to start. */
  #started = 0;
  /** The last start: the next one begins once its read is done. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    count: number,
    start: (index: number) => Promise<Started<T>>,
    depth = CHUNKS_AHEAD,
  ) {
    this.#count = count;
    this.#start = start;
    this.#depth = Math.max(1, depth);
  }

  #fill(upTo: number): void {
    while (this.#started < this.#count && this.#started <= upTo) {
      const index = this.#started++;
      const job = this.#chain.then(() => this.#start(index)).then((started) => {
        // Awaited later: until then a rejection must not count as unhandled.
        started.done.catch(() => {});
        return started;
      });
      job.catch(() => {});
      this.#jobs.set(index, job);
      this.#chain = job;
    }
  }

  /** Chunk `index` (called with 0, 1, 2, … in order). */
  async take(index: number): Promise<T> {
    this.#fill(index);
    const job = this.#jobs.get(index)!;
    this.#jobs.delete(index);
    const { done } = await job;
    this.#fill(index + this.#depth);
    return await done;
  }
}

/**
 * A byte stream that produces its pieces on demand (high-water mark 0), so
 * nothing is made before the consumer asks for it. `produce` returns the next
 * piece (empty pieces are skipped) or null at the end; if it throws, the stream errors with that error
 * and `onAbort` runs; a cancel by the consumer runs `onAbort` too.
 */
export function pullStream(
  produce: () => Promise<Uint8Array | null>,
  onAbort: (reason: unknown) => void,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let piece: Uint8Array | null;
      try {
        // An empty piece would leave the reader waiting forever: pull is not called again.
        do piece = await produce(); while (piece !== null && piece.length === 0);
      } catch (err) {
        onAbort(err);
        controller.error(err);
        return;
      }
      if (piece === null) controller.close();
      else controller.enqueue(piece);
    },
    cancel(reason) {
      onAbort(reason);
    },
  }, { highWaterMark: 0 });
}
