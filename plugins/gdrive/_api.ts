/**
 * Every request this plugin makes to Drive, each behind the rate limiter,
 * authorised with a fresh token, and retried by `_backoff.ts`. Metadata calls
 * go through `@googleapis/drive` (with `rootUrl` set per call and its own
 * retry off); uploads and downloads use `fetch` directly, because resumable
 * chunks and ranged reads need control over each exchange that the library
 * does not give (it buffers bodies and retries whole requests).
 * @module
 */
import { drive as driveClient, type drive_v3 } from "@googleapis/drive";
import { OAuth2Client } from "google-auth-library";
import {
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  DriveError,
  parseRetryAfter,
  type RetryHooks,
  transportError,
  withBackoff,
} from "./_backoff.ts";
import { type DriveFile, FILE_FIELDS, parseFile, parseFiles } from "./_files.ts";
import { TokenBucket } from "./_rate.ts";
import type { TokenSource } from "./_tokens.ts";
import { SyftError } from "../../core/errors/mod.ts";

/** Drive's largest page; issue 13 item 5. */
export const PAGE_SIZE = 1000;
/** Objects up to this size go in one multipart request. */
export const MULTIPART_MAX = 5 * 1024 * 1024;
/** Resumable chunk size: a multiple of 256 KiB, as Drive requires. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

/** An error body never needs more than this to be understood. */
const MAX_ERROR_BYTES = 16 * 1024;

/** One page of files. */
export interface FilePage {
  files: DriveFile[];
  nextPageToken: string | undefined;
}

/** One page of `changes.list`. */
export interface ChangePage {
  changes: { fileId: string; removed: boolean; file: DriveFile | null }[];
  nextPageToken: string | undefined;
  newStartPageToken: string | undefined;
}

/** What the API client needs. */
export interface DriveApiOptions {
  /** The API base, ending in `/` (https://www.googleapis.com/ or SYFT_GDRIVE_API). */
  apiBase: string;
  tokens: TokenSource;
  rate: TokenBucket;
  backoff?: BackoffPolicy | undefined;
  /**
   * How long a request may wait for its answer, and a download for its next
   * bytes, before it counts as dropped (default 20 s, within the host's 30 s
   * call timeout).
   */
  requestTimeoutMs?: number | undefined;
}

/** See {@linkcode DriveApiOptions.requestTimeoutMs}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

/** Drive v3 over HTTP, one method per request kind. */
export class DriveApi {
  readonly #base: string;
  readonly #tokens: TokenSource;
  readonly #rate: TokenBucket;
  readonly #backoff: BackoffPolicy;
  readonly #timeoutMs: number;
  readonly #auth = new OAuth2Client();
  readonly #drive: drive_v3.Drive;
  /** Requests sent (every attempt counts), for tests and benchmarks. */
  calls = 0;

  constructor(options: DriveApiOptions) {
    this.#base = options.apiBase.endsWith("/") ? options.apiBase : `${options.apiBase}/`;
    this.#tokens = options.tokens;
    this.#rate = options.rate;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#drive = driveClient({ version: "v3", auth: this.#auth });
  }

  /** The signed-in user's email (`about.get`, fields=user). */
  async aboutEmail(op: string): Promise<string> {
    const data = await this.#library(op, (o) => this.#drive.about.get({ fields: "user" }, o));
    const user = isRecord(data) && isRecord(data.user) ? data.user : {};
    if (typeof user.emailAddress !== "string") {
      throw new SyftError(
        "E_TRANSPORT",
        `gdrive transport failed during ${op}: about.get has no user`,
      );
    }
    return user.emailAddress.toLowerCase();
  }

  /** One page of `files.list` for query `q`. */
  async listPage(op: string, q: string, pageToken?: string): Promise<FilePage> {
    const params: drive_v3.Params$Resource$Files$List = {
      q,
      pageSize: PAGE_SIZE,
      spaces: "drive",
      fields: `nextPageToken,files(${FILE_FIELDS})`,
    };
    if (pageToken !== undefined) params.pageToken = pageToken;
    const data = await this.#library(op, (o) => this.#drive.files.list(params, o));
    const record = isRecord(data) ? data : {};
    return {
      files: parseFiles(record.files),
      nextPageToken: typeof record.nextPageToken === "string" && record.nextPageToken !== ""
        ? record.nextPageToken
        : undefined,
    };
  }

  /** Every file matching `q`, page after page (bounded by `maxPages`). */
  async listAll(op: string, q: string, maxPages = 10_000): Promise<DriveFile[]> {
    const out: DriveFile[] = [];
    let token: string | undefined;
    for (let pages = 0; pages < maxPages; pages++) {
      const page = await this.listPage(op, q, token);
      out.push(...page.files);
      token = page.nextPageToken;
      if (token === undefined) return out;
    }
    throw new SyftError("E_TRANSPORT", `gdrive transport failed during ${op}: too many pages`);
  }

  /**
   * Create a file from metadata alone (a folder). `lookup` runs before any
   * retry: a create whose answer was lost may have happened.
   */
  async createMetadata(
    op: string,
    requestBody: drive_v3.Schema$File,
    lookup: () => Promise<DriveFile | undefined>,
  ): Promise<DriveFile> {
    const data = await this.#library(
      op,
      (o) => this.#drive.files.create({ requestBody, fields: FILE_FIELDS }, o),
      { beforeRetry: lookup },
    );
    return this.#file(op, data);
  }

  /** Share `fileId` with `email` as a reader, without Drive's notification e-mail. */
  async shareAsReader(op: string, fileId: string, email: string): Promise<void> {
    await this.#library(op, (o) =>
      this.#drive.permissions.create({
        fileId,
        sendNotificationEmail: false,
        fields: "id",
        requestBody: { role: "reader", type: "user", emailAddress: email },
      }, o));
  }

  /** Delete a file for good; one already gone is not an error. */
  async deleteFile(op: string, fileId: string): Promise<void> {
    try {
      await this.#library(op, (o) => this.#drive.files.delete({ fileId }, o));
    } catch (err) {
      if (err instanceof SyftError && err.cause instanceof DriveError && err.cause.status === 404) {
        return;
      }
      throw err;
    }
  }

  /** The cursor for "changes from now on". */
  async startPageToken(op: string): Promise<string> {
    const data = await this.#library(
      op,
      (o) => this.#drive.changes.getStartPageToken({ fields: "startPageToken" }, o),
    );
    if (!isRecord(data) || typeof data.startPageToken !== "string") {
      throw new SyftError("E_TRANSPORT", `gdrive transport failed during ${op}: no startPageToken`);
    }
    return data.startPageToken;
  }

  /** One page of changes since `pageToken`; a 404/400 answer means the token is lost. */
  async changesPage(op: string, pageToken: string): Promise<ChangePage | "lost"> {
    let data: unknown;
    try {
      data = await this.#library(op, (o) =>
        this.#drive.changes.list({
          pageToken,
          pageSize: PAGE_SIZE,
          spaces: "drive",
          includeRemoved: true,
          fields: `nextPageToken,newStartPageToken,changes(fileId,removed,file(${FILE_FIELDS}))`,
        }, o));
    } catch (err) {
      const cause = err instanceof SyftError ? err.cause : null;
      if (cause instanceof DriveError && (cause.status === 404 || cause.status === 400)) {
        return "lost";
      }
      throw err;
    }
    const record = isRecord(data) ? data : {};
    const changes = Array.isArray(record.changes)
      ? record.changes.flatMap((c) => {
        if (!isRecord(c) || typeof c.fileId !== "string") return [];
        return [{ fileId: c.fileId, removed: c.removed === true, file: parseFile(c.file) }];
      })
      : [];
    const str = (v: unknown) => typeof v === "string" && v !== "" ? v : undefined;
    return {
      changes,
      nextPageToken: str(record.nextPageToken),
      newStartPageToken: str(record.newStartPageToken),
    };
  }

  /** Upload a small object in one multipart request. */
  async uploadMultipart(
    op: string,
    metadata: Record<string, unknown>,
    bytes: Uint8Array,
    lookup: () => Promise<DriveFile | undefined>,
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
        const response = await this.#fetch(op, url, {
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
    lookup: () => Promise<DriveFile | undefined>,
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
    lookup: () => Promise<DriveFile | undefined>,
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
      const response = await this.#fetch(op, url, {
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
        const status = await this.#fetch(op, session, {
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
          response = await this.#fetch(op, session, {
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

  /**
   * The bytes of file `fileId` as a stream. A connection dropped mid-way is
   * resumed with `Range: bytes=<received>-`, so a large object is not read
   * again from the start.
   */
  async download(op: string, fileId: string): Promise<ReadableStream<Uint8Array>> {
    const url = `${this.#base}drive/v3/files/${encodeURIComponent(fileId)}?alt=media`;
    let received = 0;
    /** Bytes to drop from a resumed answer that ignored `Range` (200, not 206). */
    let toSkip = 0;
    const open = async (): Promise<ReadableStreamDefaultReader<Uint8Array>> =>
      await withBackoff(op, async () => {
        const headers: Record<string, string> = {};
        if (received > 0) headers.range = `bytes=${received}-`;
        const response = await this.#fetch(op, url, { headers });
        if (!response.ok) await throwFor(response);
        toSkip = received > 0 && response.status !== 206 ? received : 0;
        return (response.body ?? new ReadableStream<Uint8Array>()).getReader();
      }, this.#backoff);
    let reader = await open();
    let retries = 0;
    const tries = this.#backoff.tries;
    const idleMs = this.#timeoutMs;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          let result: ReadableStreamReadResult<Uint8Array>;
          try {
            result = await readWithin(reader, idleMs);
          } catch (err) {
            // The connection dropped mid-way: ask for the rest only.
            reader.releaseLock();
            if (++retries >= tries) {
              controller.error(
                transportError(op, new DriveError(0, "", describe(err), { cause: err }), retries),
              );
              return;
            }
            try {
              reader = await open();
            } catch (reopenErr) {
              controller.error(reopenErr);
              return;
            }
            continue;
          }
          if (result.done) {
            controller.close();
            return;
          }
          let bytes = result.value;
          if (toSkip > 0) {
            const n = Math.min(toSkip, bytes.byteLength);
            toSkip -= n;
            bytes = bytes.subarray(n);
            if (bytes.byteLength === 0) continue;
          }
          received += bytes.byteLength;
          controller.enqueue(bytes);
          return;
        }
      },
      cancel(reason) {
        return reader.cancel(reason).catch(() => {});
      },
    }, { highWaterMark: 0 });
  }

  /**
   * A call through the library: rate-limited, authorised, errors normalised,
   * retried. A 401 (the token expired early or was replaced) is answered by
   * one refresh and one more try before it counts as a failure.
   */
  async #library<T>(
    op: string,
    call: (options: Record<string, unknown>) => Promise<{ data: T }>,
    hooks: RetryHooks = {},
  ): Promise<T> {
    const once = async (): Promise<T> => {
      await this.#rate.take();
      this.calls++;
      const token = await this.#tokens.accessToken();
      this.#auth.setCredentials({ access_token: token });
      try {
        const response = await call({
          rootUrl: this.#base,
          retry: false,
          retryConfig: { retry: 0 },
          timeout: this.#timeoutMs,
          // gaxios falls back to node-fetch outside browsers, whose POSTs hang
          // on Deno when a connection is cut; Deno's own fetch fails at once.
          fetchImplementation: nativeFetch,
        });
        return response.data;
      } catch (err) {
        throw notCapable(err, op) ?? fromLibraryError(err);
      }
    };
    return await withBackoff(
      op,
      async () => {
        try {
          return await once();
        } catch (err) {
          if (!(err instanceof DriveError) || err.status !== 401) throw err;
          this.#tokens.invalidate();
          return await once();
        }
      },
      this.#backoff,
      hooks,
    );
  }

  /**
   * A raw request: rate-limited and authorised (a 401 refreshes the token and
   * tries once more; every body we send can be sent twice); a dropped
   * connection is a DriveError with status 0.
   */
  async #fetch(op: string, url: string, init: RequestInit): Promise<Response> {
    const once = async (): Promise<Response> => {
      await this.#rate.take();
      this.calls++;
      const token = await this.#tokens.accessToken();
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${token}`);
      // A request that hangs (a half-open connection) counts as dropped; the
      // timer runs until the answer's headers arrive, bodies have their own.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), this.#timeoutMs);
      try {
        return await fetch(url, { ...init, headers, signal: abort.signal });
      } catch (err) {
        throw notCapable(err, op) ?? new DriveError(0, "", describe(err), { cause: err });
      } finally {
        clearTimeout(timer);
      }
    };
    const response = await once();
    if (response.status !== 401) return response;
    await response.body?.cancel();
    this.#tokens.invalidate();
    return await once();
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

/**
 * A request the Worker's grant does not allow (e.g. Drive redirected to a
 * host outside it) is not a network failure to retry: say which host.
 */
function notCapable(err: unknown, op: string): SyftError | null {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    if (e.name === "NotCapable") {
      return new SyftError(
        "E_TRANSPORT",
        `gdrive transport failed during ${op}: the Worker may not reach that host (${e.message})`,
        {
          hint:
            "the plugin may reach only the Drive API host and the OAuth token host; report this",
          cause: err,
        },
      );
    }
    e = e.cause;
  }
  return null;
}

/** Deno's fetch, for the library (see `#library`). */
const nativeFetch = (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init);

/** Read a JSON answer, or throw the DriveError it stands for. */
async function jsonOf(response: Response): Promise<unknown> {
  if (!response.ok) await throwFor(response);
  try {
    return await response.json();
  } catch (err) {
    throw new DriveError(0, "", `unreadable answer: ${describe(err)}`, { cause: err });
  }
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

/** Throw the DriveError a failed response stands for (Drive's error JSON parsed). */
async function throwFor(response: Response): Promise<never> {
  let text = "";
  try {
    text = (await response.text()).slice(0, MAX_ERROR_BYTES);
  } catch {
    // the body broke off: the status alone will do
  }
  let data: unknown = null;
  try {
    data = JSON.parse(text);
  } catch {
    // not JSON
  }
  const { reason, message } = errorBody(data, text || response.statusText);
  throw new DriveError(response.status, reason, message, {
    retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
  });
}

/** Drive's error shape: `{"error":{"code","message","errors":[{"reason","domain","message"}]}}`. */
export function errorBody(data: unknown, fallback: string): { reason: string; message: string } {
  const error = isRecord(data) && isRecord(data.error) ? data.error : null;
  if (!error) {
    // OAuth-style {"error": "invalid_grant"} or plain text
    if (isRecord(data) && typeof data.error === "string") {
      return { reason: data.error, message: String(data.error_description ?? data.error) };
    }
    return { reason: "", message: fallback.slice(0, 200) };
  }
  const first = Array.isArray(error.errors) && isRecord(error.errors[0]) ? error.errors[0] : {};
  const reason = typeof first.reason === "string"
    ? first.reason
    : typeof error.status === "string"
    ? error.status
    : "";
  const message = typeof error.message === "string" ? error.message : fallback;
  return { reason, message: message.slice(0, 500) };
}

/** Turn whatever the library threw (a GaxiosError, mostly) into a DriveError. */
export function fromLibraryError(err: unknown): DriveError {
  if (err instanceof DriveError) return err;
  const e = isRecord(err) ? err : {};
  const response = isRecord(e.response) ? e.response : null;
  const status = response && typeof response.status === "number" ? response.status : 0;
  if (status === 0) return new DriveError(0, "", describe(err), { cause: err });
  let data: unknown = response?.data;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch {
      // keep the text
    }
  }
  const { reason, message } = errorBody(data, typeof data === "string" ? data : describe(err));
  const headers = response?.headers;
  const retryAfter = headers instanceof Headers
    ? headers.get("retry-after")
    : isRecord(headers) && typeof headers["retry-after"] === "string"
    ? headers["retry-after"]
    : null;
  return new DriveError(status, reason, message, {
    retryAfterMs: parseRetryAfter(retryAfter),
    cause: err,
  });
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

/** A read that gives up (cancelling the reader) when no bytes come for `ms`. */
async function readWithin<T>(
  reader: ReadableStreamDefaultReader<T>,
  ms: number,
): Promise<ReadableStreamReadResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reader.cancel().catch(() => {});
      reject(new Error(`no bytes for ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([reader.read(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

function incomplete(op: string, detail: string): SyftError {
  return new SyftError("E_TRANSPORT", `gdrive transport failed during ${op}: ${detail}`);
}

function isDriveFile(value: unknown): value is DriveFile {
  return isRecord(value) && typeof value.id === "string" && typeof value.createdMs === "number";
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
