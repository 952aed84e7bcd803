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
 *
 * For crash-point sweeps, {@linkcode MemoryFs.record} keeps every mutating
 * operation with the tree after it; {@linkcode FsRecording.at} gives the tree
 * as a crash after any prefix of them would leave it, and
 * {@linkcode MemoryFs.restore} puts such a tree into a fresh file system.
 * @module
 */
import { posix } from "node:path";
import type { FsEntry, FsInfo, LocalFile, LocalFs } from "../fs/local_fs.ts";
import { type Clock, systemClock } from "../time/clock.ts";

interface Meta {
  ino: number;
  mode: number;
  mtime: number;
  /** Inode change time: set by every write, chmod, utime, rename and link, as on Linux. */
  ctime: number;
}
interface FileNode extends Meta {
  kind: "file";
  data: Uint8Array;
}
interface DirNode extends Meta {
  kind: "dir";
  children: Map<string, Node>;
  /**
   * The children's names, sorted, once a listing asked (names only: a clone
   * shares them, its nodes are other objects); dropped when a name comes or goes.
   */
  sorted?: string[] | undefined;
}
interface LinkNode extends Meta {
  kind: "symlink";
  target: string;
}
type Node = FileNode | DirNode | LinkNode;

/** Symlinks followed in one path before giving up, as the kernel does. */
const MAX_LINKS = 40;

function notFound(op: string, path: string): Error {
  // The engine probes for absent files all the time and never reads a stack
  // (core/ has no `.stack`): capturing one was a visible share of a round.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Deno.errors.NotFound(`No such file or directory (os error 2): ${op} '${path}'`);
  } finally {
    Error.stackTraceLimit = limit;
  }
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

const utf8 = new TextDecoder();

/** What makes a path not already normal: `//`, a `.` or `..` segment, a trailing `/`. */
const NOT_NORMAL = /\/\/|\/\.\.?(?:\/|$)|\/$/;

/** A path's names, and the folder of its last name (what errors of a create name). */
interface Split {
  segments: readonly string[];
  folder: string;
}

/**
 * Paths split before, by path: a round looks up the same few hundred paths
 * again and again, and splitting them (and hashing the new segment strings
 * each Map lookup of the walk then needs) was a tenth of a simulated round.
 * Cleared when full: temp names are random and never come back.
 */
const splits = new Map<string, Split>();
const MAX_SPLITS = 20_000;

function splitOf(path: string): Split {
  const known = splits.get(path);
  if (known !== undefined) return known;
  if (!path.startsWith("/")) throw new Error(`MemoryFs takes absolute paths, not ${path}`);
  // The engine's paths are nearly always normal already: no normalize for them.
  const segments = !NOT_NORMAL.test(path)
    ? path.slice(1).split("/")
    : posix.normalize(path).split("/").filter((s) => s !== "");
  const split = { segments, folder: "/" + segments.slice(0, -1).join("/") };
  if (splits.size >= MAX_SPLITS) splits.clear();
  splits.set(path, split);
  return split;
}

function segmentsOf(path: string): readonly string[] {
  return splitOf(path).segments;
}

/** A folder's names changed: its sorted listing is stale. */
function touched(dir: DirNode): void {
  dir.sorted = undefined;
}

/** A folder's children in name order (code units, as `a < b` compares). */
function sortedNames(dir: DirNode): string[] {
  return dir.sorted ??= [...dir.children.keys()].sort();
}

/** Thrown by the fsync a test chose to die at (see {@linkcode MemoryFs.powerCutAt}). */
export class PowerCut extends Error {
  constructor(readonly at: number) {
    super(`power cut before fsync ${at}`);
    this.name = "PowerCut";
  }
}

/** What one recorded operation did; a `note` is an event outside the disk, kept in order. */
export type FsOpKind =
  | "create"
  | "truncate"
  | "write"
  | "mkdir"
  | "rename"
  | "link"
  | "remove"
  | "chmod"
  | "utime"
  | "symlink"
  | "sync"
  | "note";

/** One recorded operation: its kind, its path (a note's label) and a rename's or link's target. */
export interface FsOp {
  kind: FsOpKind;
  path: string;
  to?: string;
}

/**
 * How a crash after a prefix of the recording shows on the disk: `in-order`,
 * every operation of the prefix applied (the OS happened to write back in
 * order); `barrier`, only what the last fsync of the prefix made durable (the
 * {@linkcode MemoryFs.crash} model: one fsync covers the whole tree);
 * `file-sync`, the names (creates, renames, removals) of the barrier model
 * but each file's bytes only as an fsync of that very file left them, an
 * empty file if it never had one: what ext4 and XFS show after a power cut
 * for a file renamed into place without an fsync of its own (metadata is
 * journaled in order, data is written back later).
 */
export type CrashModel = "in-order" | "barrier" | "file-sync";

/** A tree frozen at one instant. */
interface Frozen {
  root: DirNode;
  /** Above every inode number in `root`: a restored file system never reuses one. */
  nextIno: number;
}
const frozen = new WeakMap<FsSnapshot, Frozen>();

/** A tree frozen at one instant; {@linkcode MemoryFs.restore} puts it back, as often as needed. */
export class FsSnapshot {
  /** @internal Only a {@linkcode MemoryFs} makes one. */
  constructor(tree: Frozen) {
    frozen.set(this, tree);
  }
}

/**
 * Every mutating operation of a {@linkcode MemoryFs} since `record()`, with the
 * tree after each (file bytes are shared, never copied: the cost is one node
 * per file per operation, fine for the small trees of engine tests).
 */
export class FsRecording {
  /** The operations, oldest first. */
  readonly ops: FsOp[] = [];
  /**
   * The tree after each op, what was durable then (the same object after a
   * sync), and the inode a sync op made durable.
   */
  readonly #trees: Tree[] = [];

  /** @internal Started by {@linkcode MemoryFs.record}. */
  constructor(now: DirNode, durable: DirNode, nextIno: number) {
    this.#trees.push({ now, durable, nextIno });
  }

  /** How many operations were recorded. */
  get length(): number {
    return this.ops.length;
  }

  /** @internal Keep `op` and the tree it left (none for a note: the tree is as before). */
  push(
    op: FsOp,
    tree: { now: DirNode; durable: DirNode; nextIno: number; synced?: number } | null,
  ): void {
    this.ops.push(op);
    this.#trees.push(tree ?? { ...this.#trees[this.#trees.length - 1]!, synced: undefined });
  }

  /** The tree as a crash right after the first `i` operations leaves it, under `model`. */
  at(i: number, model: CrashModel): FsSnapshot {
    if (!Number.isInteger(i) || i < 0 || i > this.ops.length) {
      throw new RangeError(`no prefix ${i} of ${this.ops.length} operations`);
    }
    const tree = this.#trees[i]!;
    const root = model === "in-order"
      ? tree.now
      : model === "barrier"
      ? tree.durable
      : this.#ownBytes(i);
    return new FsSnapshot({ root, nextIno: tree.nextIno });
  }

  /** The tree of the `file-sync` model after `i` operations. */
  #ownBytes(i: number): DirNode {
    // Each file's bytes as last made durable: at the start, or by an fsync of its own.
    const bytes = new Map<number, FileNode>();
    const index = (node: Node) => {
      if (node.kind === "file") bytes.set(node.ino, node);
      else if (node.kind === "dir") { for (const child of node.children.values()) index(child); }
    };
    index(this.#trees[0]!.durable);
    for (let k = 1; k <= i; k++) {
      const { synced, now } = this.#trees[k]!;
      if (synced === undefined) continue;
      if (synced === EVERY_INODE) {
        index(now);
        continue;
      }
      const node = findIno(now, synced);
      if (node?.kind === "file") bytes.set(synced, node);
    }
    const built = new Map<Node, Node>();
    const build = (node: Node): Node => {
      const known = built.get(node);
      if (known) return known;
      let out: Node;
      if (node.kind === "dir") {
        const dir: DirNode = { ...node, children: new Map() };
        built.set(node, dir);
        for (const [name, child] of node.children) dir.children.set(name, build(child));
        return dir;
      } else if (node.kind === "file") {
        const synced = bytes.get(node.ino);
        out = { ...node, data: synced ? synced.data : new Uint8Array(0) };
      } else out = { ...node };
      built.set(node, out);
      return out;
    };
    return build(this.#trees[i]!.durable) as DirNode;
  }

  /**
   * Whether prefixes `i` and `j` leave the same tree under `model` (no
   * operation between them changed it, e.g. notes, or writes a barrier has not
   * covered yet): a sweep needs to restart from each tree once.
   */
  same(i: number, j: number, model: CrashModel): boolean {
    const a = this.#trees[i], b = this.#trees[j];
    if (!a || !b) throw new RangeError(`no prefix ${a ? j : i} of ${this.ops.length} operations`);
    if (model === "in-order") return a.now === b.now;
    // Under file-sync too, the tree changes only at a sync.
    return a.durable === b.durable;
  }
}

/** The inode a syncfs(2) made durable: all of them ({@linkcode MemoryFs.syncAll}). */
const EVERY_INODE = -1;

/** One recorded instant: see {@linkcode FsRecording}. */
interface Tree {
  now: DirNode;
  durable: DirNode;
  nextIno: number;
  /** The inode this op fsynced, if it was a sync. */
  synced?: number | undefined;
}

/** The node with inode `ino` under `root`, if any. */
function findIno(root: DirNode, ino: number): Node | null {
  if (root.ino === ino) return root;
  for (const child of root.children.values()) {
    if (child.ino === ino) return child;
    if (child.kind === "dir") {
      const found = findIno(child, ino);
      if (found) return found;
    }
  }
  return null;
}

/** A file system in memory. */
export class MemoryFs implements LocalFs {
  #root: DirNode;
  /**
   * What the last fsync made durable, as a tree of its own (while recording,
   * whose trees keep it, and until the next fsync after); null: the live tree
   * with the changes {@linkcode MemoryFs.#undo} keeps taken back. (A copy of
   * the whole tree at every fsync was the largest cost of the simulation's
   * file systems; an fsync now costs nothing and a change one entry.)
   */
  #durable: DirNode | null = null;
  /** Each node changed since the last fsync (while `#durable` is null), as it was then. */
  readonly #undo = new Map<Node, Saved>();
  /** Open files: a crash cuts them off the tree it rolls back. */
  readonly #open = new Set<MemoryFile>();
  #ino = 1;
  #changes = 0;
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
  /**
   * Called as the power cut strikes, while the tree still stands as the
   * process left it (what it may have sent out by then), before any call fails.
   */
  onPowerCut: (() => void) | null = null;
  /** Set by a power cut: the process is dead, every call fails until `crash()`. */
  #dead: PowerCut | null = null;
  #recording: FsRecording | null = null;

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
    this.#root = this.#dir(0o755);
  }

  /** Lose everything written since the last `sync()`, as a power cut would. */
  crash(): void {
    this.#changes++;
    this.#dead = null;
    if (this.#durable) {
      this.#root = clone(this.#durable);
      if (!this.#recording) this.#durable = null;
    } else {
      // The files still open keep their nodes as they stand, off the tree, as
      // they did when a crash made the tree a new copy.
      const copies = new Map<Node, Node>();
      for (const file of this.#open) file.detach(copies);
      this.#open.clear();
      for (const [node, saved] of this.#undo) putBack(node, saved);
      this.#undo.clear();
    }
    this.#locks.clear();
  }

  /** The durable tree as a tree of its own. */
  #durableTree(): DirNode {
    return this.#durable ?? clone(this.#root, this.#undo);
  }

  /** @internal About to change `node`: keep it as it was, if the last fsync saw it so. */
  changing(node: Node): void {
    this.#changes++;
    if (this.#durable === null && !this.#undo.has(node)) this.#undo.set(node, saved(node));
  }

  /**
   * A count that moves with every change to the tree (a write, a name, a
   * crash's rollback): equal counts mean the same tree, so a test may keep
   * what it computed from the tree until the count moves.
   */
  get changes(): number {
    return this.#changes;
  }

  /**
   * A file's bytes as they stand, not copied: for checks that read a tree
   * often and remember what they saw (the bytes of a file are replaced on
   * each write, never changed in place, so the same array means the same
   * content). The caller must not change them.
   */
  peekFileSync(path: string): Uint8Array {
    this.alive();
    const node = this.#resolve("readfile", path, true);
    if (node.kind !== "file") throw isDir("readfile", path);
    return node.data;
  }

  /** @internal A file opened / closed. */
  opened(file: MemoryFile, open: boolean): void {
    if (open) this.#open.add(file);
    else this.#open.delete(file);
  }

  /**
   * Start recording every mutating operation (a new recording replaces a
   * running one). Prefix 0 is the tree as it stands, and under the `barrier`
   * model what was durable then: call {@linkcode MemoryFs.flush} first for a
   * disk that was quiet when the recording began.
   */
  record(): FsRecording {
    const durable = this.#durableTree();
    this.#durable = durable;
    this.#undo.clear();
    this.#recording = new FsRecording(clone(this.#root), durable, this.#ino);
    return this.#recording;
  }

  /** Stop recording; the recording keeps what it has. */
  stopRecording(): void {
    this.#recording = null;
  }

  /**
   * Record an event outside the disk (an upload, a message) at its place
   * among the operations, so a sweep can tell what had happened elsewhere by
   * each prefix. Nothing when not recording.
   */
  note(label: string): void {
    this.#log({ kind: "note", path: label });
  }

  /** syncfs(2): the whole tree as it stands is durable (a barrier, counted like an fsync). */
  syncAll(_path: string): Promise<boolean> {
    try {
      this.markDurable("/", EVERY_INODE);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve(true);
  }

  /** Make the tree as it stands durable without an fsync, as the OS does in its own time. */
  flush(): void {
    this.#durable = this.#recording ? clone(this.#root) : null;
    this.#undo.clear();
  }

  /** The tree as it stands, to restore later or elsewhere. */
  snapshot(): FsSnapshot {
    return new FsSnapshot({ root: clone(this.#root), nextIno: this.#ino });
  }

  /**
   * A file system of its own holding this one's tree as it stands, with what
   * the last fsync made durable kept apart (a crash of the copy rolls back as
   * one of this would), the same inode numbers and counts, and stamping its
   * files by `clock`: a machine's disk copied, so a test can build a world
   * once and run many from it. Open files, locks and recordings stay behind.
   */
  fork(clock: Clock): MemoryFs {
    this.alive();
    const copy = new MemoryFs(clock);
    copy.#root = clone(this.#root);
    // Nothing written since the last fsync: the live tree is all durable, as here.
    copy.#durable = this.#durable
      ? clone(this.#durable)
      : this.#undo.size > 0
      ? clone(this.#root, this.#undo)
      : null;
    copy.#ino = this.#ino;
    copy.#changes = this.#changes;
    copy.syncs = this.syncs;
    return copy;
  }

  /**
   * Replace the whole tree with `snapshot` (a copy: the snapshot can be
   * restored again), all of it durable, as a machine restarting on that disk;
   * locks and a power cut are forgotten.
   */
  restore(snapshot: FsSnapshot): void {
    const tree = frozen.get(snapshot)!;
    this.#changes++;
    this.#root = clone(tree.root);
    this.#durable = this.#recording ? clone(tree.root) : null;
    this.#undo.clear();
    this.#ino = Math.max(this.#ino, tree.nextIno);
    this.#dead = null;
    this.#locks.clear();
  }

  /** Create a symbolic link at `path` (not part of LocalFs: the engine never makes one). */
  symlinkSync(target: string, path: string): void {
    const { parent, name } = this.#parentOf("symlink", path);
    if (parent.children.has(name)) throw exists("symlink", path);
    this.changing(parent);
    parent.children.set(name, { kind: "symlink", target, ...this.#meta(0o777) });
    touched(parent);
    this.#log({ kind: "symlink", path });
  }

  /** Every path under `dir` (files and symlinks), sorted: for assertions. */
  listTree(dir = "/"): string[] {
    const out: string[] = [];
    const walk = (node: DirNode, at: string) => {
      for (const name of sortedNames(node)) {
        const child = node.children.get(name)!;
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
    const node0 = this.#find("open", path, true);
    if (node0 === null && !(creates && writes)) throw notFound("open", path);
    let node = node0 ?? undefined;
    if (node && options.createNew) throw exists("open", path);
    if (!node) {
      const { parent, name } = this.#parentOf("open", path, true);
      node = { kind: "file", data: new Uint8Array(0), ...this.#meta(options.mode ?? 0o644) };
      this.changing(parent);
      parent.children.set(name, node);
      touched(parent);
      parent.mtime = this.#clock.now();
      this.#log({ kind: "create", path });
    }
    if (node.kind === "dir" && writes) throw isDir("open", path);
    if (node.kind === "file" && options.truncate && writes) {
      const had = node.data.byteLength > 0;
      this.changing(node);
      node.data = new Uint8Array(0);
      node.mtime = node.ctime = this.#clock.now();
      if (had) this.#log({ kind: "truncate", path });
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
    // Decoded from the bytes as they stand: a decode keeps nothing, so no copy first.
    return this.#async(() => utf8.decode(this.peekFileSync(path)));
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
        this.changing(dir);
        dir.children.set(s, child);
        touched(dir);
        dir.mtime = this.#clock.now();
        this.#log({ kind: "mkdir", path: this.#join(segments, i) });
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
    this.changing(src.parent);
    this.changing(dst.parent);
    this.changing(node);
    src.parent.children.delete(src.name);
    dst.parent.children.set(dst.name, node);
    touched(src.parent);
    touched(dst.parent);
    src.parent.mtime = dst.parent.mtime = node.ctime = this.#clock.now();
    this.#log({ kind: "rename", path: from, to });
  }

  link(from: string, to: string): Promise<void> {
    return this.#async(() => {
      this.alive();
      const node = this.#resolve("link", from, false);
      if (node.kind === "dir") throw new Deno.errors.PermissionDenied(`link '${from}'`);
      const dst = this.#parentOf("link", to);
      if (dst.parent.children.has(dst.name)) throw exists("link", to);
      this.changing(dst.parent);
      this.changing(node);
      dst.parent.children.set(dst.name, node);
      touched(dst.parent);
      dst.parent.mtime = node.ctime = this.#clock.now();
      this.#log({ kind: "link", path: from, to });
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
    this.changing(parent);
    parent.children.delete(name);
    touched(parent);
    parent.mtime = this.#clock.now();
    this.#log({ kind: "remove", path });
  }

  existsSync(path: string): boolean {
    this.alive();
    try {
      return this.#find("stat", path, true) !== null;
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
    return sortedNames(node).map((name) => {
      const child = node.children.get(name)!;
      return {
        name,
        isFile: child.kind === "file",
        isDirectory: child.kind === "dir",
        isSymlink: child.kind === "symlink",
      };
    });
  }

  chmod(path: string, mode: number): Promise<void> {
    return this.#async(() => this.chmodSync(path, mode));
  }

  chmodSync(path: string, mode: number): void {
    this.alive();
    const node = this.#resolve("chmod", path, true);
    this.changing(node);
    node.mode = mode & 0o7777;
    node.ctime = this.#clock.now();
    this.#log({ kind: "chmod", path });
  }

  utimeSync(path: string, _atime: number, mtime: number): void {
    this.alive();
    const node = this.#resolve("utime", path, true);
    this.changing(node);
    node.mtime = mtime * 1000;
    node.ctime = this.#clock.now();
    this.#log({ kind: "utime", path });
  }

  /**
   * @internal Mark the tree as it stands durable (what `sync()` does); `path`
   * and `ino` name what was fsynced in a recording.
   */
  markDurable(path = "/", ino = this.#root.ino): void {
    this.alive();
    if (this.powerCutAt !== null && this.syncs + 1 >= this.powerCutAt) {
      this.powerCutAt = null;
      this.onPowerCut?.();
      this.#dead = new PowerCut(this.syncs + 1);
      throw this.#dead;
    }
    this.syncs++;
    this.#durable = this.#recording ? clone(this.#root) : null;
    this.#undo.clear();
    this.#log({ kind: "sync", path }, ino);
  }

  /** @internal Record `op` of a file handle (see {@linkcode MemoryFs.record}). */
  logged(op: FsOp): void {
    this.#log(op);
  }

  #log(op: FsOp, synced?: number): void {
    if (!this.#recording) return;
    if (op.kind === "note") return this.#recording.push(op, null);
    // After a sync the durable tree is the tree: one copy serves both models.
    // Recording keeps the durable tree as a tree of its own (see `#durable`).
    const durable = this.#durable!;
    const now = op.kind === "sync" ? durable : clone(this.#root);
    this.#recording.push(op, {
      now,
      durable,
      nextIno: this.#ino,
      ...(synced === undefined ? {} : { synced }),
    });
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
    const now = this.#clock.now();
    return { ino: this.#ino++, mode: mode & 0o7777, mtime: now, ctime: now };
  }

  #dir(mode: number): DirNode {
    return { kind: "dir", children: new Map(), ...this.#meta(mode) };
  }

  #join(segments: readonly string[], upTo: number): string {
    return "/" + segments.slice(0, upTo + 1).join("/");
  }

  /** The node at `path`, following symlinks on the way (and at the end when `follow`). */
  #resolve(op: string, path: string, follow: boolean): Node {
    return this.#find(op, path, follow) ?? throwNotFound(op, path);
  }

  /**
   * {@linkcode MemoryFs.#resolve}, but null where the path names nothing (no
   * error to build: existence checks and creates ask that most).
   */
  #find(op: string, path: string, follow: boolean): Node | null {
    const segments = segmentsOf(path);
    return this.#walk(op, path, segments, segments.length, follow, 0);
  }

  /** The node of the first `count` of `segments` (of `path`, for messages); null: none. */
  #walk(
    op: string,
    path: string,
    segments: readonly string[],
    count: number,
    follow: boolean,
    depth: number,
  ): Node | null {
    if (depth > MAX_LINKS) throw new Deno.errors.FilesystemLoop(`${op} '${path}'`);
    let node: Node = this.#root;
    for (let i = 0; i < count; i++) {
      if (node.kind !== "dir") throw notDir(op, path);
      const child: Node | undefined = node.children.get(segments[i]!);
      if (!child) return null;
      const last = i === count - 1;
      if (child.kind === "symlink" && (!last || follow)) {
        const base = "/" + segments.slice(0, i).join("/");
        const target = child.target.startsWith("/") ? child.target : posix.join(base, child.target);
        const rest = segments.slice(i + 1, count).join("/");
        const next = rest ? posix.join(target, rest) : target;
        const nextSegments = segmentsOf(next);
        return this.#walk(op, next, nextSegments, nextSegments.length, follow, depth + 1);
      }
      node = child;
    }
    return node;
  }

  /** The folder that holds `path`'s last name (symlinks on the way followed). */
  #parentOf(op: string, path: string, _creating = false): { parent: DirNode; name: string } {
    const { segments, folder } = splitOf(path);
    const name = segments[segments.length - 1];
    if (name === undefined) throw new Deno.errors.PermissionDenied(`${op} '${path}'`);
    // Errors name the folder, as posix.dirname of the normal path would.
    const parent = this.#walk(op, folder, segments, segments.length - 1, true, 0) ??
      throwNotFound(op, folder);
    if (parent.kind !== "dir") throw notDir(op, path);
    return { parent, name };
  }
}

function throwNotFound(op: string, path: string): never {
  throw notFound(op, path);
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
    ctime: new Date(node.ctime),
    mode: node.mode | (node.kind === "dir" ? 0o040000 : node.kind === "file" ? 0o100000 : 0o120000),
    ino: node.ino,
  };
}

/** A node's changeable fields, as an fsync saw them. */
interface Saved {
  mtime: number;
  ctime: number;
  mode: number;
  /** A folder's names (the map as it was; the live one changes). */
  children?: Map<string, Node>;
  /** A file's bytes (replaced on write, never changed in place: kept as they are). */
  data?: Uint8Array;
}

function saved(node: Node): Saved {
  const { mtime, ctime, mode } = node;
  if (node.kind === "dir") return { mtime, ctime, mode, children: new Map(node.children) };
  if (node.kind === "file") return { mtime, ctime, mode, data: node.data };
  return { mtime, ctime, mode };
}

/** Put `node`'s fields back as `was` kept them. */
function putBack(node: Node, was: Saved): void {
  node.mtime = was.mtime;
  node.ctime = was.ctime;
  node.mode = was.mode;
  if (node.kind === "dir") {
    node.children = was.children!;
    touched(node);
  } else if (node.kind === "file") node.data = was.data!;
}

/**
 * A deep copy that keeps hard links linked (one node reached by two names
 * stays one); with `was`, of each node as it kept it (the durable tree).
 */
function clone(root: DirNode, was?: ReadonlyMap<Node, Saved>): DirNode {
  // Only files and symlinks can have two names (`link` refuses folders): only they are looked up.
  const seen = new Map<Node, Node>();
  // Every fsync while recording copies the whole tree: fields are copied by name (faster than a spread).
  const copy = (dir: DirNode): DirNode => {
    const then = was?.get(dir);
    const out: DirNode = {
      kind: "dir",
      ino: dir.ino,
      mode: then ? then.mode : dir.mode,
      mtime: then ? then.mtime : dir.mtime,
      ctime: then ? then.ctime : dir.ctime,
      children: new Map(),
      sorted: then ? undefined : dir.sorted,
    };
    for (const [name, child] of then ? then.children! : dir.children) {
      if (child.kind === "dir") {
        out.children.set(name, copy(child));
        continue;
      }
      let twin = seen.get(child);
      if (twin === undefined) {
        const { mode, mtime, ctime } = was?.get(child) ?? child;
        // File bytes are replaced on write, never changed in place, so they can be shared.
        twin = child.kind === "file"
          ? {
            kind: "file",
            ino: child.ino,
            mode,
            mtime,
            ctime,
            data: was?.get(child)?.data ?? child.data,
          }
          : { kind: "symlink", ino: child.ino, mode, mtime, ctime, target: child.target };
        seen.set(child, twin);
      }
      out.children.set(name, twin);
    }
    return out;
  };
  return copy(root);
}

/** An open file of a {@linkcode MemoryFs}. */
class MemoryFile implements LocalFile {
  #at = 0;
  #open = true;
  #locked = false;

  constructor(
    readonly fs: MemoryFs,
    public node: Node,
    readonly path: string,
    readonly append: boolean,
  ) {
    fs.opened(this, true);
  }

  /**
   * @internal A crash rolls the tree back: this file keeps its node as it
   * stands, off the tree (`copies`: one copy per node, shared by its files).
   */
  detach(copies: Map<Node, Node>): void {
    let copy = copies.get(this.node);
    if (copy === undefined) {
      copy = this.node.kind === "dir"
        ? { ...this.node, children: new Map(this.node.children), sorted: undefined }
        : { ...this.node };
      copies.set(this.node, copy);
    }
    this.node = copy;
  }

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
    this.fs.changing(file);
    const next = new Uint8Array(Math.max(end, file.data.byteLength));
    next.set(file.data);
    next.set(data, this.#at);
    file.data = next;
    file.mtime = file.ctime = this.fs.now();
    this.#at = end;
    this.fs.logged({ kind: "write", path: this.path });
    return data.byteLength;
  }

  stat(): Promise<FsInfo> {
    this.#live("stat");
    return Promise.resolve(infoOf(this.node));
  }

  sync(): Promise<void> {
    this.#live("sync");
    this.fs.markDurable(this.path, this.node.ino);
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
    this.fs.opened(this, false);
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
