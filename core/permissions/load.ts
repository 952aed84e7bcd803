/**
 * Reading a datasite's permission files from disk into a
 * {@linkcode PermissionEngine}: the only file I/O of this module, kept apart
 * so the engine stays pure.
 *
 * Fail closed: a `syft.pub.yaml` that is a symbolic link or not a regular
 * file, that cannot be read, or that is too big is installed as an invalid
 * file (denying its subtree) rather than skipped, since skipping it would let
 * a parent's wider rules apply. Symbolic links to folders are not followed.
 * @module
 */
import { posix } from "node:path";
import { PERMISSION_FILE } from "../datasite/names.ts";
import { PermissionEngine } from "./engine.ts";
import {
  MAX_PERMISSION_FILE_BYTES,
  type ParseOptions,
  parsePermissionFile,
  type ParseResult,
  permissionFilePath,
} from "./parse.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { FsInfo, LocalFile, LocalFs } from "../fs/local_fs.ts";

/** Options for the loaders. */
export interface LoadOptions extends ParseOptions {
  /** Engine to fill; a new one by default. */
  readonly engine?: PermissionEngine;
  /** Where the datasite lives; the disk by default. */
  readonly fs?: LocalFs | undefined;
}

/**
 * Load every `syft.pub.yaml` under `datasiteDir` (whose folder name is the
 * owner's email) into an engine. Invalid files are installed as invalid;
 * find them with {@linkcode PermissionEngine.invalidFiles}.
 *
 * @example
 * ```ts
 * const engine = await loadDatasitePermissions("/home/a/SyftBox/alice@x.org");
 * engine.check("alice@x.org", "public/a.csv", "bob@y.org", "read");
 * ```
 */
export async function loadDatasitePermissions(
  datasiteDir: string,
  options: LoadOptions = {},
): Promise<PermissionEngine> {
  const engine = options.engine ?? new PermissionEngine();
  const fs = options.fs ?? denoFs;
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === "" ? datasiteDir : posix.join(datasiteDir, rel);
    for await (const entry of fs.readDir(abs)) {
      const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.name === PERMISSION_FILE) {
        engine.setParsedFile(rel, await readPermissionFile(fs, abs, rel, options, entry));
      } else if (entry.isDirectory) {
        await walk(child);
      }
    }
  };
  await walk("");
  return engine;
}

/**
 * Re-read the permission file of one folder (after the watcher or a sync
 * round saw it change) and update only that node: installed when present,
 * removed when gone. Returns the parse result, or null when the file is gone.
 */
export async function reloadPermissionFile(
  engine: PermissionEngine,
  datasiteDir: string,
  folder: string,
  options: ParseOptions & { readonly fs?: LocalFs | undefined } = {},
): Promise<ParseResult | null> {
  const fs = options.fs ?? denoFs;
  const rel = folder.split("/").filter((s) => s !== "").join("/");
  const abs = rel === "" ? datasiteDir : posix.join(datasiteDir, rel);
  let info: FsInfo;
  try {
    info = await fs.lstat(posix.join(abs, PERMISSION_FILE));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      engine.removeFile(rel);
      return null;
    }
    throw err;
  }
  const result = await readPermissionFile(fs, abs, rel, options, info);
  engine.setParsedFile(rel, result);
  return result;
}

/** Read and parse one permission file, turning every I/O problem into an invalid result. */
async function readPermissionFile(
  fs: LocalFs,
  folderAbs: string,
  folderRel: string,
  options: ParseOptions,
  kind: { isFile: boolean; isSymlink: boolean },
): Promise<ParseResult> {
  const file = permissionFilePath(folderRel);
  const invalid = (reason: string): ParseResult => ({
    ok: false,
    file,
    error: { file, line: null, reason },
  });
  if (kind.isSymlink) {
    return invalid("it is a symbolic link; a permission file must be a regular file");
  }
  if (!kind.isFile) return invalid("it is not a regular file");
  const maxBytes = options.maxBytes ?? MAX_PERMISSION_FILE_BYTES;
  let bytes: Uint8Array;
  let f: LocalFile | undefined;
  try {
    f = await fs.open(posix.join(folderAbs, PERMISSION_FILE), { read: true });
    const { size } = await f.stat();
    // Refuse by size before reading, so a 10 MB file costs one stat.
    if (size > maxBytes) {
      return invalid(
        `it is ${size} bytes, more than the ${maxBytes} bytes a permission file may have`,
      );
    }
    // One byte more than stat said, to notice a file growing under us.
    bytes = await readUpTo(f, size + 1);
    if (bytes.length > size) return invalid("it changed while being read; try again");
  } catch (err) {
    return invalid(`it cannot be read (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    f?.close();
  }
  return parsedOnce(bytes, folderRel, options);
}

/**
 * Permission files already parsed, by folder and text: a round loads every
 * permission file of the datasite, and parsing their YAML again each round
 * was an eighth of an in-memory round's time. Results are read-only; only
 * the default limits are cached.
 */
const parsed = new Map<string, ParseResult>();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const MAX_PARSED = 512;

function parsedOnce(bytes: Uint8Array, folderRel: string, options: ParseOptions): ParseResult {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = ""; // not UTF-8: parsed (and refused) each time, never cached
  }
  const limits = options.maxBytes ?? options.maxRules ?? options.maxAliases;
  if (limits !== undefined || text === "") {
    return parsePermissionFile(bytes, folderRel, options);
  }
  const key = `${folderRel}\0${text}`;
  let result = parsed.get(key);
  if (result === undefined) {
    result = parsePermissionFile(bytes, folderRel, options);
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(key, result);
  }
  return result;
}

/** Read at most `limit` bytes: the file may grow between stat and read. */
async function readUpTo(f: LocalFile, limit: number): Promise<Uint8Array> {
  const buf = new Uint8Array(limit);
  let n = 0;
  while (n < limit) {
    const got = await f.read(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  return buf.subarray(0, n);
}
