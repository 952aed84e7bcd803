/**
 * A create-only upload of one object into one of our folders (a channel or the
 * pool), with Drive's sharp edges handled the same way for both: a create
 * whose answer was lost is looked up by its mark before a retry (never made
 * twice), and two copies of one name resolve to the earliest, so every writer
 * agrees on who won.
 * @module
 */
import type { ObjectBody } from "../../core/transport/contract.ts";
import { concatBytes } from "../../core/encoding/bytes.ts";
import { type DriveApi, MULTIPART_MAX } from "./_api.ts";
import { type DriveFile, resolveCreate } from "./_files.ts";

/** One object to create. */
export interface NewObject {
  /** Our folder it goes in. */
  folder: string;
  name: string;
  body: ObjectBody;
  /**
   * The name's copies in that folder owned by us, our recent creates included
   * (listings lag). Runs before a large upload, before a retry, and once after.
   */
  copies: () => Promise<DriveFile[]>;
  /** The error for a taken name (`E_EXISTS`). */
  exists: () => Error;
  /** Public properties to set (every app sees them). */
  properties?: Record<string, string> | undefined;
}

/**
 * Upload `o.body` as `o.name` into `o.folder`, create-only: the copy that
 * counts, ours. Our copies that lost a race are deleted before this returns.
 * @throws the `exists` error when the name is taken.
 */
export async function createObject(api: DriveApi, op: string, o: NewObject): Promise<DriveFile> {
  // A small stream (every batch) becomes bytes: one multipart request, and
  // no look-up before it, so a round's put is create plus the check after.
  let body = o.body;
  if (body instanceof ReadableStream) body = await smallAsBytes(body, MULTIPART_MAX);
  if (!(body instanceof Uint8Array || body instanceof ReadableStream)) {
    throw new TypeError("the body is neither bytes nor a stream");
  }
  if (body instanceof ReadableStream || body.byteLength > MULTIPART_MAX) {
    // Refuse before uploading a large body; the check after the create is the real one.
    if ((await o.copies()).length > 0) throw o.exists();
  }
  const token = crypto.randomUUID();
  const metadata = {
    name: o.name,
    parents: [o.folder],
    mimeType: "application/octet-stream",
    // Marks our create, so a retry can tell its own lost create from a racer's.
    appProperties: { syftPut: token },
    ...(o.properties ? { properties: o.properties } : {}),
  };
  const lookup = async () => (await o.copies()).find((f) => f.appProperties.syftPut === token);
  const created = body instanceof Uint8Array
    ? await api.uploadBytes(op, metadata, body, lookup)
    : await api.uploadStream(op, metadata, body, lookup);
  // Drive allows two files of one name: the earliest wins, later copies of ours go.
  const found = await o.copies();
  if (!found.some((f) => f.id === created.id)) found.push(created); // listings lag
  const outcome = resolveCreate(
    found,
    (f) => f.id === created.id || f.appProperties.syftPut === token,
  );
  for (const id of outcome.losers) await api.deleteFile(op, id);
  if (!outcome.won) throw o.exists();
  return outcome.kept ?? created;
}

/**
 * The whole of `stream` as bytes when it ends within `limit` bytes; otherwise
 * a stream that yields what was read ahead, then the rest (at most `limit`
 * bytes are held).
 */
async function smallAsBytes(
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
