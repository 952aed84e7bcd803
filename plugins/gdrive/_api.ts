/**
 * Drive v3 for this plugin, one method per request kind. Metadata calls go
 * through `@googleapis/drive` (with `rootUrl` set per call and its own retry
 * off, ours in `_backoff.ts` instead); uploads and downloads (`_upload.ts`,
 * `_download.ts`) use `fetch` directly, because resumable chunks and ranged
 * reads need control over each exchange that the library does not give (it
 * buffers bodies and retries whole requests). All of it goes through
 * `_http.ts`: rate limit, token, timeout.
 * @module
 */
import { drive as driveClient, type drive_v3 } from "@googleapis/drive";
import { OAuth2Client } from "google-auth-library";
import {
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  DriveError,
  type RetryHooks,
  withBackoff,
} from "./_backoff.ts";
import { Downloader } from "./_download.ts";
import { fromLibraryError, notCapable } from "./_errors.ts";
import { type DriveFile, FILE_FIELDS, parseFile, parseFiles } from "./_files.ts";
import { DriveHttp } from "./_http.ts";
import type { TokenBucket } from "./_rate.ts";
import type { TokenSource } from "./_tokens.ts";
import { type CreateLookup, Uploader } from "./_upload.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { isRecord } from "../../core/encoding/record.ts";

export { CHUNK_BYTES, MULTIPART_MAX } from "./_upload.ts";
export { errorBody, fromLibraryError } from "./_errors.ts";

/** Drive's largest page; issue 13 item 5. */
export const PAGE_SIZE = 1000;
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

/** Drive v3 over HTTP, one method per request kind. */
export class DriveApi {
  readonly #base: string;
  readonly #http: DriveHttp;
  readonly #backoff: BackoffPolicy;
  readonly #auth = new OAuth2Client();
  readonly #drive: drive_v3.Drive;
  readonly #uploader: Uploader;
  readonly #downloader: Downloader;

  constructor(options: DriveApiOptions) {
    this.#base = options.apiBase.endsWith("/") ? options.apiBase : `${options.apiBase}/`;
    this.#http = new DriveHttp(options.tokens, options.rate, options.requestTimeoutMs);
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#drive = driveClient({ version: "v3", auth: this.#auth });
    this.#uploader = new Uploader(this.#http, this.#base, this.#backoff);
    this.#downloader = new Downloader(this.#http, this.#base, this.#backoff);
  }

  /** Requests sent (every attempt counts), for tests and benchmarks. */
  get calls(): number {
    return this.#http.calls;
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
  /**
   * Create a metadata-only file (a folder) exactly once, even when an answer
   * is lost and the create is sent again: the id is reserved first with
   * `files.generateIds`, so Drive makes that file once and answers a resend
   * 409. A look-up by name cannot promise this, as listings lag behind creates.
   */
  async createOnce(op: string, requestBody: drive_v3.Schema$File): Promise<DriveFile> {
    const reserved = await this.#library(
      op,
      (o) => this.#drive.files.generateIds({ count: 1, space: "drive", fields: "ids" }, o),
    );
    const id = isRecord(reserved) && Array.isArray(reserved.ids) ? reserved.ids[0] : undefined;
    if (typeof id !== "string" || id === "") {
      throw new SyftError(
        "E_TRANSPORT",
        `gdrive transport failed during ${op}: files.generateIds gave no id`,
      );
    }
    try {
      const data = await this.#library(
        op,
        (o) =>
          this.#drive.files.create({ requestBody: { ...requestBody, id }, fields: FILE_FIELDS }, o),
      );
      return this.#file(op, data);
    } catch (err) {
      // A resend of a create Drive had made: the file with that id is ours.
      if (
        !(err instanceof SyftError && err.cause instanceof DriveError && err.cause.status === 409)
      ) {
        throw err;
      }
      const data = await this.#library(
        op,
        (o) => this.#drive.files.get({ fileId: id, fields: FILE_FIELDS }, o),
      );
      return this.#file(op, data);
    }
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
  uploadMultipart(
    op: string,
    metadata: Record<string, unknown>,
    bytes: Uint8Array,
    lookup: CreateLookup,
  ): Promise<DriveFile> {
    return this.#uploader.uploadMultipart(op, metadata, bytes, lookup);
  }

  /** Upload bytes held in memory (multipart up to 5 MiB, else resumable). */
  uploadBytes(
    op: string,
    metadata: Record<string, unknown>,
    bytes: Uint8Array,
    lookup: CreateLookup,
  ): Promise<DriveFile> {
    return this.#uploader.uploadBytes(op, metadata, bytes, lookup);
  }

  /** Upload a stream of unknown length (multipart when it proves small, else resumable). */
  uploadStream(
    op: string,
    metadata: Record<string, unknown>,
    body: ReadableStream<Uint8Array>,
    lookup: CreateLookup,
  ): Promise<DriveFile> {
    return this.#uploader.uploadStream(op, metadata, body, lookup);
  }

  /** The bytes of file `fileId` as a stream that resumes after a dropped connection. */
  download(op: string, fileId: string): Promise<ReadableStream<Uint8Array>> {
    return this.#downloader.download(op, fileId);
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
      const token = await this.#http.admit();
      this.#auth.setCredentials({ access_token: token });
      try {
        const response = await call({
          rootUrl: this.#base,
          retry: false,
          retryConfig: { retry: 0 },
          timeout: this.#http.timeoutMs,
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
          this.#http.tokens.invalidate();
          return await once();
        }
      },
      this.#backoff,
      hooks,
    );
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

/** Deno's fetch, for the library (see `#library`). */
const nativeFetch = (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init);
