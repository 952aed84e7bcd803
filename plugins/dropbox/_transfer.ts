/**
 * Moving object bodies to and from Dropbox (issue 18 item 3): bodies up to
 * 8 MiB become bytes for one `files/upload`; larger ones go in a concurrent
 * upload session of 8 MiB appends (a multiple of Dropbox's 4 MiB hash block),
 * a few in flight, each retried on its own, committed create-only and checked by
 * content hash; downloads stream, resume after a cut, and check their size.
 * @module
 */
import { concatBytes } from "../../core/encoding/bytes.ts";
import { describeError } from "../../core/errors/mod.ts";
import type { Download, DropboxApi } from "./_api.ts";
import { ContentHasher } from "./_content_hash.ts";
import type { Entry } from "./_entries.ts";

/** Objects up to this size go in one `files/upload`; larger ones in a session. */
export const SINGLE_UPLOAD_MAX = 8 * 1024 * 1024;
/** Each session append (a multiple of Dropbox's 4 MiB block). */
export const SESSION_CHUNK = 8 * 1024 * 1024;
/** A cut download resumes from where it stopped at most this often. */
const MAX_RESUMES = 8;

/**
 * Appends of one session in flight at once. Each holds its 8 MiB piece (and
 * the HTTP client a copy of it); with the piece being read, a session upload
 * holds at most {@linkcode SESSION_PIECES_HELD} pieces. Two in flight were
 * faster (DB5 1.1-1.3x) but put the process's RSS past the contract suite's
 * constant-memory bound (96.6 MiB of 80) in a full suite run; one keeps it
 * within (23-46 MiB seen).
 */
export const APPENDS_IN_FLIGHT = 1;
/** Pieces a session upload holds at most (in flight, plus the one being read). */
export const SESSION_PIECES_HELD = APPENDS_IN_FLIGHT + 1;

/** The upload-session routes {@linkcode uploadSession} uses (DropboxApi's). */
export type SessionApi = Pick<DropboxApi, "sessionStart" | "sessionAppend" | "sessionFinish">;

/**
 * Upload a large body in a concurrent session: 8 MiB appends, a few in
 * flight at once (one request at a time leaves the connection idle while
 * Dropbox stores each piece), create-only commit. Each append carries its
 * piece's content hash (every byte hashed once for both) and is retried on
 * its own. The next piece is read while the last ones are on the way. Only
 * the last piece can be short, so it closes the session; a body of whole
 * pieces is closed by an empty append at its end (offsets and sizes stay
 * multiples of 4 MiB, as concurrent sessions require).
 */
export async function uploadSession(
  api: SessionApi,
  op: string,
  path: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
): Promise<Entry | "conflict"> {
  const hasher = new ContentHasher();
  const session = await api.sessionStart(op, true);
  const inFlight = new Set<Promise<unknown>>();
  // Buffers of a stream's pieces, reused once their append is done (a
  // Uint8Array body's pieces are views of it, never reused).
  const spare: Uint8Array[] = [];
  const reuse = !(body instanceof Uint8Array);
  let offset = 0;
  let closed = false;
  const send = (bytes: Uint8Array, close: boolean) => {
    const sent = api.sessionAppend(op, session, offset, bytes, hasher.piece(bytes), close);
    const tracked = sent.finally(() => {
      inFlight.delete(tracked);
      if (reuse && bytes.byteLength === SESSION_CHUNK) spare.push(bytes);
    });
    tracked.catch(() => {}); // seen by race/all below; a later failure must not go unhandled
    inFlight.add(tracked);
    offset += bytes.byteLength;
    closed = close;
  };
  for await (const bytes of chunksOf(body, SESSION_CHUNK, spare)) {
    send(bytes, bytes.byteLength < SESSION_CHUNK);
    if (inFlight.size >= APPENDS_IN_FLIGHT) await Promise.race(inFlight);
  }
  if (!closed) send(new Uint8Array(0), true);
  await Promise.all(inFlight);
  return await api.sessionFinish(op, session, offset, path, hasher.digest());
}

/**
 * A download that resumes from where a dropped connection cut it (a `Range`
 * request, the same revision), and checks its size.
 */
export function resumable(
  api: DropboxApi,
  op: string,
  path: string,
  first: Download,
  broken: (detail: string) => Error,
): ReadableStream<Uint8Array> {
  const { size, rev } = first.entry;
  let reader = first.body.getReader();
  let received = 0;
  let resumes = 0;
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      for (;;) {
        let step: ReadableStreamReadResult<Uint8Array>;
        try {
          step = await reader.read();
        } catch (err) {
          if (received >= size || ++resumes > MAX_RESUMES) {
            throw broken(`the download broke off: ${describeError(err)}`);
          }
          const again = await api.download(op, path, received);
          if (again === null || (rev !== undefined && again.entry.rev !== rev)) {
            await again?.body.cancel();
            throw broken("the object changed or vanished during the download");
          }
          reader = again.body.getReader();
          continue;
        }
        if (step.done) {
          if (received !== size) throw broken(`got ${received} bytes of ${size}`);
          controller.close();
          return;
        }
        received += step.value.byteLength;
        if (received > size) throw broken(`got more than the ${size} bytes announced`);
        controller.enqueue(step.value);
        return;
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * The whole of `stream` as bytes when it ends within `limit` bytes; otherwise
 * a stream that yields what was read ahead, then the rest.
 */
export async function smallAsBytes(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  const reader = stream.getReader();
  const head: Uint8Array[] = [];
  let size = 0;
  while (size <= limit) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(...head);
    head.push(value);
    size += value.byteLength;
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = head.shift();
      if (next !== undefined) return controller.enqueue(next);
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * `body` in pieces of exactly `size` bytes (the last one shorter); one piece
 * held at a time. A stream's pieces are copied into buffers taken from
 * `spare` when the caller gave one back (a buffer per piece would leave the
 * garbage collector tens of MiB behind).
 */
async function* chunksOf(
  body: Uint8Array | ReadableStream<Uint8Array>,
  size: number,
  spare: Uint8Array[] = [],
): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    for (let at = 0; at < body.byteLength; at += size) yield body.subarray(at, at + size);
    return;
  }
  let buffer = spare.pop() ?? new Uint8Array(size);
  let filled = 0;
  for await (const piece of body) {
    let at = 0;
    while (at < piece.byteLength) {
      const take = Math.min(size - filled, piece.byteLength - at);
      buffer.set(piece.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === size) {
        yield buffer;
        buffer = spare.pop() ?? new Uint8Array(size); // the yielded one may still be in flight
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}
