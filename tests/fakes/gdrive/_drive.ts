/**
 * Drive API v3 over HTTP: the routes under `/drive/v3/` and
 * `/upload/drive/v3/`, authentication by bearer token, partial responses, and
 * the faults the plan asks for.
 * @module
 */
import {
  badRequest,
  DriveError,
  insufficientFilePermissions,
  insufficientScopes,
  invalidParameter,
  notFound,
  unauthenticated,
} from "./_errors.ts";
import {
  ABOUT,
  CHANGE_LIST,
  FILE,
  FILE_LIST,
  PERMISSION,
  PERMISSION_LIST,
  select,
  START_PAGE_TOKEN,
} from "./_fields.ts";
import type { DriveMethod, Faults, Quota } from "./_faults.ts";
import type { Front } from "./_front.ts";
import { parseRelated } from "./_multipart.ts";
import type { OAuth } from "./_oauth.ts";
import { compileQuery } from "./_query.ts";
import { type Caller, FOLDER, newId, SCOPES, type Store, type StoredFile } from "./_store.ts";

const DEFAULT_FILE_FIELDS = "kind,id,name,mimeType";
const DEFAULT_LIST_FIELDS = "kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)";
const DEFAULT_CHANGE_FIELDS =
  "kind,nextPageToken,newStartPageToken,changes(kind,type,changeType,time,removed,fileId,file(kind,id,name,mimeType))";
const DEFAULT_PERMISSION_FIELDS = "kind,id,type,role";
/** Drive keeps resumable bytes in units of 256 KiB; a chunk's tail beyond the last unit is dropped. */
export const UPLOAD_UNIT = 256 * 1024;
const MAX_SESSIONS = 1000;
const MAX_METADATA_BYTES = 1024 * 1024;

/** A resumable upload in progress. */
interface UploadSession {
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

/** The writable part of a file's metadata, as a client sends it. */
interface Metadata {
  id?: string;
  name?: string;
  mimeType?: string;
  parents?: string[];
  description?: string;
  starred?: boolean;
  trashed?: boolean;
  appProperties?: Record<string, string | null>;
  properties?: Record<string, string | null>;
}

/** What the Drive routes need from the server. */
export interface DriveContext {
  store: Store;
  oauth: OAuth;
  faults: Faults;
  quota: Quota;
  front: Front;
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers });
}

function stringMap(v: unknown, key: string): Record<string, string | null> | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw badRequest(`Invalid ${key}`);
  for (const x of Object.values(v)) {
    if (x !== null && typeof x !== "string") throw badRequest(`Invalid ${key}`);
  }
  return v as Record<string, string | null>;
}

/** Parse a file metadata body once; unknown keys are refused as Drive refuses them. */
function parseMetadata(raw: unknown): Metadata {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw badRequest("Metadata must be an object");
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(key in FILE)) {
      throw badRequest(
        `Invalid JSON payload received. Unknown name "${key}" at 'resource': Cannot find field.`,
      );
    }
  }
  const str = (k: string) => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw badRequest(`Invalid value at 'resource.${k}'`);
    return v;
  };
  const bool = (k: string) => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") throw badRequest(`Invalid value at 'resource.${k}'`);
    return v;
  };
  let parents: string[] | undefined;
  if (o.parents !== undefined) {
    if (!Array.isArray(o.parents) || o.parents.some((p) => typeof p !== "string")) {
      throw badRequest("Invalid value at 'resource.parents'");
    }
    parents = o.parents as string[];
  }
  const m: Metadata = {};
  const id = str("id"), name = str("name"), mimeType = str("mimeType");
  const description = str("description");
  const starred = bool("starred"), trashed = bool("trashed");
  if (id !== undefined) m.id = id;
  if (name !== undefined) m.name = name;
  if (mimeType !== undefined) m.mimeType = mimeType;
  if (description !== undefined) m.description = description;
  if (starred !== undefined) m.starred = starred;
  if (trashed !== undefined) m.trashed = trashed;
  if (parents !== undefined) m.parents = parents;
  const app = stringMap(o.appProperties, "appProperties");
  const props = stringMap(o.properties, "properties");
  if (app) m.appProperties = app;
  if (props) m.properties = props;
  return m;
}

function definedOnly(m: Record<string, string | null> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).filter(([, v]) => v !== null)) as Record<
    string,
    string
  >;
}

/** Read a request body, refusing more than `limit` bytes. */
async function readBytes(req: Request, limit: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of req.body) {
    size += part.length;
    if (size > limit) {
      throw new DriveError(413, { reason: "uploadTooLarge" }, "Request is too large.");
    }
    parts.push(part);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function readJson(req: Request): Promise<unknown> {
  const bytes = await readBytes(req, MAX_METADATA_BYTES);
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new DriveError(400, { reason: "parseError" }, "Invalid JSON payload received.");
  }
}

function boolParam(url: URL, name: string, fallback: boolean): boolean {
  const v = url.searchParams.get(name);
  if (v === null) return fallback;
  if (v === "true") return true;
  if (v === "false") return false;
  throw invalidParameter(name, `Invalid value '${v}'. Values must be true or false.`);
}

function pageSizeParam(url: URL, fallback: number): number {
  const v = url.searchParams.get("pageSize");
  if (v === null) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw invalidParameter(
      "pageSize",
      `Invalid value '${v}'. Values must be within the range: [1, 1000]`,
    );
  }
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sort keys of `files.list`'s `orderBy`. */
interface SortKey {
  field: string;
  desc: boolean;
}
const ORDER_FIELDS = new Set([
  "createdTime",
  "folder",
  "modifiedByMeTime",
  "modifiedTime",
  "name",
  "name_natural",
  "quotaBytesUsed",
  "recency",
  "sharedWithMeTime",
  "starred",
  "viewedByMeTime",
]);

function parseOrderBy(text: string | null): SortKey[] {
  if (text === null || text.trim() === "") return [];
  return text.split(",").map((part) => {
    const [field, dir, extra] = part.trim().split(/\s+/);
    if (!field || !ORDER_FIELDS.has(field) || extra !== undefined || (dir && dir !== "desc")) {
      throw invalidParameter("orderBy", `Invalid field selection ${part.trim()}`);
    }
    return { field, desc: dir === "desc" };
  });
}

/** What a page token remembers: the listing it belongs to and the last item shown. */
interface Snapshot {
  id: string;
  name: string;
  createdTime: string;
  modifiedTime: string;
  folder: boolean;
  starred: boolean;
}

function snapshot(f: StoredFile): Snapshot {
  return {
    id: f.id,
    name: f.name,
    createdTime: f.createdTime,
    modifiedTime: f.modifiedTime,
    folder: f.mimeType === FOLDER,
    starred: f.starred,
  };
}

function comparator(keys: SortKey[]): (a: Snapshot, b: Snapshot) => number {
  return (a, b) => {
    for (const k of keys) {
      let c = 0;
      switch (k.field) {
        case "createdTime":
          c = a.createdTime.localeCompare(b.createdTime);
          break;
        case "modifiedTime":
        case "recency":
          c = a.modifiedTime.localeCompare(b.modifiedTime);
          break;
        case "name":
          c = a.name.toLowerCase() < b.name.toLowerCase()
            ? -1
            : a.name.toLowerCase() > b.name.toLowerCase()
            ? 1
            : 0;
          break;
        case "name_natural":
          c = a.name.localeCompare(b.name, "en", { numeric: true, sensitivity: "base" });
          break;
        case "folder":
          c = Number(b.folder) - Number(a.folder);
          break;
        case "starred":
          c = Number(b.starred) - Number(a.starred);
          break;
      }
      if (c !== 0) return k.desc ? -c : c;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

function encodeToken(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeToken(token: string): unknown {
  try {
    const b64 = token.replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)));
  } catch {
    throw invalidParameter("pageToken");
  }
}

/** The Drive side of the fake. */
export class DriveApi {
  readonly sessions = new Map<string, UploadSession>();
  /** Bytes held by unfinished resumable uploads (bounded like stored content). */
  #sessionBytes = 0;
  /** Notification e-mails Drive would have sent (permissions.create). */
  readonly notifications: { from: string; to: string; fileId: string; message: string }[] = [];

  constructor(private readonly ctx: DriveContext) {}

  /** Handle one API request; `key` names its connection for faults that cut it. */
  async handle(req: Request, url: URL, key: number): Promise<Response> {
    const route = this.#route(req.method, url);
    if (!route) {
      throw new DriveError(404, { reason: "notFound" }, `Not Found: ${req.method} ${url.pathname}`);
    }
    const caller = route.session ? route.session.caller : this.#authenticate(req, url);
    const { faults, front } = this.ctx;
    const fault = faults.next(route.method, caller.user.email);
    if (!this.ctx.quota.take(caller.user.email)) {
      throw new DriveError(
        403,
        { reason: "userRateLimitExceeded", domain: "usageLimits" },
        "User Rate Limit Exceeded",
      );
    }
    const plan = faults.plan;
    switch (fault) {
      case "429":
        throw new DriveError(
          429,
          { reason: "rateLimitExceeded", domain: "usageLimits" },
          "Rate Limit Exceeded",
          {
            "retry-after": String(plan.retryAfterSeconds ?? 1),
          },
        );
      case "403-rate":
        throw new DriveError(
          403,
          { reason: "rateLimitExceeded", domain: "usageLimits" },
          "Rate Limit Exceeded",
        );
      case "403-user-rate":
        throw new DriveError(
          403,
          { reason: "userRateLimitExceeded", domain: "usageLimits" },
          "User Rate Limit Exceeded",
        );
      case "500":
        throw new DriveError(500, { reason: "backendError" }, "Internal Error");
      case "503":
        throw new DriveError(503, { reason: "backendError" }, "Service Unavailable");
      case "latency":
        await sleep(plan.latencyMs ?? 50);
        break;
      case "drop":
        if (route.method === "files.upload" || route.method === "files.download") break;
        front.drop(key);
        return new Response(null, { status: 499 });
    }
    const cut = fault === "drop" ? key : null;
    const response = await route.run(caller, req, url, cut);
    if (fault === "lose-response") {
      // Done, but the caller never hears: the case that makes a create's retry unsafe.
      await response.body?.cancel();
      front.drop(key);
      return new Response(null, { status: 499 });
    }
    return response;
  }

  #authenticate(req: Request, url: URL): Caller {
    const header = req.headers.get("authorization");
    const bearer = header
      ? /^Bearer\s+(\S+)$/i.exec(header)?.[1]
      : url.searchParams.get("access_token");
    if (!bearer) throw unauthenticated(header === null);
    const caller = this.ctx.oauth.caller(bearer);
    if (caller === "invalid") throw unauthenticated(false);
    const s = caller.scopes;
    if (
      ![SCOPES.drive, SCOPES.file, SCOPES.readonly, SCOPES.metadataReadonly].some((x) => s.has(x))
    ) {
      throw insufficientScopes();
    }
    return caller;
  }

  #route(
    method: string,
    url: URL,
  ):
    | {
      method: DriveMethod;
      session?: UploadSession;
      run: (caller: Caller, req: Request, url: URL, cut: number | null) => Promise<Response>;
    }
    | null {
    const path = url.pathname.replace(/\/+$/, "");
    let m: RegExpExecArray | null;
    if (path === "/drive/v3/about" && method === "GET") {
      return { method: "about.get", run: (c) => Promise.resolve(this.#about(c, url)) };
    }
    if (path === "/drive/v3/files") {
      if (method === "GET") {
        return {
          method: "files.list",
          run: (c) => Promise.resolve(this.#list(c, url)),
        };
      }
      if (method === "POST") {
        return {
          method: "files.create",
          run: (c, r) => this.#createMetadata(c, r, url),
        };
      }
    }
    if (path === "/drive/v3/files/generateIds" && method === "GET") {
      return {
        method: "files.generateIds",
        run: (c) => Promise.resolve(this.#generateIds(c, url)),
      };
    }
    if ((m = /^\/drive\/v3\/files\/([^/]+)$/.exec(path))) {
      const id = decodeURIComponent(m[1]!);
      if (method === "GET" && url.searchParams.get("alt") === "media") {
        return {
          method: "files.download",
          run: (c, r, _u, cut) => Promise.resolve(this.#download(c, id, r, cut)),
        };
      }
      if (method === "GET") {
        return {
          method: "files.get",
          run: (c) => Promise.resolve(this.#get(c, id, url)),
        };
      }
      if (method === "PATCH") {
        return {
          method: "files.update",
          run: (c, r) => this.#update(c, id, r, url),
        };
      }
      if (method === "DELETE") {
        return {
          method: "files.delete",
          run: (c) => Promise.resolve(this.#delete(c, id)),
        };
      }
    }
    if ((m = /^\/drive\/v3\/files\/([^/]+)\/permissions$/.exec(path))) {
      const id = decodeURIComponent(m[1]!);
      if (method === "POST") {
        return {
          method: "permissions.create",
          run: (c, r) => this.#share(c, id, r, url),
        };
      }
      if (method === "GET") {
        return {
          method: "permissions.list",
          run: (c) => Promise.resolve(this.#permissions(c, id, url)),
        };
      }
    }
    if (
      (m = /^\/drive\/v3\/files\/([^/]+)\/permissions\/([^/]+)$/.exec(path)) && method === "DELETE"
    ) {
      const id = decodeURIComponent(m[1]!), pid = decodeURIComponent(m[2]!);
      return {
        method: "permissions.delete",
        run: (c) => Promise.resolve(this.#unshare(c, id, pid)),
      };
    }
    if (path === "/drive/v3/changes/startPageToken" && method === "GET") {
      return {
        method: "changes.getStartPageToken",
        run: (c) =>
          Promise.resolve(json(select(
            {
              kind: "drive#startPageToken",
              startPageToken: this.ctx.store.startPageToken(c.user.email),
            },
            url.searchParams.get("fields"),
            START_PAGE_TOKEN,
            "kind,startPageToken",
          ))),
      };
    }
    if (path === "/drive/v3/changes" && method === "GET") {
      return { method: "changes.list", run: (c) => Promise.resolve(this.#changes(c, url)) };
    }
    if (path === "/upload/drive/v3/files") {
      const uploadId = url.searchParams.get("upload_id");
      if (uploadId !== null && (method === "PUT" || method === "POST")) {
        const session = this.sessions.get(uploadId);
        if (!session || session.expired) {
          throw new DriveError(
            404,
            { reason: "notFound" },
            "Upload session not found or expired; start a new upload.",
          );
        }
        return {
          method: "files.upload",
          session,
          run: (_c, r, u, cut) => this.#chunk(session, r, u, cut),
        };
      }
      if (method === "POST") {
        return {
          method: "files.create",
          run: (c, r) => this.#upload(c, r, url),
        };
      }
    }
    if ((m = /^\/upload\/drive\/v3\/files\/([^/]+)$/.exec(path)) && method === "PATCH") {
      const id = decodeURIComponent(m[1]!);
      return { method: "files.update", run: (c, r) => this.#uploadUpdate(c, id, r, url) };
    }
    return null;
  }

  #needWrite(caller: Caller): void {
    if (!caller.scopes.has(SCOPES.drive) && !caller.scopes.has(SCOPES.file)) {
      throw insufficientScopes();
    }
  }

  #fileBody(caller: Caller, file: StoredFile, url: URL, fields?: string | null): Response {
    const wanted = fields === undefined ? url.searchParams.get("fields") : fields;
    return json(select(
      this.ctx.store.fileResource(caller, file, wanted),
      wanted,
      FILE,
      DEFAULT_FILE_FIELDS,
    ));
  }

  // ---- about, get, list ---------------------------------------------------------

  #about(caller: Caller, url: URL): Response {
    const fields = url.searchParams.get("fields");
    if (!fields) {
      throw new DriveError(
        400,
        { reason: "required", location: "fields", locationType: "parameter" },
        "The 'fields' parameter is required for this method.",
      );
    }
    const about = {
      kind: "drive#about",
      user: this.ctx.store.userResource(caller.user.email, caller.user.email),
      storageQuota: { limit: String(this.ctx.store.limits.maxTotalBytes), usage: "0" },
      maxUploadSize: String(this.ctx.store.limits.maxFileBytes),
      appInstalled: false,
      canCreateDrives: false,
    };
    return json(select(about, fields, ABOUT, ""));
  }

  #generateIds(caller: Caller, url: URL): Response {
    const raw = url.searchParams.get("count") ?? "10";
    const count = Number(raw);
    if (!Number.isInteger(count) || count < 1 || count > 1000) {
      throw invalidParameter(
        "count",
        `Invalid value '${raw}'. Values must be within the range: [1, 1000]`,
      );
    }
    const space = url.searchParams.get("space") ?? "drive";
    if (space !== "drive") {
      throw invalidParameter("space", `The fake Drive has no space '${space}'`);
    }
    return json(select(
      {
        kind: "drive#generatedIds",
        space,
        ids: this.ctx.store.generateIds(caller.user.email, count),
      },
      url.searchParams.get("fields"),
      { kind: null, space: null, ids: null },
      "kind,space,ids",
    ));
  }

  #get(caller: Caller, id: string, url: URL): Response {
    return this.#fileBody(caller, this.ctx.store.get(caller, id), url);
  }

  #list(caller: Caller, url: URL): Response {
    const { store } = this.ctx;
    const p = url.searchParams;
    const q = p.get("q") ?? "";
    const predicate = compileQuery(q, (id) => id === "root" ? caller.user.rootId : id);
    const pageSize = pageSizeParam(url, 100);
    const orderBy = p.get("orderBy");
    const compare = comparator(parseOrderBy(orderBy));
    if (
      boolParam(url, "includeItemsFromAllDrives", false) &&
      !boolParam(url, "supportsAllDrives", false)
    ) {
      throw invalidParameter(
        "includeItemsFromAllDrives",
        "The includeItemsFromAllDrives parameter can only be set to true when supportsAllDrives is also set to true.",
      );
    }
    const corpora = p.get("corpora") ?? "user";
    if (!["user", "allDrives", "domain"].includes(corpora)) throw invalidParameter("corpora");
    const spaces = (p.get("spaces") ?? "drive").split(",");
    if (spaces.some((s) => !["drive", "appDataFolder", "photos"].includes(s.trim()))) {
      throw invalidParameter("spaces");
    }
    let after: Snapshot | null = null;
    const pageToken = p.get("pageToken");
    if (pageToken) {
      const t = decodeToken(pageToken) as { q?: string; o?: string | null; a?: Snapshot };
      if (t?.q !== q || t.o !== orderBy || typeof t.a?.id !== "string") {
        throw invalidParameter("pageToken");
      }
      after = t.a;
    }
    const roots = new Set([...store.users.values()].map((u) => u.rootId));
    let hits = spaces.includes("drive")
      ? [...store.files.values()].filter((f) =>
        !roots.has(f.id) && store.reaches(caller, f) && predicate(store.queryView(caller, f))
      )
      : [];
    // Listing lag: a new file stays out of the listings that would have shown it.
    hits = hits.filter((f) => {
      if (f.listLag <= 0) return true;
      f.listLag--;
      return false;
    });
    let snaps = hits.map((f) => ({ f, s: snapshot(f) })).sort((a, b) => compare(a.s, b.s));
    if (after) snaps = snaps.filter((x) => compare(x.s, after!) > 0);
    const page = snaps.slice(0, pageSize);
    const body: Record<string, unknown> = {
      kind: "drive#fileList",
      incompleteSearch: false,
      files: page.map((x) => store.fileResource(caller, x.f, p.get("fields"))),
    };
    if (snaps.length > pageSize) {
      body.nextPageToken = encodeToken({ q, o: orderBy, a: page[page.length - 1]!.s });
    }
    return json(select(body, p.get("fields"), FILE_LIST, DEFAULT_LIST_FIELDS));
  }

  #download(caller: Caller, id: string, req: Request, cut: number | null): Response {
    const file = this.ctx.store.get(caller, id);
    if (
      !caller.scopes.has(SCOPES.drive) && !caller.scopes.has(SCOPES.readonly) &&
      !caller.scopes.has(SCOPES.file)
    ) {
      throw insufficientScopes();
    }
    if (file.content === null) {
      throw new DriveError(
        403,
        { reason: "fileNotDownloadable", location: "alt", locationType: "parameter" },
        "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
      );
    }
    const total = file.content.length;
    let start = 0, end = total - 1, status = 200;
    const range = req.headers.get("range");
    const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
    if (m && (m[1] !== "" || m[2] !== "")) {
      if (m[1] === "") {
        start = Math.max(0, total - Number(m[2]));
      } else {
        start = Number(m[1]);
        if (m[2] !== "") end = Math.min(end, Number(m[2]));
      }
      if (start >= total || start > end) {
        return new Response(null, {
          status: 416,
          headers: { "content-range": `bytes */${total}` },
        });
      }
      status = 206;
    }
    const bytes = file.content.subarray(start, end + 1);
    const headers: Record<string, string> = {
      "content-type": file.mimeType,
      "content-length": String(bytes.length),
      "accept-ranges": "bytes",
    };
    if (status === 206) headers["content-range"] = `bytes ${start}-${end}/${total}`;
    if (cut === null) return new Response(bytes as Uint8Array<ArrayBuffer>, { status, headers });
    return new Response(this.#cutMidway(bytes, cut), { status, headers });
  }

  /** A body that sends half its bytes, then loses the connection. */
  #cutMidway(bytes: Uint8Array, key: number): ReadableStream<Uint8Array> {
    const front = this.ctx.front;
    const half = Math.floor(bytes.length / 2);
    const before = front.forwarded(key);
    let sent = false;
    return new ReadableStream({
      async pull(c) {
        if (!sent) {
          sent = true;
          if (half > 0) c.enqueue(bytes.slice(0, half));
          return;
        }
        // Let the half reach the client, then cut.
        let last = -1;
        for (let i = 0; i < 200; i++) {
          const now = front.forwarded(key) - before;
          if (now >= half && now === last) break;
          last = now;
          await sleep(5);
        }
        front.drop(key);
        c.close();
      },
    });
  }

  // ---- create, update, delete ---------------------------------------------------

  #create(
    caller: Caller,
    meta: Metadata,
    content: Uint8Array | null,
    mediaType?: string,
  ): StoredFile {
    this.#needWrite(caller);
    const mimeType = meta.mimeType ?? mediaType ?? "application/octet-stream";
    const create: Parameters<Store["create"]>[1] = {
      ...(meta.id !== undefined ? { id: meta.id } : {}),
      name: meta.name ?? "Untitled",
      mimeType,
      parents: meta.parents ?? [],
      appProperties: definedOnly(meta.appProperties),
      properties: definedOnly(meta.properties),
    };
    if (meta.description !== undefined) create.description = meta.description;
    const bytes = mimeType === FOLDER ? null : content ?? new Uint8Array(0);
    const file = this.ctx.store.create(caller, create, bytes, this.ctx.faults.plan.listingLag ?? 0);
    if (meta.starred) file.starred = true;
    return file;
  }

  async #createMetadata(caller: Caller, req: Request, url: URL): Promise<Response> {
    const meta = parseMetadata(await readJson(req));
    return this.#fileBody(caller, this.#create(caller, meta, null), url);
  }

  async #upload(caller: Caller, req: Request, url: URL): Promise<Response> {
    const type = url.searchParams.get("uploadType");
    const limit = this.ctx.store.limits.maxFileBytes;
    if (type === "media") {
      const body = await readBytes(req, limit);
      const file = this.#create(caller, {}, body, req.headers.get("content-type") ?? undefined);
      return this.#fileBody(caller, file, url);
    }
    if (type === "multipart") {
      const body = await readBytes(req, limit + MAX_METADATA_BYTES);
      const part = parseRelated(req.headers.get("content-type") ?? "", body);
      const file = this.#create(caller, parseMetadata(part.metadata), part.media, part.mediaType);
      return this.#fileBody(caller, file, url);
    }
    if (type === "resumable") {
      this.#needWrite(caller);
      const meta = parseMetadata(await readJson(req));
      const lengthHeader = req.headers.get("x-upload-content-length");
      const declared = lengthHeader === null ? null : Number(lengthHeader);
      if (declared !== null && (!Number.isInteger(declared) || declared < 0)) {
        throw badRequest("Invalid X-Upload-Content-Length");
      }
      if (declared !== null && declared > limit) this.ctx.store.reserve(declared); // throws
      if (meta.id !== undefined) this.ctx.store.checkId(caller.user.email, meta.id);
      // Drive checks the parent when the session starts, not only at the end.
      const parent = this.ctx.store.get(caller, meta.parents?.[0] ?? "root");
      const role = this.ctx.store.role(caller.user.email, parent);
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
    throw invalidParameter("uploadType", `Invalid value '${type ?? ""}' for uploadType`);
  }

  /** One PUT on a resumable session: a chunk, the last chunk, or a status query. */
  async #chunk(s: UploadSession, req: Request, url: URL, cut: number | null): Promise<Response> {
    const fields = url.searchParams.get("fields") ?? s.fields;
    const done = () => {
      const file = this.ctx.store.files.get(s.fileId!);
      if (!file) throw notFound(s.fileId!);
      return this.#fileBody(s.caller, file, url, fields);
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
    const limit = this.ctx.store.limits.maxFileBytes;
    if (cut !== null) {
      // Half the chunk arrives, then the connection goes.
      const half = Math.floor((expected ?? Number(req.headers.get("content-length") ?? 0)) / 2);
      const got = await readSome(req, half);
      this.#accept(s, start, got, true);
      this.ctx.front.drop(cut);
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
      const file = this.#create(s.caller, s.meta, concat(s.chunks, s.received), s.mimeType);
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
    const { maxFileBytes, maxTotalBytes } = this.ctx.store.limits;
    const more = end - s.received;
    if (end > maxFileBytes || this.#sessionBytes + more > maxTotalBytes) {
      throw new DriveError(
        403,
        { reason: "storageQuotaExceeded" },
        "The user's Drive storage quota has been exceeded.",
      );
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
  expireSessions(): void {
    for (const s of this.sessions.values()) {
      s.expired = true;
      this.#forget(s);
    }
  }

  async #update(caller: Caller, id: string, req: Request, url: URL): Promise<Response> {
    this.#needWrite(caller);
    const meta = parseMetadata(await readJson(req));
    const file = this.#applyUpdate(caller, id, meta, url);
    return this.#fileBody(caller, file, url);
  }

  #applyUpdate(caller: Caller, id: string, meta: Metadata, url: URL): StoredFile {
    const { store } = this.ctx;
    const file = store.writable(caller, id);
    if (meta.parents !== undefined) {
      throw new DriveError(
        403,
        { reason: "fieldNotWritable", location: "parents", locationType: "other" },
        "The resource body includes fields which are not directly writable.",
      );
    }
    if (meta.trashed !== undefined && file.owner !== caller.user.email) {
      throw insufficientFilePermissions();
    }
    const add = (url.searchParams.get("addParents") ?? "").split(",").filter((x) => x !== "");
    const remove = (url.searchParams.get("removeParents") ?? "").split(",").filter((x) => x !== "");
    const addIds = add.map((pid) => {
      const parent = store.writable(caller, pid);
      if (parent.mimeType !== FOLDER) throw badRequest("The specified parent is not a folder.");
      return parent.id;
    });
    const parents = [...file.parents.filter((p) => !remove.includes(p)), ...addIds];
    if (new Set(parents).size > 1) {
      throw new DriveError(
        403,
        { reason: "cannotAddParent" },
        "Increasing the number of parents is not allowed.",
      );
    }
    store.touched(caller, file, () => {
      if (meta.name !== undefined) file.name = meta.name;
      if (meta.mimeType !== undefined) file.mimeType = meta.mimeType;
      if (meta.description !== undefined) file.description = meta.description;
      if (meta.starred !== undefined) file.starred = meta.starred;
      if (meta.trashed !== undefined) file.explicitlyTrashed = meta.trashed;
      file.appProperties = definedOnly({ ...file.appProperties, ...meta.appProperties });
      file.properties = definedOnly({ ...file.properties, ...meta.properties });
      file.parents = [...new Set(parents)];
    });
    return file;
  }

  async #uploadUpdate(caller: Caller, id: string, req: Request, url: URL): Promise<Response> {
    this.#needWrite(caller);
    const type = url.searchParams.get("uploadType");
    const limit = this.ctx.store.limits.maxFileBytes;
    let meta: Metadata = {}, content: Uint8Array;
    if (type === "media") {
      content = await readBytes(req, limit);
    } else if (type === "multipart") {
      const part = parseRelated(
        req.headers.get("content-type") ?? "",
        await readBytes(req, limit + MAX_METADATA_BYTES),
      );
      meta = parseMetadata(part.metadata);
      content = part.media;
    } else {
      throw invalidParameter(
        "uploadType",
        `The fake updates content with media or multipart, not '${type ?? ""}'`,
      );
    }
    const file = this.#applyUpdate(caller, id, meta, url);
    if (file.content === null) throw badRequest("A folder has no content.");
    this.ctx.store.setContent(caller, file, content);
    return this.#fileBody(caller, file, url);
  }

  #delete(caller: Caller, id: string): Response {
    this.#needWrite(caller);
    const file = this.ctx.store.get(caller, id);
    this.ctx.store.delete(caller, file);
    return new Response(null, { status: 204 });
  }

  // ---- permissions --------------------------------------------------------------

  async #share(caller: Caller, id: string, req: Request, url: URL): Promise<Response> {
    this.#needWrite(caller);
    const { store } = this.ctx;
    const file = store.writable(caller, id);
    const raw = await readJson(req);
    if (raw === null || typeof raw !== "object") throw badRequest("A permission body is required.");
    const body = raw as Record<string, unknown>;
    for (const k of Object.keys(body)) {
      if (!(k in PERMISSION)) {
        throw badRequest(`Invalid JSON payload received. Unknown name "${k}"`);
      }
    }
    const { type, role, emailAddress } = body;
    if (typeof type !== "string") {
      throw new DriveError(400, {
        reason: "required",
        location: "permission.type",
        locationType: "other",
      }, "Permission type is required.");
    }
    if (typeof role !== "string") {
      throw new DriveError(400, {
        reason: "required",
        location: "permission.role",
        locationType: "other",
      }, "Permission role is required.");
    }
    if (type !== "user") throw badRequest(`The fake Drive shares with users only, not '${type}'.`);
    if (!["reader", "commenter", "writer", "owner"].includes(role)) {
      throw invalidParameter("permission.role", `Invalid permission role: ${role}`);
    }
    if (role === "owner") {
      throw new DriveError(
        403,
        { reason: "forbidden" },
        "The transferOwnership parameter must be enabled when the permission role is 'owner'.",
      );
    }
    if (typeof emailAddress !== "string" || !emailAddress.includes("@")) {
      throw new DriveError(
        400,
        { reason: "invalid", location: "permission.emailAddress", locationType: "other" },
        "The permission emailAddress field is required for user permissions.",
      );
    }
    const email = emailAddress.toLowerCase();
    const notify = boolParam(url, "sendNotificationEmail", true);
    if (!store.users.has(email) && !notify) {
      throw new DriveError(
        400,
        { reason: "invalidSharingRequest" },
        `Bad Request. User message: "You are trying to invite ${email}. Since there is no Google account associated with this email address, you must check the 'Notify people' box to invite this recipient."`,
      );
    }
    if (email !== file.owner) {
      store.share(caller, file, email, role as "reader" | "commenter" | "writer");
    }
    if (notify) {
      this.notifications.push({
        from: caller.user.email,
        to: email,
        fileId: file.id,
        message: url.searchParams.get("emailMessage") ?? "",
      });
    }
    const perm = store.permissionResource(email, email === file.owner ? "owner" : role as "reader");
    return json(
      select(perm, url.searchParams.get("fields"), PERMISSION, DEFAULT_PERMISSION_FIELDS),
    );
  }

  #permissions(caller: Caller, id: string, url: URL): Response {
    const { store } = this.ctx;
    const file = store.get(caller, id);
    const body = {
      kind: "drive#permissionList",
      permissions: [
        store.permissionResource(file.owner, "owner"),
        ...file.shares.map((s) => store.permissionResource(s.email, s.role)),
      ],
    };
    return json(
      select(
        body,
        url.searchParams.get("fields"),
        PERMISSION_LIST,
        "kind,nextPageToken,permissions(kind,id,type,role)",
      ),
    );
  }

  #unshare(caller: Caller, id: string, permissionId: string): Response {
    this.#needWrite(caller);
    const { store } = this.ctx;
    const file = store.writable(caller, id);
    const share = file.shares.find((s) =>
      (store.users.get(s.email)?.permissionId ?? `pending-${s.email}`) === permissionId
    );
    if (!share) {
      throw new DriveError(
        404,
        { reason: "notFound", location: "permissionId", locationType: "parameter" },
        `Permission not found: ${permissionId}.`,
      );
    }
    store.unshare(file, share.email);
    return new Response(null, { status: 204 });
  }

  // ---- changes ------------------------------------------------------------------

  #changes(caller: Caller, url: URL): Response {
    const { store } = this.ctx;
    const p = url.searchParams;
    const token = p.get("pageToken");
    if (token === null) {
      throw new DriveError(
        400,
        { reason: "required", location: "pageToken", locationType: "parameter" },
        "Required parameter: pageToken",
      );
    }
    const position = Number(token);
    const end = Number(store.startPageToken(caller.user.email));
    if (!/^\d+$/.test(token) || position < 1 || position > end) throw invalidParameter("pageToken");
    const pageSize = pageSizeParam(url, 100);
    const includeRemoved = boolParam(url, "includeRemoved", true);
    const { entries, next, done } = store.changes(caller, position, pageSize);
    const changes = [];
    for (const e of entries) {
      const file = store.files.get(e.fileId);
      const visible = file !== undefined && store.reaches(caller, file);
      if (!visible && !includeRemoved) continue;
      changes.push({
        kind: "drive#change",
        type: "file",
        changeType: "file",
        time: e.time,
        removed: !visible,
        fileId: e.fileId,
        ...(visible ? { file: store.fileResource(caller, file, p.get("fields")) } : {}),
      });
    }
    const body: Record<string, unknown> = { kind: "drive#changeList", changes };
    if (done) body.newStartPageToken = String(end);
    else body.nextPageToken = String(next);
    return json(select(body, p.get("fields"), CHANGE_LIST, DEFAULT_CHANGE_FIELDS));
  }
}

/** Read up to `n` bytes of a body, then stop reading. */
async function readSome(req: Request, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    while (size < n) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
      size += r.value.length;
    }
    await reader.cancel().catch(() => {});
  }
  return concat(parts, Math.min(size, n));
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    if (at >= size) break;
    const take = p.subarray(0, size - at);
    out.set(take, at);
    at += take.length;
  }
  return out;
}
