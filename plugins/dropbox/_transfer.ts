/**
 * Moving object bodies to and from Dropbox (issue 18 item 3): bodies up to
 * 8 MiB become bytes for one `files/upload`; larger ones go in an upload
 * session of 8 MiB appends (a multiple of Dropbox's 4 MiB hash block),
 * resumed from `correct_offset`, committed create-only and checked by
 * content hash; downloads stream, resume after a cut, and check their size.
 * @module
 */
import { concatBytes } from "../../core/encoding/bytes.ts";
import { describeError } from "../../core/errors/mod.ts";
import type { Download, DropboxApi } from "./_api.ts";
import { contentHash, ContentHasher } from "./_content_hash.ts";
import type { Entry } from "./_entries.ts";

/** Objects up to this size go in one `files/upload`; larger ones in a session. */
export const SINGLE_UPLOAD_MAX = 8 * 1024 * 1024;
/** Each session append (a multiple of Dropbox's 4 MiB block). */
export const SESSION_CHUNK = 8 * 1024 * 1024;
/** A cut download resumes from where it stopped at most this often. */
const MAX_RESUMES = 8;

/** Upload a large body in a session: 8 MiB appends, create-only commit. */
export async function uploadSession(
  api: DropboxApi,
  op: string,
  path: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
): Promise<Entry | "conflict"> {
  const hasher = new ContentHasher();
  const session = await api.sessionStart(op);
  let offset = 0;
  for await (const chunk of chunksOf(body, SESSION_CHUNK)) {
    hasher.update(chunk);
    offset = await api.sessionAppend(op, session, offset, chunk, contentHash(chunk));
  }
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

/** `body` in pieces of exactly `size` bytes (the last one shorter); one piece held at a time. */
async function* chunksOf(
  body: Uint8Array | ReadableStream<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    for (let at = 0; at < body.byteLength; at += size) yield body.subarray(at, at + size);
    return;
  }
  let buffer = new Uint8Array(size);
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
        buffer = new Uint8Array(size); // the yielded one may still be in flight
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}
