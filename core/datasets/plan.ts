/**
 * Everything `syft dataset create` checks before it writes a byte: the pure
 * part (names, readers, disjoint sources, file names) is
 * {@linkcode planDatasetCreate}; {@linkcode readSource} is the walk that feeds it.
 * @module
 */
import { posix } from "node:path";
import { describeError, SyftError } from "../errors/mod.ts";
import { isPermissionFile, isSyftName, PERMISSION_FILE } from "../datasite/names.ts";
import { checkInboundPath } from "../paths/inbound.ts";
import { parseIdentity } from "../paths/identity.ts";
import { DATASET_META_FILE, mockFolder, parseDatasetName, privateFolder } from "./name.ts";
import { MAX_SUMMARY_CHARS } from "./meta.ts";

/** Which side of a dataset a source is. */
export type SourceKind = "mock" | "private";

/** One regular file of a source. */
export interface SourceFile {
  /** Relative to the source folder (a single-file source: its base name). */
  rel: string;
  /** Absolute path to copy from. */
  abs: string;
  size: number;
}

/** A `--mock` or `--private` path, walked. */
export interface Source {
  kind: SourceKind;
  /** The path as given, made absolute. */
  path: string;
  /** The path with every symlink in its parents resolved, for the overlap checks. */
  real: string;
  isFolder: boolean;
  /** Sorted by `rel`. */
  files: SourceFile[];
}

const FLAG: Record<SourceKind, string> = { mock: "--mock", private: "--private" };

/**
 * Walk a `--mock` or `--private` path (a file or a folder). Symlinks (the path
 * itself or anything inside) and special files are refused: a dataset holds
 * regular files only, so nothing outside it can be copied or published by accident.
 * @throws {SyftError} `E_INPUT` naming the path
 */
export async function readSource(kind: SourceKind, path: string): Promise<Source> {
  const flag = FLAG[kind];
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new SyftError("E_INPUT", `${kind} path ${path} does not exist`, {
        hint: `pass ${flag} <file or folder> with the ${kind} data`,
      });
    }
    throw new SyftError("E_INPUT", `cannot read ${kind} path ${path}: ${describeError(err)}`, {
      hint: `make ${path} readable by this user`,
    });
  }
  const symlinkError = (at: string) =>
    new SyftError("E_INPUT", `${kind} path ${at} is a symlink`, {
      hint: `pass the real files (${flag} $(realpath ${at})) or copy them without links`,
    });
  const specialError = (at: string) =>
    new SyftError("E_INPUT", `${kind} path ${at} is not a regular file or folder`, {
      hint: `a dataset holds regular files only; remove ${at} from the ${kind} data`,
    });
  if (info.isSymlink) throw symlinkError(path);
  const real = await Deno.realPath(path);
  if (info.isFile) {
    return {
      kind,
      path,
      real,
      isFolder: false,
      files: [{ rel: posix.basename(path), abs: path, size: info.size }],
    };
  }
  if (!info.isDirectory) throw specialError(path);
  const files: SourceFile[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (err) {
      throw new SyftError("E_INPUT", `cannot read ${kind} folder ${dir}: ${describeError(err)}`, {
        hint: `make ${dir} readable by this user`,
      });
    }
    for (const e of entries) {
      const abs = posix.join(dir, e.name);
      const childRel = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isSymlink) throw symlinkError(abs);
      if (e.isDirectory) await walk(abs, childRel);
      else if (e.isFile) files.push({ rel: childRel, abs, size: (await Deno.lstat(abs)).size });
      else throw specialError(abs);
    }
  };
  await walk(path, "");
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { kind, path, real, isFolder: true, files };
}

/**
 * The readers a new dataset grants: `--users` (validated, lower-cased, deduplicated)
 * or everyone (`*`) with `--public` or neither.
 * @throws {SyftError} `E_USAGE` for both flags, `E_INPUT` for a bad email
 */
export function parseReaders(users: string | undefined, isPublic: boolean | undefined): string[] {
  if (users !== undefined && isPublic) {
    throw new SyftError("E_USAGE", "--users and --public cannot be used together", {
      hint:
        "pass --users <e1,e2> to share with those peers, or --public (the default) for everyone",
    });
  }
  if (users === undefined) return ["*"];
  const list = users.split(",").map((u) => u.trim()).filter((u) => u !== "");
  if (list.length === 0) {
    throw new SyftError("E_USAGE", "--users names nobody", {
      hint:
        "pass --users alice@example.org,bob@example.org, or leave it out to share with everyone",
    });
  }
  return [...new Set(list.map((u) => parseIdentity(u, "--users entry")))];
}

/** What {@linkcode planDatasetCreate} needs. */
export interface CreateInput {
  /** The name as typed. */
  name: string;
  mock: Source;
  private: Source;
  /** `--users` as typed. */
  users?: string | undefined;
  public?: boolean | undefined;
  summary?: string | undefined;
  /** The readme's text, already read. */
  readme?: string | null | undefined;
}

/** A checked dataset, ready to be written. */
export interface CreatePlan {
  name: string;
  summary: string;
  readme: string | null;
  /** `["*"]` or emails. */
  readers: string[];
  mock: Source;
  private: Source;
}

/** True when `s` has a control character other than tab and newline. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f) return true;
  }
  return false;
}

function inside(child: string, parent: string): boolean {
  return parent === "/" ? child !== "/" : child.startsWith(parent + "/");
}

/**
 * Check a dataset before anything is written (pure: the sources are already walked).
 * @throws {SyftError} `E_INPUT`/`E_USAGE` naming the first problem, with a hint
 */
export function planDatasetCreate(input: CreateInput): CreatePlan {
  const name = parseDatasetName(input.name);
  const readers = parseReaders(input.users, input.public);
  const summary = input.summary ?? "";
  if (summary.length > MAX_SUMMARY_CHARS || hasControl(summary)) {
    throw new SyftError(
      "E_INPUT",
      `the summary is longer than ${MAX_SUMMARY_CHARS} characters or has control characters`,
      {
        hint: "keep --summary to one short paragraph; put the details in --readme <file>",
      },
    );
  }
  const { mock, private: priv } = input;
  if (mock.real === priv.real) {
    throw new SyftError("E_INPUT", `--mock and --private are the same path (${mock.real})`, {
      hint: "the mock is published, the private data never is: give them separate files or folders",
    });
  }
  if (inside(priv.real, mock.real)) {
    throw new SyftError(
      "E_INPUT",
      `private path ${priv.path} is inside the mock folder ${mock.path}`,
      {
        hint: "move the private data out of the mock folder: everything in it is published",
      },
    );
  }
  if (inside(mock.real, priv.real)) {
    throw new SyftError(
      "E_INPUT",
      `mock path ${mock.path} is inside the private folder ${priv.path}`,
      {
        hint: "keep the mock and the private data in separate folders",
      },
    );
  }
  for (const source of [mock, priv]) checkFiles(name, source);
  return { name, summary, readme: input.readme ?? null, readers, mock, private: priv };
}

function checkFiles(name: string, source: Source): void {
  const flag = FLAG[source.kind];
  if (source.files.length === 0) {
    throw new SyftError("E_INPUT", `${source.kind} folder ${source.path} has no files`, {
      hint: `pass ${flag} <file or folder> holding the ${source.kind} data`,
    });
  }
  const base = source.kind === "mock" ? mockFolder(name) : privateFolder(name);
  for (const f of source.files) {
    const refuse = (why: string): never => {
      throw new SyftError("E_INPUT", `${source.kind} file ${f.abs} cannot be shared: ${why}`, {
        hint: `rename or remove it from the ${source.kind} data`,
      });
    };
    const check = checkInboundPath(`${base}/${f.rel}`);
    if (!check.ok) refuse(`its name is not a valid datasite path (${check.reason})`);
    const segments = f.rel.split("/");
    if (isPermissionFile(f.rel)) {
      refuse(`${PERMISSION_FILE} is a permission file name`);
    }
    if (source.kind === "mock") {
      if (f.rel === DATASET_META_FILE) refuse(`${DATASET_META_FILE} is the dataset's own metadata`);
      if (segments.some(isSyftName)) {
        refuse("sync never sends names like syft's temp files or conflict markers");
      }
    }
  }
}
