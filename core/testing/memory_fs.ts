/**
 * A {@linkcode LocalFs} held in memory: a tree of folders, files (bytes, mode,
 * mtime, inode) and symlinks, with Deno's errors, so the sync engine runs on
 * it as on a disk. Several datasites of one test may share one `MemoryFs`
 * under different roots.
 *
 * Durability is explicit: every `sync()` of a file or folder marks the whole
 * tree as it stands durable, and {@linkcode MemoryFs.crash} rolls the tree
 * back to the last such mark, as a power cut loses what was never fsynced.
 * (Coarser than a disk, where one fsync covers one file: what it proves is
 * that the engine reaches an fsync before it relies on a write.)
 * @module
 */
import { posix } from "node:path";
import type { FsEntry, FsInfo, LocalFile, LocalFs } from "../fs/local_fs.ts";
import { type Clock, systemClock } from "../time/clock.ts";

interface Meta {
  ino: number;
  mode: number;
  mtime: number;
}
interface FileNode extends Meta {
  kind: "file";
  data: Uint8Array;
}
interface DirNode extends Meta {
  kind: "dir";
  children: Map<string, Node>;
}
interface LinkNode extends Meta {
  kind: "symlink";
  target: string;
}
type Node = FileNode | DirNode | LinkNode;

/** Symlinks followed in one path before giving up, as the kernel does. */
const MAX_LINKS = 40;

function notFound(op: string, path: string): Error {
  return new Deno.errors.NotFound(`No such file or directory (os error 2): ${op} '${path}'`);
}

function exists(op: string, path: string): Error {
  return new Deno.errors.AlreadyExists(`File exists (os error 17): ${op} '${path}'`);
}

function notDir(op: string, path: string): Error {
  return new Deno.errors.NotADirectory(`Not a directory (os error 20): ${op} '${path}'`);
}

function isDir(op: string, path: string): Error {
  return new Deno.errors.IsADirectory(`Is a directory (os error 21): ${op} '${path}'`);
}

function notEmpty(op: string, path: string): Error {
  // Deno has no class for ENOTEMPTY; it throws a plain Error with the code.
  return Object.assign(new Error(`Directory not empty (os error 39): ${op} '${path}'`), {
    code: "ENOTEMPTY",
  });
}

function segmentsOf(path: string): string[] {
  if (!path.startsWith("/")) throw new Error(`MemoryFs takes absolute paths, not ${path}`);
  return posix.normalize(path).split("/").filter((s) => s !== "");
}

/** Thrown by the fsync a test chose to die at (see {@linkcode MemoryFs.powerCutAt}). */
export class PowerCut extends Error {
  constructor(readonly at: number) {
    super(`power cut before fsync ${at}`);
    this.name = "PowerCut";
  }
}

/** A file system in memory. */
export class MemoryFs implements LocalFs {
  #root: DirNode;
  #durable: DirNode;
  #ino = 1;
  readonly #clock: Clock;
  /** Files holding a `lock()`, with the callers waiting for each. */
  readonly #locks = new Map<Node, (() => void)[]>();
  /** How many times `sync()` completed (a test may count the barriers). */
  syncs = 0;
  /**
   * When set, the `sync()` that would complete this many syncs in all throws
   * {@linkcode PowerCut} instead: the process dies just before that barrier.
   * Follow with {@linkcode MemoryFs.crash} to lose what it would have saved.
   */
  powerCutAt: number | null = null;
  /** Set by a power cut: the process is dead, every call fails until `crash()`. */
  #dead: PowerCut | null = null;

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
    this.#root = this.#dir(0o755);
    this.#durable = clone(this.#root);
  }

  /** Lose everything written since the last `sync()`, as a power cut would. */
  crash(): void {
    this.#dead = null;
    this.#root = clone(this.#durable);
    this.#locks.clear();
  }

  /** Create a symbolic link at `path` (not part of LocalFs: the engine never makes one). */
  symlinkSync(target: string, path: string): void {
    const { parent, name } = this.#parentOf("symlink", path);
    if (parent.children.has(name)) throw exists("symlink", path);
    parent.children.set(name, { kind: "symlink", target, ...this.#meta(0o777) });
  }

  /** Every path under `dir` (files and symlinks), sorted: for assertions. */
  listTree(dir = "/"): string[] {
    const out: string[] = [];
    const walk = (node: DirNode, at: string) => {
      for (const [name, child] of [...node.children].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const path = at === "/" ? `/${name}` : `${at}/${name}`;
        if (child.kind === "dir") walk(child, path);
        else out.push(path);
      }
    };
    const start = this.#resolve("listTree", dir, true);
    if (start.kind !== "dir") throw notDir("listTree", dir);
    walk(start, posix.normalize(dir));
    return out;
  }

  open(path: string, options: Deno.OpenOptions): Promise<LocalFile> {
    return this.#async(() => this.openSync(path, options));
  }

  openSync(path: string, options: Deno.OpenOptions): LocalFile {
    this.alive();
    const writes = !!(options.write || options.append);
    const creates = !!(options.create || options.createNew);
    let node: Node | undefined;
    try {
      node = this.#resolve("open", path, true);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound) || !creates || !writes) throw err;
    }
    if (node && options.createNew) throw exists("open", path);
    if (!node) {
      const { parent, name } = this.#parentOf("open", path, true);
      node = { kind: "file", data: new Uint8Array(0), ...this.#meta(options.mode ?? 0o644) };
      parent.children.set(name, node);
      parent.mtime = this.#clock.now();
    }
    if (node.kind === "dir" && writes) throw isDir("open", path);
    if (node.kind === "file" && options.truncate && writes) {
      node.data = new Uint8Array(0);
      node.mtime = this.#clock.now();
    }
    return new MemoryFile(this, node, path, !!options.append);
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.#async(() => this.readFileSync(path));
  }

  readFileSync(path: string): Uint8Array {
    this.alive();
    const node = this.#resolve("readfile", path, true);
    if (node.kind !== "file") throw isDir("readfile", path);
    return node.data.slice();
  }

  readTextFile(path: string): Promise<string> {
    return this.#async(() => new TextDecoder().decode(this.readFileSync(path)));
  }

  writeFileSync(path: string, data: Uint8Array, options: Deno.WriteFileOptions = {}): void {
    this.alive();
    const file = this.openSync(path, {
      write: true,
      create: options.create ?? true,
      createNew: options.createNew ?? false,
      truncate: !options.append,
      append: options.append ?? false,
      ...(options.mode === undefined ? {} : { mode: options.mode }),
    });
    (file as MemoryFile).writeSync(data);
    file.close();
  }

  copyFileSync(from: string, to: string): void {
    this.alive();
    const source = this.#resolve("copy", from, true);
    if (source.kind !== "file") throw isDir("copy", from);
    const file = this.openSync(to, {
      write: true,
      create: true,
      truncate: true,
      mode: source.mode,
    });
    (file as MemoryFile).writeSync(source.data);
    file.close();
  }

  copyFile(from: string, to: string): Promise<void> {
    return this.#async(() => this.copyFileSync(from, to));
  }

  mkdir(path: string, options: Deno.MkdirOptions = {}): Promise<void> {
    return this.#async(() => this.mkdirSync(path, options));
  }

  mkdirSync(path: string, options: Deno.MkdirOptions = {}): void {
    this.alive();
    const segments = segmentsOf(path);
    let dir = this.#root;
    for (const [i, s] of segments.entries()) {
      const last = i === segments.length - 1;
      let child = dir.children.get(s);
      if (child?.kind === "symlink") child = this.#resolve("mkdir", this.#join(segments, i), true);
      if (child === undefined) {
        if (!last && !options.recursive) throw notFound("mkdir", path);
        child = this.#dir(options.mode ?? 0o755);
        dir.children.set(s, child);
        dir.mtime = this.#clock.now();
      } else if (last && !options.recursive) {
        throw exists("mkdir", path);
      }
      if (child.kind !== "dir") throw last ? exists("mkdir", path) : notDir("mkdir", path);
      dir = child;
    }
  }

  rename(from: string, to: string): Promise<void> {
    return this.#async(() => this.renameSync(from, to));
  }

  renameSync(from: string, to: string): void {
    this.alive();
    const src = this.#parentOf("rename", from);
    const node = src.parent.children.get(src.name);
    if (!node) throw notFound("rename", from);
    const dst = this.#parentOf("rename", to);
    const there = dst.parent.children.get(dst.name);
    if (there === node) return;
    if (there?.kind === "dir") {
      if (node.kind !== "dir") throw isDir("rename", to);
      if (there.children.size > 0) throw notEmpty("rename", to);
    } else if (there && node.kind === "dir") {
      throw notDir("rename", to);
    }
    src.parent.children.delete(src.name);
    dst.parent.children.set(dst.name, node);
    src.parent.mtime = dst.parent.mtime = this.#clock.now();
  }

  link(from: string, to: string): Promise<void> {
    return this.#async(() => {
      this.alive();
      const node = this.#resolve("link", from, false);
      if (node.kind === "dir") throw new Deno.errors.PermissionDenied(`link '${from}'`);
      const dst = this.#parentOf("link", to);
      if (dst.parent.children.has(dst.name)) throw exists("link", to);
      dst.parent.children.set(dst.name, node);
      dst.parent.mtime = this.#clock.now();
    });
  }

  remove(path: string, options: Deno.RemoveOptions = {}): Promise<void> {
    return this.#async(() => this.removeSync(path, options));
  }

  removeSync(path: string, options: Deno.RemoveOptions = {}): void {
    this.alive();
    const { parent, name } = this.#parentOf("remove", path);
    const node = parent.children.get(name);
    if (!node) throw notFound("remove", path);
    if (node.kind === "dir" && node.children.size > 0 && !options.recursive) {
      throw notEmpty("remove", path);
    }
    parent.children.delete(name);
    parent.mtime = this.#clock.now();
  }

  existsSync(path: string): boolean {
    this.alive();
    try {
      this.#resolve("stat", path, true);
      return true;
    } catch {
      return false;
    }
  }

  lstat(path: string): Promise<FsInfo> {
    return this.#async(() => this.lstatSync(path));
  }

  lstatSync(path: string): FsInfo {
    this.alive();
    return infoOf(this.#resolve("lstat", path, false));
  }

  async *readDir(path: string): AsyncIterable<FsEntry> {
    const entries = await this.#async(() => [...this.readDirSync(path)]);
    yield* entries;
  }

  readDirSync(path: string): Iterable<FsEntry> {
    this.alive();
    const node = this.#resolve("readdir", path, true);
    if (node.kind !== "dir") throw notDir("readdir", path);
    return [...node.children].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, child]) => ({
      name,
      isFile: child.kind === "file",
      isDirectory: child.kind === "dir",
      isSymlink: child.kind === "symlink",
    }));
  }

  chmod(path: string, mode: number): Promise<void> {
    return this.#async(() => this.chmodSync(path, mode));
  }

  chmodSync(path: string, mode: number): void {
    this.alive();
    this.#resolve("chmod", path, true).mode = mode & 0o7777;
  }

  utimeSync(path: string, _atime: number, mtime: number): void {
    this.alive();
    this.#resolve("utime", path, true).mtime = mtime * 1000;
  }

  /** @internal Mark the tree as it stands durable (what `sync()` does). */
  markDurable(): void {
    this.alive();
    if (this.powerCutAt !== null && this.syncs + 1 >= this.powerCutAt) {
      this.powerCutAt = null;
      this.#dead = new PowerCut(this.syncs + 1);
      throw this.#dead;
    }
    this.syncs++;
    this.#durable = clone(this.#root);
  }

  /** @internal Wait for, then take, the lock of `node`. */
  async lockNode(node: Node): Promise<void> {
    while (this.#locks.has(node)) {
      await new Promise<void>((resolve) => this.#locks.get(node)!.push(resolve));
    }
    this.#locks.set(node, []);
  }

  /** @internal Release the lock of `node`, waking the next waiter. */
  unlockNode(node: Node): void {
    const waiting = this.#locks.get(node);
    if (!waiting) return;
    this.#locks.delete(node);
    waiting.shift()?.();
    // The others try again and queue behind whoever took it.
    for (const wake of waiting) wake();
  }

  /** @internal Throws once a power cut killed the process (a catch-all must not let it go on). */
  alive(): void {
    if (this.#dead) throw this.#dead;
  }

  /** Whether a power cut happened since the last `crash()`. */
  get dead(): boolean {
    return this.#dead !== null;
  }

  /** @internal The clock files are stamped with. */
  now(): number {
    return this.#clock.now();
  }

  /** Asynchronous forms settle after the synchronous work, like a thread-pool call. */
  #async<T>(body: () => T): Promise<T> {
    try {
      return Promise.resolve(body());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #meta(mode: number): Meta {
    return { ino: this.#ino++, mode: mode & 0o7777, mtime: this.#clock.now() };
  }

  #dir(mode: number): DirNode {
    return { kind: "dir", children: new Map(), ...this.#meta(mode) };
  }

  #join(segments: string[], upTo: number): string {
    return "/" + segments.slice(0, upTo + 1).join("/");
  }

  /** The node at `path`, following symlinks on the way (and at the end when `follow`). */
  #resolve(op: string, path: string, follow: boolean, depth = 0): Node {
    if (depth > MAX_LINKS) throw new Deno.errors.FilesystemLoop(`${op} '${path}'`);
    const segments = segmentsOf(path);
    let node: Node = this.#root;
    for (const [i, s] of segments.entries()) {
      if (node.kind !== "dir") throw notDir(op, path);
      const child: Node | undefined = node.children.get(s);
      if (!child) throw notFound(op, path);
      const last = i === segments.length - 1;
      if (child.kind === "symlink" && (!last || follow)) {
        const base = "/" + segments.slice(0, i).join("/");
        const target = child.target.startsWith("/") ? child.target : posix.join(base, child.target);
        const rest = segments.slice(i + 1).join("/");
        return this.#resolve(op, rest ? posix.join(target, rest) : target, follow, depth + 1);
      }
      node = child;
    }
    return node;
  }

  /** The folder that holds `path`'s last name (symlinks on the way followed). */
  #parentOf(op: string, path: string, _creating = false): { parent: DirNode; name: string } {
    const normal = posix.normalize(path);
    const name = posix.basename(normal);
    if (name === "" || normal === "/") throw new Deno.errors.PermissionDenied(`${op} '${path}'`);
    const parent = this.#resolve(op, posix.dirname(normal), true);
    if (parent.kind !== "dir") throw notDir(op, path);
    return { parent, name };
  }
}

function infoOf(node: Node): FsInfo {
  return {
    isFile: node.kind === "file",
    isDirectory: node.kind === "dir",
    isSymlink: node.kind === "symlink",
    size: node.kind === "file"
      ? node.data.byteLength
      : node.kind === "symlink"
      ? node.target.length
      : 0,
    mtime: new Date(node.mtime),
    mode: node.mode | (node.kind === "dir" ? 0o040000 : node.kind === "file" ? 0o100000 : 0o120000),
    ino: node.ino,
  };
}

/** A deep copy that keeps hard links linked (one node reached by two names stays one). */
function clone(root: DirNode): DirNode {
  const seen = new Map<Node, Node>();
  const copy = (node: Node): Node => {
    const known = seen.get(node);
    if (known) return known;
    let out: Node;
    if (node.kind === "dir") {
      const dir: DirNode = { ...node, children: new Map() };
      seen.set(node, dir);
      for (const [name, child] of node.children) dir.children.set(name, copy(child));
      out = dir;
    } else {
      // File bytes are replaced on write, never changed in place, so they can be shared.
      out = { ...node };
      seen.set(node, out);
    }
    return out;
  };
  return copy(root) as DirNode;
}

/** An open file of a {@linkcode MemoryFs}. */
class MemoryFile implements LocalFile {
  #at = 0;
  #open = true;
  #locked = false;

  constructor(
    readonly fs: MemoryFs,
    readonly node: Node,
    readonly path: string,
    readonly append: boolean,
  ) {}

  read(buffer: Uint8Array): Promise<number | null> {
    try {
      return Promise.resolve(this.readSync(buffer));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  readSync(buffer: Uint8Array): number | null {
    const file = this.#file("read");
    if (this.#at >= file.data.byteLength || buffer.byteLength === 0) {
      return buffer.byteLength === 0 ? 0 : null;
    }
    const n = Math.min(buffer.byteLength, file.data.byteLength - this.#at);
    buffer.set(file.data.subarray(this.#at, this.#at + n));
    this.#at += n;
    return n;
  }

  write(data: Uint8Array): Promise<number> {
    try {
      return Promise.resolve(this.writeSync(data));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  writeSync(data: Uint8Array): number {
    const file = this.#file("write");
    if (this.append) this.#at = file.data.byteLength;
    const end = this.#at + data.byteLength;
    // A new array each time: snapshots share the old one.
    const next = new Uint8Array(Math.max(end, file.data.byteLength));
    next.set(file.data);
    next.set(data, this.#at);
    file.data = next;
    file.mtime = this.fs.now();
    this.#at = end;
    return data.byteLength;
  }

  stat(): Promise<FsInfo> {
    this.#live("stat");
    return Promise.resolve(infoOf(this.node));
  }

  sync(): Promise<void> {
    this.#live("sync");
    this.fs.markDurable();
    return Promise.resolve();
  }

  async lock(_exclusive?: boolean): Promise<void> {
    this.#live("lock");
    await this.fs.lockNode(this.node);
    this.#locked = true;
  }

  unlockSync(): void {
    if (!this.#locked) return;
    this.#locked = false;
    this.fs.unlockNode(this.node);
  }

  close(): void {
    if (!this.#open) throw new Deno.errors.BadResource("Bad resource ID");
    this.unlockSync();
    this.#open = false;
  }

  #live(op: string): void {
    this.fs.alive();
    if (!this.#open) throw new Deno.errors.BadResource(`${op}: the file is closed`);
  }

  #file(op: string): FileNode {
    this.#live(op);
    if (this.node.kind !== "file") throw isDir(op, this.path);
    return this.node;
  }
}
