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
import {
  comparator,
  decodeToken,
  encodeToken,
  parseOrderBy,
  type Snapshot,
  snapshot,
} from "./_listing.ts";
import { parseRelated } from "./_multipart.ts";
import type { OAuth } from "./_oauth.ts";
import { compileQuery } from "./_query.ts";
import {
  boolParam,
  definedOnly,
  json,
  MAX_METADATA_BYTES,
  type Metadata,
  pageSizeParam,
  parseMetadata,
  readBytes,
  readJson,
} from "./_request.ts";
import { ResumableUploads, type UploadSession } from "./_uploads.ts";
import { fileResource, permissionResource, queryView, userResource } from "./_views.ts";
import { type Caller, FOLDER, SCOPES, type Store, type StoredFile } from "./_store.ts";

const DEFAULT_FILE_FIELDS = "kind,id,name,mimeType";
const DEFAULT_LIST_FIELDS = "kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)";
const DEFAULT_CHANGE_FIELDS =
  "kind,nextPageToken,newStartPageToken,changes(kind,type,changeType,time,removed,fileId,file(kind,id,name,mimeType))";
const DEFAULT_PERMISSION_FIELDS = "kind,id,type,role";

/** What the Drive routes need from the server. */
export interface DriveContext {
  store: Store;
  oauth: OAuth;
  faults: Faults;
  quota: Quota;
  front: Front;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Drive side of the fake. */
export class DriveApi {
  readonly uploads: ResumableUploads;
  /** Notification e-mails Drive would have sent (permissions.create). */
  readonly notifications: { from: string; to: string; fileId: string; message: string }[] = [];

  constructor(private readonly ctx: DriveContext) {
    this.uploads = new ResumableUploads(ctx.store, ctx.front, {
      create: (caller, meta, content, mimeType) => this.#create(caller, meta, content, mimeType),
      respond: (caller, file, url, fields) => this.#fileBody(caller, file, url, fields),
    });
  }

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
        const session = this.uploads.session(uploadId);
        return {
          method: "files.upload",
          session,
          run: (_c, r, u, cut) => this.uploads.chunk(session, r, u, cut),
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

  /** The page size served: what was asked, or less when the plan shortens pages. */
  #pageLimit(asked: number): number {
    return this.ctx.faults.plan.shortPages ? Math.ceil(asked / 2) : asked;
  }

  #needWrite(caller: Caller): void {
    if (!caller.scopes.has(SCOPES.drive) && !caller.scopes.has(SCOPES.file)) {
      throw insufficientScopes();
    }
  }

  #fileBody(caller: Caller, file: StoredFile, url: URL, fields?: string | null): Response {
    const wanted = fields === undefined ? url.searchParams.get("fields") : fields;
    return json(select(
      fileResource(this.ctx.store, caller, file, wanted),
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
      user: userResource(this.ctx.store, caller.user.email, caller.user.email),
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
    const pageSize = this.#pageLimit(pageSizeParam(url, 100));
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
        !roots.has(f.id) && store.reaches(caller, f) && predicate(queryView(store, caller, f))
      )
      : [];
    // Listing lag: a new file stays out of the listings that would have shown it.
    hits = hits.filter((f) => {
      if (f.listLag > 0) {
        f.listLag--;
        return false;
      }
      // Sharing lag: a new grant is not in the grantee's listings yet.
      const grant = f.owner === caller.user.email
        ? undefined
        : f.shares.find((s) => s.email === caller.user.email && s.listLag > 0);
      if (grant === undefined) return true;
      grant.listLag--;
      return false;
    });
    let snaps = hits.map((f) => ({ f, s: snapshot(f) })).sort((a, b) => compare(a.s, b.s));
    if (after) snaps = snaps.filter((x) => compare(x.s, after!) > 0);
    const page = snaps.slice(0, pageSize);
    const body: Record<string, unknown> = {
      kind: "drive#fileList",
      incompleteSearch: false,
      files: page.map((x) => fileResource(store, caller, x.f, p.get("fields"))),
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
      return await this.uploads.start(caller, req, url);
    }
    throw invalidParameter("uploadType", `Invalid value '${type ?? ""}' for uploadType`);
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
      store.share(
        caller,
        file,
        email,
        role as "reader" | "commenter" | "writer",
        this.ctx.faults.plan.sharingLag ?? 0,
      );
    }
    if (notify) {
      this.notifications.push({
        from: caller.user.email,
        to: email,
        fileId: file.id,
        message: url.searchParams.get("emailMessage") ?? "",
      });
    }
    const perm = permissionResource(
      store,
      email,
      email === file.owner ? "owner" : role as "reader",
    );
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
        permissionResource(store, file.owner, "owner"),
        ...file.shares.map((s) => permissionResource(store, s.email, s.role)),
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
    const pageSize = this.#pageLimit(pageSizeParam(url, 100));
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
        ...(visible ? { file: fileResource(store, caller, file, p.get("fields")) } : {}),
      });
    }
    const body: Record<string, unknown> = { kind: "drive#changeList", changes };
    if (done) body.newStartPageToken = String(end);
    else body.nextPageToken = String(next);
    return json(select(body, p.get("fields"), CHANGE_LIST, DEFAULT_CHANGE_FIELDS));
  }
}
