/**
 * The real {@linkcode LocalFs}: each call passes straight to Deno's. The
 * default wherever the engine is created outside tests.
 * @module
 */
import type { LocalFs } from "./local_fs.ts";

/** The disk, through Deno. */
export const denoFs: LocalFs = {
  open: (path, options) => Deno.open(path, options),
  openSync: (path, options) => Deno.openSync(path, options),
  readFile: (path) => Deno.readFile(path),
  readFileSync: (path) => Deno.readFileSync(path),
  readTextFile: (path) => Deno.readTextFile(path),
  writeFileSync: (path, data, options) => Deno.writeFileSync(path, data, options),
  copyFileSync: (from, to) => Deno.copyFileSync(from, to),
  copyFile: (from, to) => Deno.copyFile(from, to),
  mkdir: (path, options) => Deno.mkdir(path, options),
  mkdirSync: (path, options) => Deno.mkdirSync(path, options),
  rename: (from, to) => Deno.rename(from, to),
  renameSync: (from, to) => Deno.renameSync(from, to),
  link: (from, to) => Deno.link(from, to),
  remove: (path, options) => Deno.remove(path, options),
  removeSync: (path, options) => Deno.removeSync(path, options),
  existsSync: (path) => existsSync(path),
  lstat: (path) => Deno.lstat(path),
  lstatSync: (path) => Deno.lstatSync(path),
  readDir: (path) => Deno.readDir(path),
  readDirSync: (path) => Deno.readDirSync(path),
  chmod: (path, mode) => Deno.chmod(path, mode),
  chmodSync: (path, mode) => Deno.chmodSync(path, mode),
  utimeSync: (path, atime, mtime) => Deno.utimeSync(path, atime, mtime),
  syncAll: syncFileSystem,
};

/**
 * syncfs(2) through coreutils' `sync -f` (Deno has no binding for it): a
 * process start, then one flush of that file system.
 */
async function syncFileSystem(path: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("sync", {
      args: ["-f", path],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false; // no `sync`, or no permission to run it
  }
}

/**
 * node:fs answers a miss without building an error (~2 µs, against ~30 µs for
 * a failing Deno.statSync; a first sync checks thousands), but loading node:fs
 * was a fifth of `syft status`'s start-up, which never asks. So it is loaded
 * on the first call, and Deno.statSync answers until it is there.
 */
let nodeExistsSync: ((path: string) => boolean) | undefined;
let nodeFsLoading = false;

function existsSync(path: string): boolean {
  if (nodeExistsSync !== undefined) return nodeExistsSync(path);
  if (!nodeFsLoading) {
    nodeFsLoading = true;
    // Evaluated only here: a builtin costs nothing to list in the graph, only to run.
    import("node:fs").then(
      (m) => (nodeExistsSync = m.existsSync),
      () => {}, // Deno.statSync keeps answering
    );
  }
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
