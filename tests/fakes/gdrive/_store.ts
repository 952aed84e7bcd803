/**
 * The fake Drive's state: users, files, sharing and each user's change log.
 * Everything is in memory and bounded. Access follows Drive: a user reaches a
 * file it owns, one shared with it, or one inside a folder it reaches; a
 * `drive.file` token reaches only files this app created for that user.
 * @module
 */
import { createHash } from "node:crypto";
import { DriveError, insufficientFilePermissions, notFound, quotaExceeded } from "./_errors.ts";

/** Drive's folder MIME type. */
export const FOLDER = "application/vnd.google-apps.folder";

/** OAuth scopes the fake knows. */
export const SCOPES = {
  drive: "https://www.googleapis.com/auth/drive",
  file: "https://www.googleapis.com/auth/drive.file",
  readonly: "https://www.googleapis.com/auth/drive.readonly",
  metadataReadonly: "https://www.googleapis.com/auth/drive.metadata.readonly",
} as const;

/** An account. */
export interface User {
  email: string;
  displayName: string;
  /** Drive's stable per-user permission id. */
  permissionId: string;
  /** Id of the user's My Drive root folder. */
  rootId: string;
}

/** Who makes a call: a user, through an OAuth client, with some scopes. */
export interface Caller {
  user: User;
  clientId: string;
  scopes: ReadonlySet<string>;
}

/** A share on a file. */
export interface Share {
  email: string;
  role: "reader" | "commenter" | "writer";
  /** Who shared it, and when (for `sharingUser` / `sharedWithMeTime`). */
  by: string;
  time: string;
  /**
   * Listings that will still miss the file for this grantee: Drive's search
   * index (what `sharedWithMe` and every `q` read) lags behind a new grant,
   * while `files.get` by id and the change feed see it at once.
   */
  listLag: number;
}

/** One stored file or folder. */
export interface StoredFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  owner: string;
  createdTime: string;
  modifiedTime: string;
  lastModifyingUser: string;
  explicitlyTrashed: boolean;
  starred: boolean;
  description?: string;
  appProperties: Record<string, string>;
  properties: Record<string, string>;
  content: Uint8Array | null;
  /** Checksums, computed when first asked for (hashing 64 MiB on every write would skew timings). */
  digests: { md5: string; sha1: string; sha256: string } | null;
  version: number;
  shares: Share[];
  /** `user\nclientId` pairs that may reach the file under `drive.file`. */
  appAuthorized: Set<string>;
  /** Listings that will still miss this new file (Drive's listing lag). */
  listLag: number;
}

/** One entry of a user's change log. */
interface LogEntry {
  fileId: string;
  time: string;
}

/** The role a user holds on a file, strongest first. */
export type Role = "owner" | "writer" | "commenter" | "reader";
const RANK: Record<Role, number> = { owner: 4, writer: 3, commenter: 2, reader: 1 };

/** Limits that keep the fake's memory bounded. */
export interface StoreLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxFiles: number;
}

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A Drive-like id: 33 characters starting with "1". */
export function newId(length = 33): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length - 1));
  return "1" + Array.from(bytes, (b) => ID_ALPHABET[b & 63]).join("");
}

/** A hex digest of `data`. */
export function digest(algo: string, data: Uint8Array): string {
  return createHash(algo).update(data).digest("hex");
}

/** The store. */
export class Store {
  readonly users = new Map<string, User>();
  readonly files = new Map<string, StoredFile>();
  #logs = new Map<string, LogEntry[]>();
  /** Per user: the index of the latest log entry for each file (older ones are superseded). */
  #latest = new Map<string, Map<string, number>>();
  #bytes = 0;
  #lastTime = 0;
  /** Ids handed out by `files.generateIds`, per user, not yet used. */
  #generated = new Map<string, Set<string>>();

  constructor(readonly limits: StoreLimits) {}

  /** The current time, strictly RFC 3339 with milliseconds, never going back. */
  now(): string {
    this.#lastTime = Math.max(Date.now(), this.#lastTime);
    return new Date(this.#lastTime).toISOString();
  }

  /** Add an account (idempotent) with its My Drive root. */
  addUser(email: string, displayName?: string): User {
    const key = email.toLowerCase();
    const existing = this.users.get(key);
    if (existing) return existing;
    const permissionId = String(10_000_000_000_000_000_000n + BigInt(this.users.size + 1) * 7919n);
    const root = this.#newFile({
      name: "My Drive",
      mimeType: FOLDER,
      parents: [],
      owner: key,
      content: null,
    });
    const user: User = {
      email: key,
      displayName: displayName ?? key.split("@")[0]!,
      permissionId,
      rootId: root.id,
    };
    this.users.set(key, user);
    this.files.set(root.id, root);
    this.#logs.set(key, []);
    this.#latest.set(key, new Map());
    return user;
  }

  #newFile(
    f: Pick<StoredFile, "name" | "mimeType" | "parents" | "owner" | "content">,
    id = newId(),
  ): StoredFile {
    const time = this.now();
    return {
      ...f,
      id,
      createdTime: time,
      modifiedTime: time,
      lastModifyingUser: f.owner,
      explicitlyTrashed: false,
      starred: false,
      appProperties: {},
      properties: {},
      digests: null,
      version: 1,
      shares: [],
      appAuthorized: new Set(),
      listLag: 0,
    };
  }

  // ---- access ----------------------------------------------------------------

  /** The strongest role `email` holds on `file`, directly or through its folders. */
  role(email: string, file: StoredFile, depth = 0): Role | null {
    if (file.owner === email) return "owner";
    let best: Role | null = null;
    for (const s of file.shares) {
      if (s.email === email && (!best || RANK[s.role] > RANK[best])) best = s.role;
    }
    if (depth < 64) {
      for (const pid of file.parents) {
        const parent = this.files.get(pid);
        const found = parent ? this.role(email, parent, depth + 1) : null;
        // Owning a folder gives edit rights, not ownership, on others' files in it.
        const r = found === "owner" ? "writer" : found;
        if (r && (!best || RANK[r] > RANK[best])) best = r;
      }
    }
    return best;
  }

  /** Whether the caller's token reaches `file` (Drive's `drive.file` limit included). */
  reaches(caller: Caller, file: StoredFile): boolean {
    if (this.role(caller.user.email, file) === null) return false;
    if (onlyFileScope(caller)) {
      return file.id === caller.user.rootId ||
        file.appAuthorized.has(`${caller.user.email}\n${caller.clientId}`);
    }
    return true;
  }

  /** The file, or Drive's 404 for one that is missing or out of the caller's reach. */
  get(caller: Caller, id: string): StoredFile {
    const file = this.files.get(id === "root" ? caller.user.rootId : id);
    if (!file || !this.reaches(caller, file)) throw notFound(id);
    return file;
  }

  /** Like {@linkcode get}, and the caller must be able to edit it. */
  writable(caller: Caller, id: string): StoredFile {
    const file = this.get(caller, id);
    const role = this.role(caller.user.email, file);
    if (role !== "owner" && role !== "writer") throw insufficientFilePermissions();
    return file;
  }

  /** Whether a file sits in the trash, itself or through a folder. */
  trashed(file: StoredFile, depth = 0): boolean {
    if (file.explicitlyTrashed) return true;
    if (depth > 64) return false;
    return file.parents.some((p) => {
      const parent = this.files.get(p);
      return parent ? this.trashed(parent, depth + 1) : false;
    });
  }

  /** Users that reach `file` (without scope limits), for the change logs. */
  #audience(file: StoredFile): Set<string> {
    const out = new Set<string>();
    for (const email of this.users.keys()) if (this.role(email, file) !== null) out.add(email);
    return out;
  }

  /** Every file below `folder`. */
  descendants(folder: StoredFile): StoredFile[] {
    const children = new Map<string, StoredFile[]>();
    for (const f of this.files.values()) {
      for (const p of f.parents) {
        const list = children.get(p);
        if (list) list.push(f);
        else children.set(p, [f]);
      }
    }
    const out: StoredFile[] = [];
    const seen = new Set<string>([folder.id]);
    const queue = [folder.id];
    while (queue.length > 0) {
      for (const f of children.get(queue.pop()!) ?? []) {
        if (seen.has(f.id)) continue;
        seen.add(f.id);
        out.push(f);
        queue.push(f.id);
      }
    }
    return out;
  }

  /**
   * Run a mutation of `files` and log a change, for every user that could
   * reach one of them before or after, as Drive's change feed does.
   */
  mutate<T>(files: StoredFile[], fn: () => T): T {
    const before = files.map((f) => this.#audience(f));
    const result = fn();
    const time = this.now();
    files.forEach((f, i) => {
      const after = this.files.has(f.id) ? this.#audience(f) : new Set<string>();
      for (const email of new Set([...before[i]!, ...after])) this.#log(email, f.id, time);
    });
    return result;
  }

  #log(email: string, fileId: string, time: string): void {
    const log = this.#logs.get(email);
    if (!log) return;
    log.push({ fileId, time });
    this.#latest.get(email)!.set(fileId, log.length - 1);
  }

  // ---- writes ----------------------------------------------------------------

  /** `files.generateIds`: ids only `email` may use in a create. */
  generateIds(email: string, count: number): string[] {
    const mine = this.#generated.get(email) ?? new Set<string>();
    this.#generated.set(email, mine);
    const ids = Array.from({ length: count }, () => newId());
    for (const id of ids) mine.add(id);
    // Bounded: the oldest unused ids are forgotten first.
    for (const old of mine) {
      if (mine.size <= 100_000) break;
      mine.delete(old);
    }
    return ids;
  }

  /**
   * Check a client-chosen id: Drive answers 409 when a file already has it (so
   * a retried create cannot make a second copy) and refuses ids it did not
   * generate for this user.
   */
  checkId(email: string, id: string): void {
    if (this.files.has(id)) {
      throw new DriveError(
        409,
        { reason: "duplicate" },
        "A file already exists with the provided ID.",
      );
    }
    if (!this.#generated.get(email)?.has(id)) {
      throw new DriveError(
        400,
        { reason: "fileIdNotUsable", location: "file.id", locationType: "other" },
        "The provided file ID is not usable.",
      );
    }
  }

  /** Create a file as `caller` (checks of the parent done here, bounds too). */
  create(
    caller: Caller,
    meta: {
      id?: string;
      name: string;
      mimeType: string;
      parents: string[];
      description?: string;
      appProperties?: Record<string, string>;
      properties?: Record<string, string>;
    },
    content: Uint8Array | null,
    listLag: number,
  ): StoredFile {
    if (meta.id !== undefined) this.checkId(caller.user.email, meta.id);
    const parentIds = meta.parents.length === 0 ? [caller.user.rootId] : meta.parents;
    if (parentIds.length > 1) {
      throw new DriveError(
        403,
        { reason: "cannotAddParent" },
        "Increasing the number of parents is not allowed.",
      );
    }
    const parent = this.get(caller, parentIds[0]!);
    if (parent.mimeType !== FOLDER) {
      throw new DriveError(
        400,
        { reason: "invalidParent", location: "parents", locationType: "other" },
        "The specified parent is not a folder.",
      );
    }
    const role = this.role(caller.user.email, parent);
    if (role !== "owner" && role !== "writer") throw insufficientFilePermissions();
    this.reserve(content?.length ?? 0);
    if (this.files.size >= this.limits.maxFiles) {
      throw new DriveError(403, { reason: "storageQuotaExceeded" }, "The fake Drive is full.");
    }
    const file = this.#newFile({
      name: meta.name,
      mimeType: meta.mimeType,
      parents: [parent.id],
      owner: caller.user.email,
      content,
    }, meta.id);
    if (meta.id !== undefined) this.#generated.get(caller.user.email)?.delete(meta.id);
    if (meta.description !== undefined) file.description = meta.description;
    file.appProperties = { ...meta.appProperties };
    file.properties = { ...meta.properties };
    file.appAuthorized.add(`${caller.user.email}\n${caller.clientId}`);
    file.listLag = listLag;
    this.files.set(file.id, file);
    // Log after insertion: the "before" audience of a new file is nobody.
    this.mutate([file], () => {});
    return file;
  }

  /** Account for `bytes` more of content, or refuse with Drive's quota error. */
  reserve(bytes: number): void {
    if (bytes > this.limits.maxFileBytes || this.#bytes + bytes > this.limits.maxTotalBytes) {
      throw quotaExceeded();
    }
    this.#bytes += bytes;
  }

  /** Replace a file's content. */
  setContent(caller: Caller, file: StoredFile, content: Uint8Array): void {
    this.reserve(content.length);
    this.#bytes -= file.content?.length ?? 0;
    this.mutate([file], () => {
      file.content = content;
      file.digests = null;
      this.#touch(caller, file);
    });
  }

  #touch(caller: Caller, file: StoredFile): void {
    file.modifiedTime = this.now();
    file.lastModifyingUser = caller.user.email;
    file.version++;
  }

  /** Mark a metadata change (the change feed and `version` see it). */
  touched(caller: Caller, file: StoredFile, fn: () => void): void {
    const affected = [file, ...(file.mimeType === FOLDER ? this.descendants(file) : [])];
    this.mutate(affected, () => {
      fn();
      this.#touch(caller, file);
    });
  }

  /** Delete a file for good; a folder takes its owner's files below it along. */
  delete(caller: Caller, file: StoredFile): void {
    if (file.owner !== caller.user.email || file.id === caller.user.rootId) {
      throw insufficientFilePermissions();
    }
    const below = file.mimeType === FOLDER ? this.descendants(file) : [];
    const doomed = [file, ...below.filter((f) => f.owner === file.owner)];
    const orphans = below.filter((f) => f.owner !== file.owner);
    this.mutate([...doomed, ...orphans], () => {
      for (const f of doomed) {
        this.#bytes -= f.content?.length ?? 0;
        this.files.delete(f.id);
      }
      const gone = new Set(doomed.map((f) => f.id));
      for (const f of orphans) f.parents = f.parents.filter((p) => !gone.has(p));
    });
  }

  /**
   * Share `file` with `email` (or change the role of an existing share; a
   * repeated grant keeps its time and lag, as it changes nothing on Drive).
   */
  share(
    caller: Caller,
    file: StoredFile,
    email: string,
    role: Share["role"],
    listLag = 0,
  ): void {
    const affected = [file, ...(file.mimeType === FOLDER ? this.descendants(file) : [])];
    this.mutate(affected, () => {
      const existing = file.shares.find((s) => s.email === email);
      if (existing) existing.role = role;
      else file.shares.push({ email, role, by: caller.user.email, time: this.now(), listLag });
    });
  }

  /** Remove a share. */
  unshare(file: StoredFile, email: string): void {
    const affected = [file, ...(file.mimeType === FOLDER ? this.descendants(file) : [])];
    this.mutate(affected, () => {
      file.shares = file.shares.filter((s) => s.email !== email);
    });
  }

  // ---- changes -----------------------------------------------------------------

  /** The token for "from now on". */
  startPageToken(email: string): string {
    return String((this.#logs.get(email)?.length ?? 0) + 1);
  }

  /**
   * Changes since `token` (1-based log position): only each file's latest
   * entry, at most `pageSize`, and where to go on.
   */
  changes(
    caller: Caller,
    token: number,
    pageSize: number,
  ): { entries: { fileId: string; time: string }[]; next: number; done: boolean } {
    const log = this.#logs.get(caller.user.email) ?? [];
    const latest = this.#latest.get(caller.user.email)!;
    const entries: LogEntry[] = [];
    let i = token - 1;
    for (; i < log.length && entries.length < pageSize; i++) {
      const e = log[i]!;
      if (latest.get(e.fileId) !== i) continue;
      const file = this.files.get(e.fileId);
      // A drive.file token hears only of files it reaches, or that it reached
      // and lost (it cannot tell those apart cheaply, so: files it created).
      if (onlyFileScope(caller) && !(file && this.reaches(caller, file))) continue;
      entries.push(e);
    }
    return { entries, next: i + 1, done: i >= log.length };
  }
}

/** Whether the token's only Drive scope is `drive.file`. */
export function onlyFileScope(caller: Caller): boolean {
  return !caller.scopes.has(SCOPES.drive) && !caller.scopes.has(SCOPES.readonly) &&
    !caller.scopes.has(SCOPES.metadataReadonly) && caller.scopes.has(SCOPES.file);
}
