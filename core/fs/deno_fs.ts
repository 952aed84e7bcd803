/**
 * The real {@linkcode LocalFs}: each call passes straight to Deno's. The
 * default wherever the engine is created outside tests.
 * @module
 */
import { existsSync } from "node:fs";
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
};
