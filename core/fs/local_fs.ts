/**
 * The file system as the sync engine sees it: every read and write of the
 * datasite, the mirrors, `state/` and the journal goes through a `LocalFs`, so
 * the engine can run on a real disk ({@linkcode DenoFs} in `deno_fs.ts`) or in
 * memory (`core/testing/memory_fs.ts`). The calls and their errors are Deno's
 * (a missing path throws `Deno.errors.NotFound`), so code reads the same
 * either way.
 * @module
 */

/** What the engine reads of an `lstat`. */
export type FsInfo = Pick<
  Deno.FileInfo,
  "isFile" | "isDirectory" | "isSymlink" | "size" | "mtime" | "ctime" | "mode" | "ino"
>;

/** One entry of a folder listing. */
export type FsEntry = Pick<Deno.DirEntry, "name" | "isFile" | "isDirectory" | "isSymlink">;

/** An open file: reads and writes move a cursor; `sync` is the durability boundary. */
export interface LocalFile {
  read(buffer: Uint8Array): Promise<number | null>;
  readSync(buffer: Uint8Array): number | null;
  write(data: Uint8Array): Promise<number>;
  stat(): Promise<FsInfo>;
  /** An advisory lock between processes, as `flock`; closing the file releases it. */
  lock(exclusive?: boolean): Promise<void>;
  unlockSync(): void;
  /** fsync: what was written survives a crash only after this. */
  sync(): Promise<void>;
  close(): void;
}

/**
 * Every file operation the engine performs. The synchronous forms exist where
 * the engine keeps a step free of awaits on purpose (a journal apply, a scan
 * of small files), not for convenience.
 */
export interface LocalFs {
  open(path: string, options: Deno.OpenOptions): Promise<LocalFile>;
  openSync(path: string, options: Deno.OpenOptions): LocalFile;
  readFile(path: string): Promise<Uint8Array>;
  readFileSync(path: string): Uint8Array;
  readTextFile(path: string): Promise<string>;
  writeFileSync(path: string, data: Uint8Array, options?: Deno.WriteFileOptions): void;
  copyFileSync(from: string, to: string): void;
  /** As `copyFileSync`, off the thread: jobs copy files of any size (code, outputs). */
  copyFile(from: string, to: string): Promise<void>;
  mkdir(path: string, options?: Deno.MkdirOptions): Promise<void>;
  mkdirSync(path: string, options?: Deno.MkdirOptions): void;
  rename(from: string, to: string): Promise<void>;
  renameSync(from: string, to: string): void;
  /** A hard link: fails when `to` exists (how a create-only write claims its name). */
  link(from: string, to: string): Promise<void>;
  remove(path: string, options?: Deno.RemoveOptions): Promise<void>;
  removeSync(path: string, options?: Deno.RemoveOptions): void;
  /** Whether anything is at `path` (following symlinks); cheaper than a failing lstat. */
  existsSync(path: string): boolean;
  lstat(path: string): Promise<FsInfo>;
  lstatSync(path: string): FsInfo;
  readDir(path: string): AsyncIterable<FsEntry>;
  readDirSync(path: string): Iterable<FsEntry>;
  chmod(path: string, mode: number): Promise<void>;
  chmodSync(path: string, mode: number): void;
  /** Times in seconds since the epoch, as `Deno.utimeSync` takes them. */
  utimeSync(path: string, atime: number, mtime: number): void;
  /**
   * Make everything written so far on the file system holding `path`
   * durable, as syncfs(2) does: one call where thousands of files written
   * in a row would each need an fsync. False when it could not be done (the
   * caller then fsyncs file by file).
   */
  syncAll(path: string): Promise<boolean>;
}
