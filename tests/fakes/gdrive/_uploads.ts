/**
 * Resumable uploads as Drive runs them: a session URL from the first POST,
 * chunks by PUT with `Content-Range`, 308 with the `Range` kept so far (whole
 * 256 KiB units only, so a client must read it), a status query with
 * `Content-Range: bytes *\/<total>`, and the file when the last byte arrives.
 * @module
 */
import {
  badRequest,
  DriveError,
  insufficientFilePermissions,
  notFound,
  quotaExceeded,
} from "./_errors.ts";
import type { Front } from "./_front.ts";
import { concat, type Metadata, parseMetadata, readBytes, readJson, readSome } from "./_request.ts";
import { type Caller, newId, type Store, type StoredFile } from "./_store.ts";

/** Drive keeps resumable bytes in units of 256 KiB; a chunk's tail beyond the last unit is dropped. */
export const UPLOAD_UNIT = 256 * 1024;
const MAX_SESSIONS = 1000;

/** A resumable upload in progress. */
export interface UploadSession {
  id: string;
  caller: Caller;
  meta: Metadata;
  mimeType: string;
  declaredLength: number | null;
  chunks: Uint8Array[];
  received: number;
  fields: string | null;
  fileId: string | null;
  expired: boolean;
}

/** What finished bytes become, and how the answer looks. */
export interface UploadTarget {
  create(caller: Caller, meta: Metadata, content: Uint8Array, mimeType: string): StoredFile;
  respond(caller: Caller, file: StoredFile, url: URL, fields: string | null): Response;
}

/** The sessions of resumable uploads. */
export class ResumableUploads {
  readonly sessions = new Map<string, UploadSession>();
  /** Bytes held by unfinished sessions (bounded like stored content). */
  #sessionBytes = 0;

  constructor(
    private readonly store: Store,
    private readonly front: Front,
    private readonly target: UploadTarget,
  ) {}

  /** A live session, or Drive's 404 for an unknown or expired one. */
  session(id: string): UploadSession {
    const s = this.sessions.get(id);
    if (!s || s.expired) {
      throw new DriveError(
        404,
        { reason: "notFound" },
        "Upload session not found or expired; start a new upload.",
      );
    }
    return s;
  }

  /** The first POST (`uploadType=resumable`): check what Drive checks up front, answer the session URL. */
  async start(caller: Caller, req: Request, url: URL): Promise<Response> {
    const meta = parseMetadata(await readJson(req));
    const lengthHeader = req.headers.get("x-upload-content-length");
    const declared = lengthHeader === null ? null : Number(lengthHeader);
    if (declared !== null && (!Number.isInteger(declared) || declared < 0)) {
      throw badRequest("Invalid X-Upload-Content-Length");
    }
    if (declared !== null && declared > this.store.limits.maxFileBytes) throw quotaExceeded();
    if (meta.id !== undefined) this.store.checkId(caller.user.email, meta.id);
    // Drive checks the parent when the session starts, not only at the end.
    const parent = this.store.get(caller, meta.parents?.[0] ?? "root");
    const role = this.store.role(caller.user.email, parent);
    if (role !== "owner" && role !== "writer") throw insufficientFilePermissions();
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) {
        this.#forget(this.sessions.get(oldest)!);
        this.sessions.delete(oldest);
      }
    }
    const id = newId(70).slice(1);
    this.sessions.set(id, {
      id,
      caller,
      meta,
      mimeType: meta.mimeType ?? req.headers.get("x-upload-content-type") ??
        "application/octet-stream",
      declaredLength: declared,
      chunks: [],
      received: 0,
      fields: url.searchParams.get("fields"),
      fileId: null,
      expired: false,
    });
    const location = new URL(url.href);
    location.search = "";
    location.searchParams.set("uploadType", "resumable");
    location.searchParams.set("upload_id", id);
    return new Response(null, {
      status: 200,
      headers: { location: location.href, "x-guploader-uploadid": id },
    });
  }

  /** One PUT on a resumable session: a chunk, the last chunk, or a status query. */
  async chunk(s: UploadSession, req: Request, url: URL, cut: number | null): Promise<Response> {
    const fields = url.searchParams.get("fields") ?? s.fields;
    const done = () => {
      const file = this.store.files.get(s.fileId!);
      if (!file) throw notFound(s.fileId!);
      return this.target.respond(s.caller, file, url, fields);
    };
    const incomplete = () =>
      new Response(null, {
        status: 308,
        headers: s.received > 0 ? { range: `bytes=0-${s.received - 1}` } : {},
      });
    const header = req.headers.get("content-range");
    if (header !== null && /^bytes \*\/(\d+|\*)$/.test(header.trim())) {
      await req.body?.cancel();
      return s.fileId ? done() : incomplete();
    }
    if (s.fileId) {
      await req.body?.cancel();
      return done();
    }
    let start = 0, total: number | null = null, expected: number | null = null;
    if (header !== null) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim());
      if (!m || Number(m[2]) < Number(m[1])) {
        throw badRequest("Failed to parse Content-Range header.");
      }
      start = Number(m[1]);
      expected = Number(m[2]) - start + 1;
      total = m[3] === "*" ? null : Number(m[3]);
      if (total !== null && Number(m[2]) >= total) {
        throw badRequest("Failed to parse Content-Range header.");
      }
    }
    if (start > s.received) {
      throw badRequest(
        `Invalid request. The upload resumed at byte ${start}, but only ${s.received} bytes were received.`,
      );
    }
    const limit = this.store.limits.maxFileBytes;
    if (cut !== null) {
      // Half the chunk arrives, then the connection goes.
      const half = Math.floor((expected ?? Number(req.headers.get("content-length") ?? 0)) / 2);
      const got = await readSome(req, half);
      this.#accept(s, start, got, true);
      this.front.drop(cut);
      return new Response(null, { status: 499 });
    }
    const body = await readBytes(req, limit);
    if (header === null) total = body.length;
    if (expected !== null && body.length !== expected) {
      throw badRequest("Failed to parse Content-Range header.");
    }
    if (total !== null && s.declaredLength !== null && total !== s.declaredLength) {
      throw badRequest("The Content-Range total does not match X-Upload-Content-Length.");
    }
    if (total !== null && start + body.length === total) {
      this.#accept(s, start, body, false);
      const file = this.target.create(s.caller, s.meta, concat(s.chunks, s.received), s.mimeType);
      this.#forget(s);
      s.fileId = file.id;
      return done();
    }
    this.#accept(s, start, body, true);
    return incomplete();
  }

  /** Keep the new bytes of a chunk (only whole 256 KiB units when `unitsOnly`). */
  #accept(s: UploadSession, start: number, bytes: Uint8Array, unitsOnly: boolean): void {
    let end = start + bytes.length;
    if (unitsOnly) end = Math.floor(end / UPLOAD_UNIT) * UPLOAD_UNIT;
    if (end <= s.received) return;
    const { maxFileBytes, maxTotalBytes } = this.store.limits;
    const more = end - s.received;
    if (end > maxFileBytes || this.#sessionBytes + more > maxTotalBytes) {
      throw quotaExceeded();
    }
    s.chunks.push(bytes.slice(s.received - start, end - start));
    s.received = end;
    this.#sessionBytes += more;
  }

  /** Let go of a session's bytes (done, expired or evicted). */
  #forget(s: UploadSession): void {
    this.#sessionBytes -= s.chunks.reduce((n, c) => n + c.length, 0);
    s.chunks = [];
  }

  /** Make every session expire, as a week without activity does on Drive. */
  expireAll(): void {
    for (const s of this.sessions.values()) {
      s.expired = true;
      this.#forget(s);
    }
  }
}
