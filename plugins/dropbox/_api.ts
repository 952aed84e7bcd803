/**
 * Dropbox API v2 for this plugin, one method per route. Requests go through
 * the `npm:dropbox` SDK (`Dropbox.request`: argument headers, JSON bodies,
 * error parsing) with our `fetch` (`_http.ts`) and none of the SDK's own
 * token refresh or upload retries; retries are ours (`_backoff.ts`).
 * Downloads use `fetch` directly, because the SDK buffers whole bodies and
 * objects must stream.
 * @module
 */
import { Dropbox } from "dropbox";
import {
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  DropboxError,
  type RetryHooks,
  transportError,
  withBackoff,
} from "./_backoff.ts";
import { describe, fromSdkError, notCapable, tagOf, throwFor } from "./_errors.ts";
import {
  type Entry,
  type Member,
  parseEntries,
  parseEntry,
  parseMembers,
  parseSharedFolder,
  type SharedFolder,
} from "./_entries.ts";
import { DropboxHttp } from "./_http.ts";
import type { TokenSource } from "./_token_source.ts";
import type { DropboxHosts } from "./_env.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { isRecord } from "../../core/encoding/record.ts";

/** The SDK's generic request, which every typed route method calls. */
interface SdkClient {
  request(
    path: string,
    args: unknown,
    auth: "user" | "noauth",
    host: "api" | "content" | "notify",
    style: "rpc" | "upload",
    scope?: string,
    options?: { signal?: AbortSignal | undefined },
  ): Promise<{ result: unknown }>;
}

/** Dropbox's largest listing page. */
const PAGE_LIMIT = 2000;
/** A listing walk stops here (2000 entries a page: 20 million entries). */
const MAX_PAGES = 10_000;

/** One page of `files/list_folder` or its `/continue`. */
export interface FolderPage {
  entries: Entry[];
  cursor: string;
  hasMore: boolean;
}

/** What the API client needs. */
export interface DropboxApiOptions {
  hosts: DropboxHosts;
  tokens: TokenSource;
  backoff?: BackoffPolicy | undefined;
  requestTimeoutMs?: number | undefined;
}

/** An object's bytes and what Dropbox says of it. */
export interface Download {
  entry: Entry;
  body: ReadableStream<Uint8Array>;
}

/** Dropbox v2 over HTTP, one method per route. */
export class DropboxApi {
  readonly http: DropboxHttp;
  readonly #tokens: TokenSource;
  readonly backoff: BackoffPolicy;

  constructor(options: DropboxApiOptions) {
    this.http = new DropboxHttp(options.hosts, options.requestTimeoutMs);
    this.#tokens = options.tokens;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /** Requests sent (every attempt counts), for tests and benchmarks. */
  get calls(): number {
    return this.http.calls;
  }

  /** The signed-in account: id and lower-case e-mail. */
  async currentAccount(op: string): Promise<{ accountId: string; email: string }> {
    const r = await this.rpc(op, "users/get_current_account", null);
    const accountId = isRecord(r) && typeof r.account_id === "string" ? r.account_id : "";
    const email = isRecord(r) && typeof r.email === "string" ? r.email.toLowerCase() : "";
    if (accountId === "" || email === "") throw this.#odd(op, "get_current_account has no e-mail");
    return { accountId, email };
  }

  /** The first page of a folder's listing; null when the folder does not exist. */
  async listFolder(op: string, path: string, recursive: boolean): Promise<FolderPage | null> {
    try {
      return this.#page(
        op,
        await this.rpc(op, "files/list_folder", {
          path,
          recursive,
          include_deleted: false,
          include_mounted_folders: true,
          limit: PAGE_LIMIT,
        }),
      );
    } catch (err) {
      if (causeOf(err)?.hasTag("not_found")) return null;
      throw err;
    }
  }

  /** The next page since `cursor`; "reset" when Dropbox dropped the cursor. */
  async listFolderContinue(op: string, cursor: string): Promise<FolderPage | "reset"> {
    try {
      return this.#page(op, await this.rpc(op, "files/list_folder/continue", { cursor }));
    } catch (err) {
      if (causeOf(err)?.is("reset")) return "reset";
      throw err;
    }
  }

  /** Every entry from a first page on, following `has_more`. */
  async drain(op: string, first: FolderPage): Promise<FolderPage> {
    const entries = [...first.entries];
    let page = first;
    for (let pages = 1; page.hasMore; pages++) {
      if (pages >= MAX_PAGES) throw this.#odd(op, "too many listing pages");
      const next = await this.listFolderContinue(op, page.cursor);
      if (next === "reset") throw this.#odd(op, "the listing cursor was reset mid-walk");
      entries.push(...next.entries);
      page = next;
    }
    return { entries, cursor: page.cursor, hasMore: false };
  }

  /**
   * Wait (no token: Dropbox's long-poll takes none) until something changes
   * after `cursor`, at most `timeoutS` seconds on Dropbox's side and until
   * `signal` on ours. Aborted counts as no change.
   */
  async longpoll(
    op: string,
    cursor: string,
    timeoutS: number,
    signal: AbortSignal,
  ): Promise<{ changes: boolean; backoffS: number }> {
    try {
      return await withBackoff(op, async () => {
        if (signal.aborted) return { changes: false, backoffS: 0 };
        const dbx = new Dropbox({ fetch: this.http.fetch }) as unknown as SdkClient;
        let result: unknown;
        try {
          result = (await dbx.request(
            "files/list_folder/longpoll",
            { cursor, timeout: timeoutS },
            "noauth",
            "notify",
            "rpc",
            "files.metadata.read",
            { signal },
          )).result;
        } catch (err) {
          if (signal.aborted) return { changes: false, backoffS: 0 };
          throw notCapable(err, op) ?? fromSdkError(err);
        }
        const r = isRecord(result) ? result : {};
        const backoffS = typeof r.backoff === "number" && r.backoff > 0 ? r.backoff : 0;
        return { changes: r.changes === true, backoffS };
      }, this.backoff);
    } catch (err) {
      // A cursor Dropbox no longer knows: say "changed", the caller's continue finds the reset.
      if (causeOf(err)?.is("reset")) return { changes: true, backoffS: 0 };
      throw err;
    }
  }

  /** Metadata of `path`, or null when nothing is there. */
  async getMetadata(op: string, path: string): Promise<Entry | null> {
    try {
      return parseEntry(await this.rpc(op, "files/get_metadata", { path }));
    } catch (err) {
      if (causeOf(err)?.hasTag("not_found")) return null;
      throw err;
    }
  }

  /** Create folder `path`; one already there is fine. */
  async createFolder(op: string, path: string): Promise<void> {
    try {
      await this.rpc(op, "files/create_folder_v2", { path, autorename: false }, { write: true });
    } catch (err) {
      if (causeOf(err)?.hasTag("conflict")) return;
      throw err;
    }
  }

  /**
   * Make folder `path` a shared folder and return its id; a folder already
   * shared answers with its id too.
   */
  async shareFolder(op: string, path: string): Promise<string> {
    let r: unknown;
    try {
      r = await this.rpc(op, "sharing/share_folder", {
        path,
        force_async: false,
        member_policy: "anyone",
        acl_update_policy: "owner",
        shared_link_policy: "members",
      }, { write: true });
    } catch (err) {
      if (!causeOf(err)?.hasTag("already_shared")) throw err;
      const meta = await this.getMetadata(op, path);
      if (meta?.sharedFolderId) return meta.sharedFolderId;
      throw err;
    }
    // A share Dropbox runs as a job: poll it by the id its first answer gave.
    const jobId = isRecord(r) && typeof r.async_job_id === "string" ? r.async_job_id : "";
    for (let polls = 0; tagOf(r) === "async_job_id" || tagOf(r) === "in_progress"; polls++) {
      if (polls >= 60 || jobId === "") throw this.#odd(op, "share_folder did not finish");
      await this.backoff.sleep(Math.min(2000, 100 * 2 ** polls));
      r = await this.rpc(op, "sharing/check_share_job_status", { async_job_id: jobId });
    }
    if (tagOf(r) === "failed") throw this.#odd(op, `share_folder failed: ${JSON.stringify(r)}`);
    const folder = parseSharedFolder(r);
    if (folder === null) throw this.#odd(op, "share_folder gave no shared folder id");
    return folder.sharedFolderId;
  }

  /** Add `email` as a viewer of a shared folder, without Dropbox's e-mail; a member already is fine. */
  async addViewer(op: string, sharedFolderId: string, email: string): Promise<void> {
    try {
      await this.rpc(op, "sharing/add_folder_member", {
        shared_folder_id: sharedFolderId,
        members: [{ member: { ".tag": "email", email }, access_level: { ".tag": "viewer" } }],
        quiet: true,
      });
    } catch (err) {
      const cause = causeOf(err);
      if (cause?.hasTag("already_member") || cause?.hasTag("already_invited")) return;
      throw err;
    }
  }

  /** Every shared folder we may mount or have mounted. */
  async mountableFolders(op: string): Promise<SharedFolder[]> {
    const out: SharedFolder[] = [];
    let r = await this.rpc(op, "sharing/list_mountable_folders", { limit: 1000 });
    for (let pages = 1;; pages++) {
      const record = isRecord(r) ? r : {};
      if (Array.isArray(record.entries)) {
        for (const e of record.entries) {
          const folder = parseSharedFolder(e);
          if (folder) out.push(folder);
        }
      }
      const cursor = typeof record.cursor === "string" ? record.cursor : "";
      if (cursor === "") return out;
      if (pages >= MAX_PAGES) throw this.#odd(op, "too many pages of shared folders");
      r = await this.rpc(op, "sharing/list_mountable_folders/continue", { cursor });
    }
  }

  /** The user members of a shared folder (first page: the owner is always on it). */
  async folderMembers(op: string, sharedFolderId: string): Promise<Member[]> {
    return parseMembers(
      await this.rpc(op, "sharing/list_folder_members", {
        shared_folder_id: sharedFolderId,
        limit: 1000,
      }),
    );
  }

  /** Mount a shared folder; its path in our Dropbox, lower case. */
  async mountFolder(op: string, sharedFolderId: string): Promise<string | null> {
    try {
      const folder = parseSharedFolder(
        await this.rpc(op, "sharing/mount_folder", { shared_folder_id: sharedFolderId }, {
          write: true,
        }),
      );
      return folder?.pathLower ?? null;
    } catch (err) {
      if (causeOf(err)?.hasTag("already_mounted")) return null;
      throw err;
    }
  }

  /**
   * Where a shared folder is mounted in our Dropbox (lower case), "" while
   * it is not (`sharing/get_folder_metadata`: one call, however many
   * folders are shared with us).
   */
  async mountPath(op: string, sharedFolderId: string): Promise<string> {
    const folder = parseSharedFolder(
      await this.rpc(op, "sharing/get_folder_metadata", { shared_folder_id: sharedFolderId }),
    );
    if (folder === null) throw this.#odd(op, "get_folder_metadata gave no shared folder");
    return folder.pathLower ?? "";
  }

  /** Move `from` to `to` (renamed on a clash); the entry where it landed. */
  async move(op: string, from: string, to: string): Promise<Entry | null> {
    const r = await this.rpc(op, "files/move_v2", {
      from_path: from,
      to_path: to,
      autorename: true,
      allow_shared_folder: true,
    }, { write: true });
    return isRecord(r) ? parseEntry(r.metadata) : null;
  }

  /** Delete `path`; nothing there is fine. */
  async delete(op: string, path: string): Promise<void> {
    try {
      await this.rpc(op, "files/delete_v2", { path }, { write: true });
    } catch (err) {
      if (causeOf(err)?.hasTag("not_found")) return;
      throw err;
    }
  }

  /**
   * Create-only upload of `bytes` at `path`, checked by content hash. A
   * conflict that finds a file with our hash there is our own create whose
   * answer was lost: success. The retry that meets it may be ours or the
   * HTTP client's own (Deno's fetch sends a request again, unseen, when a
   * reused connection closes without an answer), so every conflict is
   * looked at, not only those after a retry we saw. Another file there is
   * `conflict`; the same bytes under the name are the same object (syft's
   * objects carry fresh nonces, so two puts never make equal bytes).
   */
  async uploadNew(
    op: string,
    path: string,
    bytes: Uint8Array,
    hash: string,
  ): Promise<Entry | "conflict"> {
    try {
      const r = await this.rpc(
        op,
        "files/upload",
        { path, mode: "add", autorename: false, strict_conflict: true, mute: true },
        { write: true, style: "upload", contents: bytes, contentHash: hash },
      );
      return this.#uploaded(op, r, hash);
    } catch (err) {
      if (!causeOf(err)?.hasTag("conflict")) throw err;
      return await this.#ours(op, path, hash) ?? "conflict";
    }
  }

  /**
   * Open an upload session; its id. A concurrent one (Dropbox's
   * `session_type: concurrent`) takes appends in any order and in parallel,
   * each a multiple of 4 MiB but the last, which closes it.
   */
  async sessionStart(op: string, concurrent = false): Promise<string> {
    const arg = concurrent ? { close: false, session_type: "concurrent" } : { close: false };
    const r = await this.rpc(op, "files/upload_session/start", arg, {
      style: "upload",
      contents: new Uint8Array(0),
    });
    if (!isRecord(r) || typeof r.session_id !== "string") {
      throw this.#odd(op, "upload_session/start gave no session id");
    }
    return r.session_id;
  }

  /**
   * Append `bytes` at `offset`. After a dropped connection Dropbox may have
   * taken them: an `incorrect_offset` answer tells where it stands, and the
   * new offset is returned (the caller resumes from there). `close` marks
   * the last append of a concurrent session.
   */
  async sessionAppend(
    op: string,
    sessionId: string,
    offset: number,
    bytes: Uint8Array,
    hash: string,
    close = false,
  ): Promise<number> {
    let at = offset;
    for (let round = 0; round < 8; round++) {
      try {
        await this.rpc(op, "files/upload_session/append_v2", {
          cursor: { session_id: sessionId, offset: at },
          close,
        }, {
          style: "upload",
          contents: at === offset ? bytes : bytes.subarray(at - offset),
          contentHash: at === offset ? hash : undefined,
        });
        return offset + bytes.byteLength;
      } catch (err) {
        const correct = correctOffset(err);
        if (correct === undefined) throw err;
        if (correct === offset + bytes.byteLength) return correct; // it took them
        if (correct < offset || correct > offset + bytes.byteLength) throw err;
        at = correct;
      }
    }
    throw this.#odd(op, "upload_session/append_v2 kept moving its offset");
  }

  /**
   * Commit a session create-only at `path`; same outcomes as
   * {@linkcode uploadNew}. A lost answer (the retry, ours or unseen, finds
   * the session closed or the file there) is told apart by the content hash.
   */
  async sessionFinish(
    op: string,
    sessionId: string,
    offset: number,
    path: string,
    hash: string,
  ): Promise<Entry | "conflict"> {
    try {
      const r = await this.rpc(op, "files/upload_session/finish", {
        cursor: { session_id: sessionId, offset },
        commit: { path, mode: "add", autorename: false, strict_conflict: true, mute: true },
      }, { write: true, style: "upload", contents: new Uint8Array(0) });
      return this.#uploaded(op, r, hash);
    } catch (err) {
      const cause = causeOf(err);
      const conflict = cause?.hasTag("conflict") ?? false;
      if (!conflict && !cause?.is("lookup_failed")) throw err;
      const ours = await this.#ours(op, path, hash);
      if (ours !== null) return ours;
      if (conflict) return "conflict";
      throw err;
    }
  }

  /** The file at `path` when it holds exactly the bytes of `hash`, else null. */
  async #ours(op: string, path: string, hash: string): Promise<Entry | null> {
    const there = await this.getMetadata(op, path);
    return there?.tag === "file" && there.contentHash === hash ? there : null;
  }

  /**
   * The bytes of file `path` from `offset` on (a `Range` request past 0), as
   * Dropbox streams them, and its metadata from `Dropbox-API-Result`. Null
   * when there is no such file.
   */
  async download(op: string, path: string, offset = 0): Promise<Download | null> {
    try {
      return await withBackoff(op, () =>
        this.#authorised(op, async (token) => {
          const headers: Record<string, string> = {
            authorization: `Bearer ${token}`,
            "dropbox-api-arg": headerSafeJson({ path }),
          };
          if (offset > 0) headers.range = `bytes=${offset}-`;
          // The timeout covers the answer's headers; the body has its own watch (transport.ts).
          const abort = new AbortController();
          const timer = setTimeout(() => abort.abort(), this.http.timeoutMs);
          let response: Response;
          try {
            response = await this.http.fetch(`${this.http.hosts.content}files/download`, {
              method: "POST",
              headers,
              signal: abort.signal,
            });
          } finally {
            clearTimeout(timer);
          }
          if (!response.ok) await throwFor(response);
          let result: unknown = null;
          try {
            result = JSON.parse(response.headers.get("dropbox-api-result") ?? "null");
          } catch {
            // checked below
          }
          const entry = parseEntry({ ".tag": "file", ...(isRecord(result) ? result : {}) });
          if (entry === null || response.body === null) {
            await response.body?.cancel();
            throw new DropboxError(0, "", "download answered without Dropbox-API-Result");
          }
          return { entry, body: response.body };
        }), this.backoff);
    } catch (err) {
      if (causeOf(err)?.hasTag("not_found")) return null;
      throw err;
    }
  }

  /**
   * One RPC or upload through the SDK: authorised (a 401 refreshes the token
   * and tries once more), serialised when it writes, errors normalised,
   * retried with backoff.
   */
  async rpc(
    op: string,
    route: string,
    args: Record<string, unknown> | null,
    options: {
      write?: boolean;
      style?: "rpc" | "upload";
      contents?: Uint8Array | undefined;
      contentHash?: string | undefined;
      hooks?: RetryHooks;
    } = {},
  ): Promise<unknown> {
    const style = options.style ?? "rpc";
    const host = style === "upload" ? "content" : "api";
    let sdkArgs: unknown = args;
    if (style === "upload") {
      sdkArgs = { ...args, contents: options.contents ?? new Uint8Array(0) };
      if (options.contentHash !== undefined) {
        (sdkArgs as Record<string, unknown>).content_hash = options.contentHash;
      }
    }
    const once = () =>
      this.#authorised(op, async (token) => {
        const dbx = new Dropbox({
          accessToken: token,
          fetch: this.http.fetch,
        }) as unknown as SdkClient;
        try {
          return (await dbx.request(route, sdkArgs, "user", host, style)).result;
        } catch (err) {
          throw notCapable(err, op) ?? fromSdkError(err);
        }
      });
    return await withBackoff(
      op,
      () => options.write ? this.http.serialised(once) : once(),
      this.backoff,
      options.hooks,
    );
  }

  /** Run `call` with a token; a 401 refreshes it and tries once more. */
  async #authorised<T>(op: string, call: (token: string) => Promise<T>): Promise<T> {
    try {
      return await call(await this.#tokens.accessToken());
    } catch (err) {
      if (!(err instanceof DropboxError) || err.status !== 401) throw err;
      this.#tokens.invalidate();
      try {
        return await call(await this.#tokens.accessToken());
      } catch (again) {
        if (again instanceof DropboxError && again.status === 401) throw transportError(op, again);
        throw again;
      }
    }
  }

  #page(op: string, r: unknown): FolderPage {
    if (!isRecord(r) || typeof r.cursor !== "string") {
      throw this.#odd(op, "a listing without cursor");
    }
    return { entries: parseEntries(r.entries), cursor: r.cursor, hasMore: r.has_more === true };
  }

  #uploaded(op: string, r: unknown, hash: string): Entry {
    const entry = parseEntry({ ".tag": "file", ...(isRecord(r) ? r : {}) });
    if (entry === null) throw this.#odd(op, "the upload answered without metadata");
    if (entry.contentHash !== undefined && entry.contentHash !== hash) {
      throw this.#odd(
        op,
        `Dropbox stored other bytes than sent (content hash ${entry.contentHash})`,
      );
    }
    return entry;
  }

  #odd(op: string, detail: string): SyftError {
    return new SyftError("E_TRANSPORT", `dropbox transport failed during ${op}: ${detail}`);
  }
}

/** The DropboxError behind a final error, if any. */
export function causeOf(err: unknown): DropboxError | null {
  if (err instanceof DropboxError) return err;
  if (err instanceof SyftError && err.cause instanceof DropboxError) return err.cause;
  return null;
}

/** `correct_offset` of an `incorrect_offset` upload-session error. */
function correctOffset(err: unknown): number | undefined {
  const cause = causeOf(err);
  if (!cause?.hasTag("incorrect_offset")) return undefined;
  const e = cause.error;
  const inner = isRecord(e) ? e : {};
  const value = inner.correct_offset ??
    (isRecord(inner.incorrect_offset) ? inner.incorrect_offset.correct_offset : undefined) ??
    (isRecord(inner.lookup_failed) ? inner.lookup_failed.correct_offset : undefined);
  return typeof value === "number" && Number.isSafeInteger(value) ? value : undefined;
}

/** JSON safe for an HTTP header: non-ASCII escaped, as Dropbox documents. */
export function headerSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export { describe };
