/**
 * Uploads (issue 13 item 4): objects up to 5 MiB in one multipart request,
 * larger ones as resumable uploads in 8 MiB chunks. A chunk that fails is
 * resumed where Drive says it stopped, never restarted from zero; an
 * in-memory body whose session Drive forgot is sent again from a new one.
 * Drive creates a file only when its upload completes, so readers never see
 * a partial object.
 * @module
 */
import { type BackoffPolicy, DriveError, withBackoff } from "./_backoff.ts";
import { jsonOf, throwFor } from "./_errors.ts";
import { type DriveFile, FILE_FIELDS, parseFile } from "./_files.ts";
import type { DriveHttp } from "./_http.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { isRecord } from "../../core/encoding/record.ts";

/** Objects up to this size go in one multipart request. */
export const MULTIPART_MAX = 5 * 1024 * 1024;
/** Resumable chunk size: a multiple of 256 KiB, as Drive requires. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

/** Looks the name up before a create is retried (its lost answer may hide a success). */
export type CreateLookup = () => Promise<DriveFile | undefined>;

/** Uploads new files to Drive. */
export class Uploader {
  readonly #http: DriveHttp;
  readonly #base: string;
  readonly #backoff: BackoffPolicy;

  constructor(http: DriveHttp, base: string, backoff: BackoffPolicy) {
    this.#http = http;
    this.#base = base;
    this.#backoff = backoff;
  }

  /** Upload a small object in one multipart request. */
  async uploadMultipart(
    op: string,
    metadata: Record<string, unknown>,
    bytes: Uint8Array,
    lookup: CreateLookup,
  ): Promise<DriveFile> {
    const boundary = `syft-${crypto.randomUUID()}`;
    const head = new TextEncoder().encode(
      `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n` +
        `${JSON.stringify(metadata)}\r\n--${boundary}\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
    const body = new Uint8Array(head.length + bytes.length + tail.length);
    body.set(head, 0);
    body.set(bytes, head.length);
    body.set(tail, head.length + bytes.length);
    const url = `${this.#base}upload/drive/v3/files?uploadType=multipart&fields=${
      encodeURIComponent(FILE_FIELDS)
    }`;
    const data = await withBackoff(
      op,
      async () => {
        const response = await this.#http.fetch(op, url, {
          method: "POST",
          headers: { "content-type": `multipart/related; boundary=${boundary}` },
          body,
        });
        return await jsonOf(response);
      },
      this.#backoff,
      { beforeRetry: lookup },
    );
    return isDriveFile(data) ? data : this.#file(op, data);
  }

  /**
   * Upload bytes held in memory: in one multipart request up to 5 MiB,
   * otherwise resumably. Since the bytes can be sent again, an upload whose
   * session Drive forgot (404: "start the upload over") is started over once.
   */
  async uploadBytes(
    op: string,
    metadata: Record<string, unknown>,
    bytes: Uint8Array,
    lookup: CreateLookup,
  ): Promise<DriveFile> {
    if (bytes.byteLength <= MULTIPART_MAX) {
      return await this.uploadMultipart(op, metadata, bytes, lookup);
    }
    try {
      return await this.uploadStream(op, metadata, bytesStream(bytes), lookup);
    } catch (err) {
      if (!(err instanceof SyftError && err.cause instanceof SessionLost)) throw err;
      return await this.uploadStream(op, metadata, bytesStream(bytes), lookup);
    }
  }

  /**
   * Upload a stream of unknown length. When it turns out to hold at most
   * 5 MiB it goes in one multipart request; otherwise as a resumable upload in
   * 8 MiB chunks, where a dropped chunk is resumed where Drive says it stopped
   * (status query `Content-Range: bytes *\/*`), never restarted from zero.
   * Drive creates the file only when the last chunk lands, so readers never
   * see a partial one.
   */
  async uploadStream(
    op: string,
    metadata: Record<string, unknown>,
    body: ReadableStream<Uint8Array>,
    lookup: CreateLookup,
  ): Promise<DriveFile> {
    const chunks = new Chunker(body, CHUNK_BYTES);
    try {
      let chunk = await chunks.next();
      if (chunk.last && chunk.bytes.length <= MULTIPART_MAX) {
        return await this.uploadMultipart(op, metadata, chunk.bytes, lookup);
      }
      const session = await this.#startSession(op, metadata);
      let offset = 0; // bytes Drive has acknowledged
      for (;;) {
        const total = chunk.last ? chunk.start + chunk.bytes.length : undefined;
        // Read the next chunk from the caller while this one travels: two
        // chunks in memory at most, and the body's producer never waits for Drive.
        const following = chunk.last ? null : chunks.next();
        following?.catch(() => {}); // a send failure must not leave it unhandled
        const answer = await this.#sendChunk(op, session, chunk.start, chunk.bytes, total, offset);
        if (answer.file) {
          if (!chunk.last) throw incomplete(op, "Drive finished the upload before its end");
          return answer.file;
        }
        if (following === null) throw incomplete(op, "Drive did not finish the upload");
        offset = answer.offset;
        chunk = await following;
      }
    } catch (err) {
      await chunks.cancel(err);
      throw err;
    }
  }

  /** Open a resumable upload session; its URI comes back in `Location`. */
  async #startSession(op: string, metadata: Record<string, unknown>): Promise<string> {
    const url = `${this.#base}upload/drive/v3/files?uploadType=resumable&fields=${
      encodeURIComponent(FILE_FIELDS)
    }`;
    return await withBackoff(op, async () => {
      const response = await this.#http.fetch(op, url, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=UTF-8",
          "x-upload-content-type": "application/octet-stream",
        },
        body: JSON.stringify(metadata),
      });
      if (!response.ok) await throwFor(response);
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (!location) throw new DriveError(response.status, "", "no session URI (Location)");
      return new URL(location, this.#base).href;
    }, this.#backoff);
  }

  /**
   * Send `bytes` (starting at byte `start` of the object) until Drive has
   * them all. Returns the finished file, or Drive's new acknowledged offset.
   */
  async #sendChunk(
    op: string,
    session: string,
    start: number,
    bytes: Uint8Array<ArrayBuffer>,
    total: number | undefined,
    acknowledged: number,
  ): Promise<{ file?: DriveFile; offset: number }> {
    let from = Math.max(start, acknowledged);
    const end = start + bytes.length; // exclusive
    const totalText = total === undefined ? "*" : String(total);
    let needStatus = false;
    return await withBackoff(op, async () => {
      if (needStatus) {
        // The last attempt may have landed in part or whole: ask Drive.
        const status = await this.#http.fetch(op, session, {
          method: "PUT",
          headers: { "content-range": `bytes */${totalText}` },
        });
        const known = await uploadAnswer(status).catch(sessionLoss);
        if (known.file) return known;
        from = Math.max(start, known.offset);
        needStatus = false;
      }
      while (from < end) {
        const piece = bytes.subarray(from - start);
        const range = `bytes ${from}-${end - 1}/${totalText}`;
        let response: Response;
        try {
          response = await this.#http.fetch(op, session, {
            method: "PUT",
            headers: { "content-range": range },
            body: piece,
          });
        } catch (err) {
          needStatus = true;
          throw err;
        }
        let answer: { file?: DriveFile; offset: number };
        try {
          answer = await uploadAnswer(response).catch(sessionLoss);
        } catch (err) {
          needStatus = true;
          throw err;
        }
        if (answer.file) return answer;
        if (answer.offset <= from) {
          // Drive kept nothing of this piece; resend it (counts as a failed try).
          needStatus = true;
          throw new DriveError(0, "", "Drive acknowledged none of the chunk");
        }
        from = answer.offset;
      }
      return { offset: from };
    }, this.#backoff);
  }

  #file(op: string, data: unknown): DriveFile {
    const file = parseFile(data);
    if (!file) {
      throw new SyftError(
        "E_TRANSPORT",
        `gdrive transport failed during ${op}: Drive answered without a file id`,
      );
    }
    return file;
  }
}

/** Drive forgot a resumable upload session (404): the upload must start over. */
export class SessionLost extends DriveError {}

/** Turn a 404 to an upload session into {@linkcode SessionLost}; rethrow anything else. */
function sessionLoss(err: unknown): never {
  if (err instanceof DriveError && err.status === 404) {
    throw new SessionLost(
      404,
      err.reason || "notFound",
      `the upload session expired: ${err.message}`,
      {
        cause: err,
      },
    );
  }
  throw err;
}

/** A buffer as a stream of views (no copy). */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  const piece = 1 << 20;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(offset, offset + piece));
      offset += piece;
    },
  }, { highWaterMark: 0 });
}

/** An upload answer: done (200/201 with the file), or 308 with how far Drive got. */
async function uploadAnswer(response: Response): Promise<{ file?: DriveFile; offset: number }> {
  if (response.status === 308) {
    await response.body?.cancel();
    const range = response.headers.get("range");
    const match = range ? /^bytes=0-(\d+)$/.exec(range.trim()) : null;
    return { offset: match ? Number(match[1]) + 1 : 0 };
  }
  const data = await jsonOf(response);
  const file = parseFile(data);
  if (!file) throw new DriveError(response.status, "", "upload answer without a file id");
  return { file, offset: file.size };
}

/** Splits a stream into fixed-size chunks, knowing which one is the last. */
class Chunker {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #size: number;
  #carry: Uint8Array = new Uint8Array(0);
  #done = false;
  #position = 0;

  constructor(stream: ReadableStream<Uint8Array>, size: number) {
    this.#reader = stream.getReader();
    this.#size = size;
  }

  /** The next chunk: `size` bytes, or fewer when it is the last. */
  async next(): Promise<{ start: number; bytes: Uint8Array<ArrayBuffer>; last: boolean }> {
    // Fill one byte past the chunk, to know whether more follows.
    const buffer = new Uint8Array(this.#size + 1);
    let filled = 0;
    const take = (piece: Uint8Array): void => {
      const n = Math.min(piece.length, buffer.length - filled);
      buffer.set(piece.subarray(0, n), filled);
      filled += n;
      this.#carry = piece.subarray(n);
    };
    take(this.#carry);
    while (filled < buffer.length && !this.#done) {
      const { done, value } = await this.#reader.read();
      if (done) {
        this.#done = true;
        break;
      }
      if (!(value instanceof Uint8Array)) throw new TypeError("the body yielded non-bytes");
      take(value);
    }
    const last = filled <= this.#size;
    const length = last ? filled : this.#size;
    if (!last) {
      // The extra byte goes back in front of what is carried.
      const extra = buffer.subarray(this.#size, this.#size + 1);
      const carry = new Uint8Array(1 + this.#carry.length);
      carry.set(extra, 0);
      carry.set(this.#carry, 1);
      this.#carry = carry;
    }
    const start = this.#position;
    this.#position += length;
    return { start, bytes: buffer.subarray(0, length), last };
  }

  async cancel(reason: unknown): Promise<void> {
    await this.#reader.cancel(reason).catch(() => {});
  }
}

function incomplete(op: string, detail: string): SyftError {
  return new SyftError("E_TRANSPORT", `gdrive transport failed during ${op}: ${detail}`);
}

function isDriveFile(value: unknown): value is DriveFile {
  return isRecord(value) && typeof value.id === "string" && typeof value.createdMs === "number";
}
