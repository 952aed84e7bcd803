/**
 * The body of a batch or checkpoint (docs/protocol.md §4.1): a gzip'd POSIX tar
 * holding `batch.json` (or `checkpoint.json`) first, then one regular file
 * `c/<sha-256 hex>` per inline content.
 *
 * Writer and reader both stream. The reader is the hostile-input boundary for
 * contents: it refuses the whole object on anything but that exact shape (links,
 * devices, directories, odd names, duplicates, a content that does not hash to
 * its name, more bytes or entries than the caps allow, broken gzip or tar) and
 * stops inflating as soon as a cap is passed, so a gzip bomb costs at most a few
 * megabytes past the cap.
 * @module
 */
import { createHash } from "node:crypto";
import { createTarDecoder, type TarHeader } from "modern-tar";
import { GzipOut } from "./gzip_out.ts";
import { TarChunks } from "./ustar.ts";
import { describeError, isSyftError, SyftError } from "../errors/mod.ts";
import { quote } from "../encoding/quote.ts";
import { MAX_JSON_BYTES } from "./parse.ts";
import { BATCH_LIMITS, INLINE_LIMIT } from "./types.ts";

/** The name of a body's first entry: `batch.json` in a batch, `checkpoint.json` in a `ci`/`cf`. */
export type FirstEntryName = "batch.json" | "checkpoint.json";

/** One inline content: its bytes and their SHA-256, lowercase hex. */
export interface BodyContent {
  readonly hash: string;
  readonly bytes: Uint8Array;
  /**
   * The caller hashed these very bytes and found `hash` (readVerified): the
   * packer need not hash them again. Otherwise it does.
   */
  readonly verified?: boolean;
}

/** Default cap on a body's inflated bytes (tar headers included): twice the writer's limit. */
export const MAX_BODY_INFLATED_BYTES = 2 * BATCH_LIMITS.inflatedBytes;

/** Default cap on a body's tar entries: the JSON plus twice the writer's event limit. */
export const MAX_BODY_ENTRIES = 2 * BATCH_LIMITS.events + 1;

/** Options for {@linkcode unpackBody}. */
export interface UnpackBodyOptions {
  /** The name the first entry must have. */
  readonly first: FirstEntryName;
  /** Refuse the body once more than this many bytes come out of gzip; default {@linkcode MAX_BODY_INFLATED_BYTES}. */
  readonly maxInflatedBytes?: number | undefined;
  /** Refuse the body when it has more tar entries than this; default {@linkcode MAX_BODY_ENTRIES}. */
  readonly maxEntries?: number | undefined;
  /** Refuse a first entry larger than this; default `MAX_JSON_BYTES` (64 MiB). */
  readonly maxFirstBytes?: number | undefined;
  /**
   * Receives each content, in tar order, after its SHA-256 was checked against
   * its name. Awaited before the next entry is read (backpressure).
   *
   * A later entry can still make {@linkcode unpackBody} refuse the whole body
   * after some contents were handed over: keep them in a staging area (they are
   * hash-verified, so content-addressed storage is safe) and apply nothing until
   * `unpackBody` resolves and its JSON parsed.
   */
  onContent(hash: string, bytes: Uint8Array): Promise<void>;
}

/**
 * Pack a body: the JSON first, then each content as `c/<hash>`, tar'd and gzip'd
 * as a stream.
 *
 * Entries are regular files with mode 0644, owner 0 and mtime 0 (ustar.ts),
 * and gzip's level follows what compresses (gzip_out.ts), so the same input
 * always gives the same bytes. A hash seen before is skipped (same hash,
 * same bytes: the reader refuses duplicates). `contents` is pulled lazily as the
 * stream is read; the bytes handed over must not change afterwards.
 *
 * @example
 * ```ts
 * import { serializeJson } from "./parse.ts";
 * import type { BatchJson } from "./types.ts";
 * declare const batch: BatchJson;
 * declare const contents: BodyContent[]; // the inline small files the events reference
 * declare const envelopeWriter: WritableStream<Uint8Array>; // sealEnvelope()'s input
 * const body = packBody({ name: "batch.json", bytes: serializeJson(batch) }, contents);
 * await body.pipeTo(envelopeWriter);
 * ```
 * The stream errors with `E_INTERNAL` when a content is larger than
 * `INLINE_LIMIT`, its hash is not 64 lowercase hex digits or its bytes do not
 * hash to it (a file that changed between hashing and packing), and with the
 * iterable's own error when that throws.
 */
export function packBody(
  first: { readonly name: FirstEntryName; readonly bytes: Uint8Array },
  contents: AsyncIterable<BodyContent> | Iterable<BodyContent>,
): ReadableStream<Uint8Array> {
  return ReadableStream.from(packedChunks(first, contents));
}

/** The gzip'd tar of a body, produced as it is pulled. */
async function* packedChunks(
  first: { readonly name: FirstEntryName; readonly bytes: Uint8Array },
  contents: AsyncIterable<BodyContent> | Iterable<BodyContent>,
): AsyncGenerator<Uint8Array> {
  if (first.bytes.byteLength > MAX_JSON_BYTES) {
    throw new SyftError(
      "E_INTERNAL",
      `${first.name} is ${first.bytes.byteLength} bytes, more than ${MAX_JSON_BYTES}`,
    );
  }
  const ready: Uint8Array[] = [];
  const gzip = new GzipOut((bytes) => void ready.push(bytes));
  const tar = new TarChunks((chunk) => gzip.write(chunk));
  try {
    await tar.add(first.name, first.bytes);
    yield* ready.splice(0);
    const seen = new Set<string>();
    for await (const content of contents) {
      checkOutgoing(content);
      if (seen.has(content.hash)) continue;
      seen.add(content.hash);
      await tar.add(`c/${content.hash}`, content.bytes);
      yield* ready.splice(0);
    }
    await tar.finish();
    await gzip.end();
    yield* ready.splice(0);
  } finally {
    // Also reached when the reader cancelled: the deflater is let go.
    gzip.destroy();
  }
}

/**
 * Unpack a body, checking every entry, and return the first entry's bytes.
 *
 * Streams gunzip → tar; contents go to `options.onContent` one at a time. The
 * whole input is read (so a corrupt gzip trailer is noticed) unless a check
 * fails first, in which case the input is cancelled at once.
 *
 * @example
 * ```ts
 * import { parseBatchJson } from "./parse.ts";
 * declare const plaintext: ReadableStream<Uint8Array>; // an opened envelope's body
 * declare const staging: { put(hash: string, bytes: Uint8Array): Promise<void> };
 * const [sender, recipient] = ["alice@example.org", "bob@example.org"];
 * const json = await unpackBody(plaintext, {
 *   first: "batch.json",
 *   onContent: (hash, bytes) => staging.put(hash, bytes),
 * });
 * const batch = parseBatchJson(json, { sender, recipient });
 * ```
 * @throws {SyftError} `E_BAD_MESSAGE`, one line naming the problem, for any
 * malformed or hostile body. An error of `stream` itself or of `onContent` is
 * rethrown unchanged: it is not the peer's fault.
 */
export async function unpackBody(
  stream: ReadableStream<Uint8Array>,
  options: UnpackBodyOptions,
): Promise<Uint8Array> {
  const what = options.first === "batch.json" ? "batch body" : "checkpoint body";
  const maxInflated = options.maxInflatedBytes ?? MAX_BODY_INFLATED_BYTES;
  const maxEntries = options.maxEntries ?? MAX_BODY_ENTRIES;
  const maxFirst = options.maxFirstBytes ?? MAX_JSON_BYTES;
  const bad = (message: string) => new SyftError("E_BAD_MESSAGE", `${what}: ${message}`);

  // Errors that are not the peer's: rethrown as they are.
  const foreign = new Set<unknown>();
  const abort = new AbortController();

  // Stage 1: the caller's stream, cut into small slices. Deno's
  // DecompressionStream inflates each written chunk whole, and deflate expands
  // up to ~1032×, so a 1 MiB chunk of a bomb could become a 1 GiB buffer before
  // any cap is checked; 4 KiB in gives at most ~4 MiB out.
  const source = stream.getReader();
  const input = new ReadableStream<BufferSource>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await source.read();
      } catch (err) {
        foreign.add(err);
        throw err;
      }
      if (result.done) return controller.close();
      // DecompressionStream takes only ArrayBuffer-backed views.
      const chunk = result.value.buffer instanceof ArrayBuffer
        ? result.value as Uint8Array<ArrayBuffer>
        : new Uint8Array(result.value);
      for (let i = 0; i < chunk.byteLength; i += GUNZIP_SLICE) {
        controller.enqueue(chunk.subarray(i, i + GUNZIP_SLICE));
      }
    },
    cancel: (reason) => source.cancel(reason),
  }, { highWaterMark: 0 });

  // Stage 2: gunzip, counting what comes out and stopping past the cap.
  const inflatedReader = input
    .pipeThrough(new DecompressionStream("gzip"), { signal: abort.signal })
    .getReader();
  let inflated = 0;
  const tarBytes = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await inflatedReader.read();
      } catch (err) {
        if (foreign.has(err) || isSyftError(err)) throw err;
        throw bad(`it is not valid gzip: ${describeError(err)}`);
      }
      if (result.done) return controller.close();
      inflated += result.value.byteLength;
      if (inflated > maxInflated) {
        throw bad(`it inflates to more than ${maxInflated} bytes`);
      }
      controller.enqueue(result.value);
    },
    cancel: (reason) => inflatedReader.cancel(reason),
  }, { highWaterMark: 0 });

  // Stage 3: tar entries. Strict mode checks header checksums, refuses a
  // truncated archive and anything but zeros after the end-of-archive blocks.
  const entries = tarBytes
    .pipeThrough(createTarDecoder({ strict: true }), { signal: abort.signal })
    .getReader();

  try {
    let first: Uint8Array | undefined;
    const seen = new Set<string>();
    let count = 0;
    for (;;) {
      const next = await entries.read();
      if (next.done) break;
      const { header, body } = next.value;
      count++;
      if (count > maxEntries) throw bad(`it has more than ${maxEntries} tar entries`);
      checkEntryKind(header, bad);
      if (count === 1) {
        if (header.name !== options.first) {
          throw bad(`its first entry is ${quote(header.name)}, not ${options.first}`);
        }
        checkSize(header, maxFirst, bad);
        first = await readBody(body, header.size, header.name, bad);
        continue;
      }
      const hash = contentHashOf(header.name, options.first, bad);
      if (seen.has(hash)) throw bad(`entry ${quote(header.name)} appears twice`);
      seen.add(hash);
      checkSize(header, INLINE_LIMIT, bad);
      const bytes = await readBody(body, header.size, header.name, bad);
      const actual = createHash("sha256").update(bytes).digest("hex");
      if (actual !== hash) {
        throw bad(`entry ${quote(header.name)} holds content whose SHA-256 is ${actual}`);
      }
      try {
        await options.onContent(hash, bytes);
      } catch (err) {
        foreign.add(err);
        throw err;
      }
    }
    if (first === undefined) throw bad(`it is an empty tar, without ${options.first}`);
    return first;
  } catch (err) {
    // Tear the whole pipeline down, back to the caller's stream, so a refused
    // bomb is not inflated further in the background. Each stage is cancelled
    // directly: a stage that errored by itself (the cap) no longer forwards a
    // cancel upstream, and a pipe stuck on backpressure never finishes aborting.
    abort.abort(err);
    for (const reader of [entries, inflatedReader, source]) reader.cancel(err).catch(() => {});
    if (foreign.has(err) || isSyftError(err)) throw err;
    // What is left came out of the tar decoder.
    throw bad(`it is not a valid tar: ${describeError(err)}`);
  }
}

/** Bytes written to the gunzip at a time; bounds one inflated chunk to ~4 MiB. */
const GUNZIP_SLICE = 4096;

const HEX64 = /^[0-9a-f]{64}$/;

/** Words for the tar entry types we refuse. */
const KIND_NAMES: Readonly<Record<string, string>> = {
  link: "a hard link",
  symlink: "a symlink",
  "character-device": "a character device",
  "block-device": "a block device",
  directory: "a directory",
  fifo: "a FIFO",
};

type Bad = (message: string) => SyftError;

/** Only plain regular files, without pax attributes (our writer never emits any). */
function checkEntryKind(header: TarHeader, bad: Bad): void {
  const type = header.type ?? "file";
  if (type !== "file") {
    const kind = KIND_NAMES[type] ?? `of type ${quote(type)}`;
    throw bad(`entry ${quote(header.name)} is ${kind}; only regular files are allowed`);
  }
  // A pax record can rename an entry or change its size; our names are short
  // and our sizes small, so the writer never needs one and any is a forgery.
  if (header.pax !== undefined) {
    const keys = Object.keys(header.pax).map((k) => quote(k)).join(", ");
    throw bad(`entry ${quote(header.name)} carries pax attributes (${keys})`);
  }
}

/** The hash a content entry's name claims: `c/<64 lowercase hex>`, nothing else. */
function contentHashOf(name: string, first: FirstEntryName, bad: Bad): string {
  const hash = name.startsWith("c/") ? name.slice(2) : "";
  if (HEX64.test(hash)) return hash;
  if (name.startsWith("/")) throw bad(`entry ${quote(name)} has an absolute name`);
  if (name.split("/").includes("..")) throw bad(`entry ${quote(name)} climbs out with ".."`);
  if (name === first) throw bad(`entry ${quote(name)} appears twice`);
  throw bad(`entry ${quote(name)} is not named c/<64 lowercase hex digits>`);
}

/** Refuse an entry larger than `max` before reading any of it. */
function checkSize(header: TarHeader, max: number, bad: Bad): void {
  const size = header.size;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw bad(`entry ${quote(header.name)} has an invalid size`);
  }
  if (size > max) throw bad(`entry ${quote(header.name)} is ${size} bytes, more than ${max}`);
}

/** Read an entry's body, which the decoder bounds to `size` bytes; refuse any other length. */
async function readBody(
  body: ReadableStream<Uint8Array>,
  size: number,
  name: string,
  bad: Bad,
): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let offset = 0;
  // A reader read to its end, not `for await`: the iterator's release of its
  // reader builds a TypeError (stack and all) per entry, a quarter of
  // unpacking a first sync's 10,000 small contents. An ended stream needs no release.
  const reader = body.getReader();
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    const chunk = next.value;
    if (offset + chunk.byteLength > size) {
      await reader.cancel();
      break;
    }
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== size) throw bad(`entry ${quote(name)} is not ${size} bytes long`);
  return out;
}

/** The writer's own checks: a bad content here is a bug or a race, not a peer's doing. */
function checkOutgoing(content: BodyContent): void {
  if (!HEX64.test(content.hash)) {
    throw new SyftError(
      "E_INTERNAL",
      `content hash ${quote(content.hash)} is not 64 lowercase hex digits`,
    );
  }
  if (content.bytes.byteLength > INLINE_LIMIT) {
    throw new SyftError(
      "E_INTERNAL",
      `content ${content.hash} is ${content.bytes.byteLength} bytes, over the inline limit of ${INLINE_LIMIT}`,
    );
  }
  if (content.verified) return;
  const actual = createHash("sha256").update(content.bytes).digest("hex");
  if (actual !== content.hash) {
    throw new SyftError(
      "E_INTERNAL",
      `content ${content.hash} does not hash to its name (its SHA-256 is ${actual}); the file changed while it was packed`,
    );
  }
}
