/**
 * The fake Dropbox's state: users, namespaces (each user's home, and one per
 * shared folder), the files and folders in them, and one change log for all.
 * A shared folder is a namespace of its own, mounted in each member's home at
 * a path of that member's; its content is the same for all of them, live.
 * Paths are compared lower-cased and shown as first written.
 * Everything is in memory and bounded.
 * @module
 */
import {
  conflict,
  malformedPath,
  NO_WRITE_PERMISSION,
  NOT_FOLDER,
  NOT_FOUND,
  type Tagged,
} from "./_errors.ts";
import { dropboxContentHash } from "./_hash.ts";

/** An account. */
export interface User {
  email: string;
  displayName: string;
  /** `dbid:…`, Dropbox's stable account id. */
  accountId: string;
  /** The legacy numeric user id the token endpoint also returns. */
  uid: string;
  /** The user's home namespace. */
  root: Namespace;
}

/** A namespace: a user's home, or a shared folder's content. */
export interface Namespace {
  id: string;
  /** Entries by path relative to the namespace, lower-cased (`/a/b`; the root is ""). */
  nodes: Map<string, Node>;
  shared: SharedFolder | null;
}

/** A file or folder. */
export interface Node {
  id: string;
  kind: "file" | "folder";
  ns: Namespace;
  relLower: string;
  relDisplay: string;
  /** Set on the folder in a home namespace where a shared folder is mounted. */
  mount: SharedFolder | null;
  content: Uint8Array | null;
  contentHash: string;
  rev: string;
  serverModified: string;
  clientModified: string;
  /** Account id of the last writer. */
  modifiedBy: string;
}

/** Access to a shared folder. */
export type AccessLevel = "owner" | "editor" | "viewer";

/** A shared folder. */
export interface SharedFolder {
  id: string;
  ns: Namespace;
  name: string;
  owner: User;
  /** Members and invitees by e-mail (an invitee has no account yet). */
  members: Map<string, { access: AccessLevel; invited: string }>;
  /** Where each member has it mounted: account id → path in their home, lower-cased. */
  mounts: Map<string, string>;
  created: string;
}

/** One change: something at `relLower` in `ns` changed (or, with `expand`, a whole subtree appeared). */
export interface ChangeEvent {
  seq: number;
  ns: Namespace;
  relLower: string;
  /** The same path as shown (what a deleted entry reports). */
  relDisplay: string;
  /** A mount or share: report the folder and everything under it. */
  expand: boolean;
  /** When it happened (ms), for listing lag. */
  at: number;
}

/** A refusal of the store, mapped by each route to its own error union. */
export class Refusal extends Error {
  constructor(readonly kind: "lookup" | "write", readonly reason: Tagged) {
    super(`${kind}: ${reason[".tag"]}`);
  }
}

/** Where a user-visible path leads. */
export interface Location {
  ns: Namespace;
  /** Path inside `ns`, lower-cased ("" for the namespace's root). */
  rel: string;
  /** The user-visible path of `ns`'s root, lower-cased and as shown ("" for the home). */
  prefixLower: string;
  prefixDisplay: string;
  /** The mount folder when the path is exactly a mount point. */
  mountNode: Node | null;
}

/** The fake's bounds. */
export interface Limits {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxEntries: number;
}

/** The most change events kept; a cursor older than what is left gets `reset`. */
const MAX_LOG = 1_000_000;
/** The most shared folders (all users together). */
const MAX_SHARED = 10_000;
/** The most members a shared folder has. */
const MAX_MEMBERS = 1000;

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `n` random characters of `alphabet`. */
export function randomText(n: number, alphabet = ALNUM): string {
  const raw = crypto.getRandomValues(new Uint8Array(n));
  let out = "";
  for (const b of raw) out += alphabet[b % alphabet.length];
  return out;
}

/** Dropbox's timestamp format: seconds, `Z`, no fraction. */
export function timestamp(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The last component of a path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The parent of a path ("" for a top-level entry). */
export function parentOf(path: string): string {
  return path.slice(0, Math.max(0, path.lastIndexOf("/")));
}

/**
 * A path argument split into components, or a `malformed_path` refusal
 * (`kind` says which union it belongs to). "" is the root.
 */
export function splitPath(path: string, kind: "lookup" | "write"): string[] {
  if (path === "") return [];
  const parts = path.slice(1).split("/");
  const bad = !path.startsWith("/") ||
    parts.some((p) =>
      p === "" || p === "." || p === ".." || p.length > 255 || [...p].some((ch) =>
        ch.charCodeAt(0) < 0x20
      ) ||
      p.endsWith(" ")
    );
  if (bad) throw new Refusal(kind, malformedPath());
  return parts;
}

/** The fake's state. */
export class Store {
  readonly users = new Map<string, User>();
  readonly shared = new Map<string, SharedFolder>();
  readonly byId = new Map<string, Node>();
  readonly log: ChangeEvent[] = [];
  /** Sequence number of `log[0]`. */
  logStart = 1;
  #seq = 0;
  #nsSeq = 1_000_000_000;
  #rev = 0x1000000;
  #totalBytes = 0;
  #entries = 0;
  #listeners = new Set<() => void>();

  constructor(readonly limits: Limits) {}

  /** The newest sequence number. */
  get seq(): number {
    return this.#seq;
  }

  /** Add an account (idempotent); pending invitations to its e-mail become memberships. */
  addUser(email: string, displayName?: string): User {
    const key = email.toLowerCase();
    const known = this.users.get(key);
    if (known) return known;
    if (!/^[^@\s]+@[^@\s]+$/.test(key)) throw new Error(`not an e-mail: ${email}`);
    const user: User = {
      email: key,
      displayName: displayName ?? key.split("@")[0]!,
      accountId: `dbid:AA${randomText(38, ALNUM + "-_")}`,
      uid: String(100_000_000 + this.users.size),
      root: this.#namespace(null),
    };
    this.users.set(key, user);
    return user;
  }

  /** Call `fn` after every change (until the returned function is called). */
  listen(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Number of files and folders, namespace roots not counted. */
  entryCount(): number {
    return this.#entries;
  }

  #namespace(shared: SharedFolder | null): Namespace {
    return { id: String(++this.#nsSeq), nodes: new Map(), shared };
  }

  #record(
    ns: Namespace,
    node: { relLower: string; relDisplay: string },
    expand = false,
  ): void {
    const { relLower, relDisplay } = node;
    this.log.push({ seq: ++this.#seq, ns, relLower, relDisplay, expand, at: Date.now() });
    if (this.log.length > MAX_LOG) {
      const drop = this.log.length - MAX_LOG / 2;
      this.log.splice(0, drop);
      this.logStart += drop;
    }
    for (const fn of [...this.#listeners]) fn();
  }

  /** Resolve a user-visible path (components as given) to a namespace and a path inside it. */
  locate(user: User, parts: readonly string[]): Location {
    let ns = user.root;
    let rel = "";
    let prefixLower = "", prefixDisplay = "";
    let mountNode: Node | null = null;
    for (const part of parts) {
      rel += "/" + part.toLowerCase();
      mountNode = null;
      const node = ns.nodes.get(rel);
      if (node?.mount && ns === user.root) {
        prefixLower = node.relLower;
        prefixDisplay = node.relDisplay;
        mountNode = node;
        ns = node.mount.ns;
        rel = "";
      }
    }
    return { ns, rel, prefixLower, prefixDisplay, mountNode };
  }

  /** The node at a location, or null; a namespace root is no node, except a mount point. */
  nodeAt(loc: Location): Node | null {
    if (loc.rel === "") return loc.mountNode;
    return loc.ns.nodes.get(loc.rel) ?? null;
  }

  /** Where `user` sees a namespace: its prefix, or null when the user cannot see it. */
  viewOf(user: User, ns: Namespace): { lower: string; display: string } | null {
    if (ns === user.root) return { lower: "", display: "" };
    const mountedAt = ns.shared?.mounts.get(user.accountId);
    if (mountedAt === undefined) return null;
    const node = user.root.nodes.get(mountedAt);
    return node ? { lower: node.relLower, display: node.relDisplay } : null;
  }

  /** What `user` may do in a namespace: null when not a member. */
  accessIn(user: User, ns: Namespace): AccessLevel | null {
    if (ns === user.root) return "owner";
    return ns.shared?.members.get(user.email)?.access ?? null;
  }

  /** Refuse a write where `user` may not write; `under` wraps the WriteError (move_v2's from_write/to). */
  #writable(user: User, ns: Namespace, under?: string): void {
    const access = this.accessIn(user, ns);
    if (access === "owner" || access === "editor") return;
    throw new Refusal(
      "write",
      under ? { ".tag": under, [under]: NO_WRITE_PERMISSION } : NO_WRITE_PERMISSION,
    );
  }

  #newNode(
    ns: Namespace,
    relDisplay: string,
    kind: "file" | "folder",
    by: User,
  ): Node {
    if (this.#entries >= this.limits.maxEntries) {
      throw new Refusal("write", { ".tag": "insufficient_space" });
    }
    const now = timestamp();
    const node: Node = {
      id: `id:${randomText(22, ALNUM + "-_")}`,
      kind,
      ns,
      relLower: relDisplay.toLowerCase(),
      relDisplay,
      mount: null,
      content: null,
      contentHash: "",
      rev: "",
      serverModified: now,
      clientModified: now,
      modifiedBy: by.accountId,
    };
    ns.nodes.set(node.relLower, node);
    this.byId.set(node.id, node);
    this.#entries++;
    return node;
  }

  #removeNode(node: Node): void {
    node.ns.nodes.delete(node.relLower);
    this.byId.delete(node.id);
    this.#entries--;
    if (node.content) this.#totalBytes -= node.content.length;
  }

  /**
   * Make sure the folders above `parts` exist (creating them as `user`), and
   * return the location of `parts` itself.
   */
  #parents(user: User, parts: readonly string[]): Location {
    for (let i = 1; i < parts.length; i++) {
      const loc = this.locate(user, parts.slice(0, i));
      const node = this.nodeAt(loc);
      if (node?.kind === "file") throw new Refusal("write", conflict("file_ancestor"));
      if (!node) {
        this.#writable(user, loc.ns);
        const parentDisplay = this.#relDisplay(loc, parts[i - 1]);
        this.#record(loc.ns, this.#newNode(loc.ns, parentDisplay, "folder", user));
      }
    }
    return this.locate(user, parts);
  }

  /** The path inside `loc.ns` as shown, taking the parent's case and the last part as given. */
  #relDisplay(loc: Location, last?: string): string {
    const parent = loc.ns.nodes.get(parentOf(loc.rel));
    const name = last ?? baseName(loc.rel);
    return `${parent ? parent.relDisplay : ""}/${name}`;
  }

  /** A free name next to `loc` for autorename: `name (1).ext`, `name (2).ext`, … */
  #freeName(loc: Location, name: string, suffix: (n: number) => string): string {
    const dot = name.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    for (let n = 1;; n++) {
      const candidate = `${stem}${suffix(n)}${ext}`;
      if (!loc.ns.nodes.has(`${parentOf(loc.rel)}/${candidate.toLowerCase()}`)) return candidate;
    }
  }

  /** files/create_folder_v2. */
  createFolder(user: User, parts: readonly string[], autorename: boolean): Node {
    if (parts.length === 0) throw new Refusal("write", conflict("folder"));
    let loc = this.#parents(user, parts);
    const existing = this.nodeAt(loc);
    let name = parts[parts.length - 1]!;
    if (existing) {
      if (!autorename) {
        throw new Refusal("write", conflict(existing.kind === "file" ? "file" : "folder"));
      }
      name = this.#freeName(loc, name, (n) => ` (${n})`);
      loc = this.locate(user, [...parts.slice(0, -1), name]);
    }
    this.#writable(user, loc.ns);
    const node = this.#newNode(loc.ns, this.#relDisplay(loc, name), "folder", user);
    this.#record(loc.ns, node);
    return node;
  }

  /** A file write (upload or session finish), with Dropbox's write modes. */
  writeFile(
    user: User,
    parts: readonly string[],
    bytes: Uint8Array,
    commit: {
      mode: "add" | "overwrite" | { update: string };
      autorename: boolean;
      strictConflict: boolean;
      clientModified: string | null;
    },
  ): Node {
    if (parts.length === 0) throw new Refusal("write", malformedPath());
    if (bytes.length > this.limits.maxFileBytes) {
      throw new Refusal("write", { ".tag": "insufficient_space" });
    }
    let loc = this.#parents(user, parts);
    this.#writable(user, loc.ns);
    const existing = this.nodeAt(loc);
    const hash = dropboxContentHash(bytes);
    let name = parts[parts.length - 1]!;
    const update = typeof commit.mode === "object" ? commit.mode.update : null;
    let replace: Node | null = null;
    if (existing) {
      const identical = existing.kind === "file" && existing.contentHash === hash;
      const strictMiss = update !== null && commit.strictConflict && existing.rev !== update;
      if (existing.kind === "folder" || existing.mount) {
        if (!commit.autorename) throw new Refusal("write", conflict("folder"));
      } else if (identical && !strictMiss) {
        return existing; // identical contents: nothing is written, no conflict
      } else if (commit.mode === "overwrite" || (update !== null && existing.rev === update)) {
        replace = existing;
      } else if (!commit.autorename) {
        throw new Refusal("write", conflict("file"));
      }
      if (!replace) {
        name = this.#freeName(
          loc,
          name,
          update !== null ? () => " (conflicted copy)" : (n) => ` (${n})`,
        );
        loc = this.locate(user, [...parts.slice(0, -1), name]);
      }
    } else if (update !== null && commit.strictConflict) {
      throw new Refusal("write", conflict("file"));
    }
    if (
      this.#totalBytes + bytes.length - (replace?.content?.length ?? 0) > this.limits.maxTotalBytes
    ) {
      throw new Refusal("write", { ".tag": "insufficient_space" });
    }
    const node = replace ?? this.#newNode(loc.ns, this.#relDisplay(loc, name), "file", user);
    if (node.content) this.#totalBytes -= node.content.length;
    node.content = bytes;
    this.#totalBytes += bytes.length;
    node.contentHash = hash;
    node.rev = (++this.#rev).toString(16).padStart(9, "0") + randomText(6, "0123456789abcdef");
    node.serverModified = timestamp();
    node.clientModified = commit.clientModified ?? node.serverModified;
    node.modifiedBy = user.accountId;
    this.#record(loc.ns, node);
    return node;
  }

  /**
   * files/delete_v2: a folder goes with everything under it. A member
   * deleting a shared folder's mount unmounts it; the owner deleting it
   * deletes it for everyone.
   */
  delete(user: User, parts: readonly string[]): Node {
    const loc = this.locate(user, parts);
    const node = this.nodeAt(loc);
    if (!node) throw new Refusal("lookup", NOT_FOUND);
    if (node.mount) {
      const sf = node.mount;
      if (sf.owner === user) {
        for (const [accountId, at] of sf.mounts) {
          const member = [...this.users.values()].find((u) => u.accountId === accountId);
          const mountNode = member?.root.nodes.get(at);
          if (member && mountNode) {
            this.#removeNode(mountNode);
            this.#record(member.root, mountNode);
          }
        }
        for (const n of [...sf.ns.nodes.values()]) this.#removeNode(n);
        this.shared.delete(sf.id);
      } else {
        // A member's delete unmounts: still a member, it can mount the folder again.
        sf.mounts.delete(user.accountId);
        this.#removeNode(node);
        this.#record(user.root, node);
      }
      return node;
    }
    this.#writable(user, loc.ns);
    const prefix = node.relLower + "/";
    for (const n of [...loc.ns.nodes.values()]) {
      if (n.relLower.startsWith(prefix)) this.#removeNode(n);
    }
    this.#removeNode(node);
    this.#record(loc.ns, node);
    return node;
  }

  /**
   * files/move_v2: a file or a folder with everything under it, within a
   * namespace or across (home and shared folders). A mounted shared folder
   * moves as a whole, only within its member's home; a shared folder never
   * goes inside another.
   */
  move(
    user: User,
    fromParts: readonly string[],
    toParts: readonly string[],
    autorename: boolean,
  ): Node {
    const from = this.locate(user, fromParts);
    const node = this.nodeAt(from);
    if (!node) throw new Refusal("lookup", NOT_FOUND);
    if (!node.mount) this.#writable(user, from.ns, "from_write");
    const fromLower = "/" + fromParts.join("/").toLowerCase();
    const toLower = "/" + toParts.join("/").toLowerCase();
    if (toLower.startsWith(fromLower + "/")) {
      throw new Refusal("write", { ".tag": "cant_move_folder_into_itself" });
    }
    if (toParts.length === 0) throw new Refusal("write", { ".tag": "to", to: malformedPath() });
    const sameName = toLower === fromLower;
    const ancestors = this.#parentsFor(user, toParts);
    let to = this.locate(user, toParts);
    let name = toParts[toParts.length - 1]!;
    const existing = sameName ? null : this.nodeAt(to);
    if (existing) {
      if (!autorename) {
        throw new Refusal("write", {
          ".tag": "to",
          to: conflict(existing.kind === "file" ? "file" : "folder"),
        });
      }
      name = this.#freeName(to, name, (n) => ` (${n})`);
      to = this.locate(user, [...toParts.slice(0, -1), name]);
    }
    const subtree = node.kind === "folder" && !node.mount
      ? [...from.ns.nodes.values()].filter((n) => n.relLower.startsWith(node.relLower + "/"))
      : [];
    const nestsShare = node.mount !== null || subtree.some((n) => n.mount);
    if (nestsShare && to.ns !== user.root) {
      throw new Refusal("write", { ".tag": "cant_nest_shared_folder" });
    }
    if (!node.mount) this.#writable(user, to.ns, "to");
    ancestors();
    to = this.locate(user, [...toParts.slice(0, -1), name]);
    const oldNs = node.mount ? user.root : from.ns;
    const old = { relLower: node.relLower, relDisplay: node.relDisplay };
    const newDisplay = this.#relDisplay(to, name);
    const moveOne = (n: Node, relDisplay: string) => {
      n.ns.nodes.delete(n.relLower);
      n.ns = node.mount ? user.root : to.ns;
      n.relDisplay = relDisplay;
      n.relLower = relDisplay.toLowerCase();
      n.ns.nodes.set(n.relLower, n);
      if (n.mount) n.mount.mounts.set(user.accountId, n.relLower);
    };
    for (const n of subtree) moveOne(n, newDisplay + n.relDisplay.slice(old.relDisplay.length));
    moveOne(node, newDisplay);
    node.serverModified = timestamp();
    if (!sameName) this.#record(oldNs, old);
    this.#record(node.ns, node, node.kind === "folder");
    return node;
  }

  /**
   * A function that makes the folders above `parts` (as `user`), checked
   * first so a refusal leaves nothing made.
   */
  #parentsFor(user: User, parts: readonly string[]): () => void {
    for (let i = 1; i < parts.length; i++) {
      const node = this.nodeAt(this.locate(user, parts.slice(0, i)));
      if (node?.kind === "file") {
        throw new Refusal("write", { ".tag": "to", to: conflict("file_ancestor") });
      }
      if (!node) break;
    }
    return () => void this.#parents(user, parts);
  }

  /** sharing/share_folder: the folder (made if missing) becomes a namespace of its own. */
  shareFolder(user: User, parts: readonly string[]): SharedFolder {
    if (parts.length === 0) throw new Refusal("write", { ".tag": "invalid_path" });
    const loc = this.locate(user, parts);
    const existing = this.nodeAt(loc);
    if (existing?.mount) {
      throw new Refusal("write", { ".tag": "already_shared", already_shared: existing.mount.id });
    }
    if (loc.ns !== user.root) throw new Refusal("write", { ".tag": "inside_shared_folder" });
    if (existing?.kind === "file") throw new Refusal("write", { ".tag": "is_file" });
    if (this.shared.size >= MAX_SHARED) throw new Refusal("write", { ".tag": "other" });
    const rel = loc.rel;
    const inside = [...user.root.nodes.values()].filter((n) => n.relLower.startsWith(rel + "/"));
    if (inside.some((n) => n.mount)) {
      throw new Refusal("write", { ".tag": "contains_shared_folder" });
    }
    let folder = existing;
    if (!folder) {
      const parentLoc = this.#parents(user, parts);
      folder = this.#newNode(
        user.root,
        this.#relDisplay(parentLoc, parts[parts.length - 1]),
        "folder",
        user,
      );
    }
    const sf: SharedFolder = {
      id: "",
      ns: this.#namespace(null),
      name: baseName(folder.relDisplay),
      owner: user,
      members: new Map([[user.email, { access: "owner", invited: timestamp() }]]),
      mounts: new Map([[user.accountId, folder.relLower]]),
      created: timestamp(),
    };
    sf.id = sf.ns.id;
    sf.ns.shared = sf;
    for (const n of inside) {
      user.root.nodes.delete(n.relLower);
      n.ns = sf.ns;
      n.relLower = n.relLower.slice(rel.length);
      n.relDisplay = n.relDisplay.slice(rel.length);
      sf.ns.nodes.set(n.relLower, n);
    }
    folder.mount = sf;
    this.shared.set(sf.id, sf);
    this.#record(user.root, folder, true);
    return sf;
  }

  /** sharing/add_folder_member, one member: an account's e-mail joins; another is invited. */
  addMember(by: User, sf: SharedFolder, email: string, access: AccessLevel): void {
    const byAccess = sf.members.get(by.email)?.access;
    if (byAccess !== "owner" && byAccess !== "editor") {
      throw new Refusal("write", { ".tag": "no_permission" });
    }
    const key = email.toLowerCase();
    if (sf.members.has(key)) return;
    if (sf.members.size >= MAX_MEMBERS) throw new Refusal("write", { ".tag": "too_many_members" });
    sf.members.set(key, { access, invited: timestamp() });
  }

  /** sharing/mount_folder: at the home's root, under a free name (`name (1)` on a clash). */
  mount(user: User, sf: SharedFolder): Node {
    if (sf.mounts.has(user.accountId)) throw new Refusal("write", { ".tag": "already_mounted" });
    let name = sf.name;
    for (let n = 1; user.root.nodes.has(`/${name.toLowerCase()}`); n++) name = `${sf.name} (${n})`;
    const node = this.#newNode(user.root, `/${name}`, "folder", user);
    node.mount = sf;
    sf.mounts.set(user.accountId, node.relLower);
    this.#record(user.root, node, true);
    return node;
  }

  /** The user whose account id this is. */
  userById(accountId: string): User | undefined {
    for (const u of this.users.values()) if (u.accountId === accountId) return u;
    return undefined;
  }

  /** Shared folders `user` belongs to (as owner, member or invitee of its e-mail). */
  sharedWith(user: User): SharedFolder[] {
    return [...this.shared.values()].filter((sf) => sf.members.has(user.email));
  }

  /** A lookup of `parts` that must be a folder (or the root). */
  folderAt(user: User, parts: readonly string[]): Location {
    const loc = this.locate(user, parts);
    if (parts.length === 0) return loc;
    const node = this.nodeAt(loc);
    if (!node) throw new Refusal("lookup", NOT_FOUND);
    if (node.kind !== "folder") throw new Refusal("lookup", NOT_FOLDER);
    return loc;
  }
}
