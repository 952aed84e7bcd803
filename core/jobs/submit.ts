/**
 * Build a job from what the data scientist points at (`--script`, `--dir` or
 * `--python`), give it one id for every recipient, and write it into each
 * owner's mirror under `app_data/job/inbox/<me>/<id>/`, where the next sync
 * proposes it. Nothing is written until every input checked out.
 * @module
 */
import { posix } from "node:path";
import { hashFile, sha256Hex } from "../crypto/hash.ts";
import { SyftError } from "../errors/mod.ts";
import { syncDir, writeFileAtomic } from "../fs/atomic.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { FsInfo, LocalFs } from "../fs/local_fs.ts";
import { checkInboundPath } from "../paths/inbound.ts";
import { isHiddenName, isPermissionFile, syftTempName } from "../datasite/names.ts";
import {
  DEFAULT_TIMEOUT_S,
  JOB_CONFIG_FILE,
  JOB_ENTRYPOINT,
  type JobConfig,
  type JobType,
  MAX_JOB_FILES,
  serializeJobConfig,
} from "./config.ts";
import { inboxJobFolder } from "./layout.ts";

/** Where the job's code comes from. */
export type JobSource =
  | { kind: "script"; path: string }
  | { kind: "dir"; path: string }
  | { kind: "python"; path: string; dependencies: string[] };

/** One file of a job being built: from disk, or generated. */
export interface SourceFile {
  path: string;
  sha256: string;
  from: { file: string } | { text: string };
}

/** The job's files and how it starts. */
export interface JobBundle {
  type: JobType;
  entrypoint: string;
  dependencies: string[];
  files: SourceFile[];
}

function inputError(message: string, hint: string): SyftError {
  return new SyftError("E_INPUT", message, { hint });
}

async function lstatOrNull(path: string, fs: LocalFs): Promise<FsInfo | null> {
  try {
    return await fs.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

async function diskFile(abs: string, rel: string, fs: LocalFs): Promise<SourceFile> {
  const { hash } = await hashFile(abs, fs);
  return { path: rel, sha256: hash, from: { file: abs } };
}

function textFile(rel: string, text: string): SourceFile {
  return { path: rel, sha256: sha256Hex(new TextEncoder().encode(text)), from: { text } };
}

/** Every file under a folder; symlinks and odd names refuse, dot-files are left out (they never travel). */
async function folderFiles(
  dir: string,
  flag: string,
  fs: LocalFs,
  prefix = "",
): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  for await (const e of fs.readDir(posix.join(dir, prefix))) {
    if (isHiddenName(e.name)) continue;
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    const abs = posix.join(dir, rel);
    if (e.isSymlink) {
      throw inputError(
        `${flag} ${dir}: ${rel} is a symlink`,
        "copy the file it points at into the folder",
      );
    }
    const check = checkInboundPath(rel);
    if (!check.ok || isPermissionFile(e.name)) {
      throw inputError(
        `${flag} ${dir}: ${JSON.stringify(rel)} cannot be sent`,
        "rename or remove it",
      );
    }
    if (e.isDirectory) out.push(...await folderFiles(dir, flag, fs, rel));
    else if (e.isFile) out.push(await diskFile(abs, rel, fs));
    else {throw inputError(
        `${flag} ${dir}: ${rel} is not a regular file`,
        "remove it from the folder",
      );}
    if (out.length > MAX_JOB_FILES) {
      throw inputError(
        `${flag} ${dir} holds more than ${MAX_JOB_FILES} files`,
        "send a smaller folder",
      );
    }
  }
  return out;
}

async function requireKind(
  path: string,
  flag: string,
  want: "file" | "dir",
  fs: LocalFs,
): Promise<void> {
  const info = await lstatOrNull(path, fs);
  if (info === null) throw inputError(`${flag} ${path} does not exist`, "check the path");
  if (info.isSymlink) {
    throw inputError(`${flag} ${path} is a symlink`, "point at the real file or folder");
  }
  if (want === "file" && !info.isFile) {
    throw inputError(`${flag} ${path} is not a file`, "give a file");
  }
  if (want === "dir" && !info.isDirectory) {
    throw inputError(`${flag} ${path} is not a folder`, "give a folder");
  }
}

/** The run.sh written for a `--python` job: the owner's runner puts the job's venv first on PATH. */
export function pythonRunScript(main: string): string {
  return [
    "#!/usr/bin/env bash",
    "# Written by `syft job submit --python`. The owner installs the dependencies",
    "# first, in a separate sandbox, and runs this with that venv first on PATH.",
    "set -euo pipefail",
    `exec python3 ${shellQuote(main)} "$@"`,
    "",
  ].join("\n");
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Read the source into a bundle, checking everything a user can get wrong. */
export async function buildBundle(source: JobSource, fs: LocalFs = denoFs): Promise<JobBundle> {
  if (source.kind === "script") {
    await requireKind(source.path, "--script", "file", fs);
    return {
      type: "bash",
      entrypoint: JOB_ENTRYPOINT,
      dependencies: [],
      files: [await diskFile(source.path, JOB_ENTRYPOINT, fs)],
    };
  }
  if (source.kind === "dir") {
    await requireKind(source.path, "--dir", "dir", fs);
    const files = await folderFiles(source.path, "--dir", fs);
    if (!files.some((f) => f.path === JOB_ENTRYPOINT)) {
      throw inputError(
        `--dir ${source.path} has no run.sh`,
        "add a run.sh at the top of the folder",
      );
    }
    return { type: "bash", entrypoint: JOB_ENTRYPOINT, dependencies: [], files };
  }
  const info = await lstatOrNull(source.path, fs);
  if (info?.isDirectory) {
    const files = await folderFiles(source.path, "--python", fs);
    if (files.some((f) => f.path === JOB_ENTRYPOINT)) {
      throw inputError(
        `--python ${source.path} already has a run.sh`,
        "send it with --dir instead",
      );
    }
    if (!files.some((f) => f.path === "main.py")) {
      throw inputError(`--python ${source.path} has no main.py`, "add main.py, the file to run");
    }
    files.push(textFile(JOB_ENTRYPOINT, pythonRunScript("main.py")));
    return { type: "python", entrypoint: JOB_ENTRYPOINT, dependencies: source.dependencies, files };
  }
  await requireKind(source.path, "--python", "file", fs);
  const main = posix.basename(source.path);
  if (!main.endsWith(".py") || isHiddenName(main) || !checkInboundPath(main).ok) {
    throw inputError(
      `--python ${source.path} is not a .py file`,
      "give a .py file or a folder with main.py",
    );
  }
  return {
    type: "python",
    entrypoint: JOB_ENTRYPOINT,
    dependencies: source.dependencies,
    files: [await diskFile(source.path, main, fs), textFile(JOB_ENTRYPOINT, pythonRunScript(main))],
  };
}

/** A fresh job id: the name made id-safe, and 8 random hex digits. */
export function newJobId(
  name: string,
  random: Uint8Array = crypto.getRandomValues(new Uint8Array(4)),
): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
  const hex = [...random].map((b) => b.toString(16).padStart(2, "0")).join("");
  return slug === "" ? `job-${hex}` : `${slug}-${hex}`;
}

/** The config for a bundle. */
export function jobConfigFor(
  bundle: JobBundle,
  meta: {
    id: string;
    name: string;
    me: string;
    at: string;
    datasets: string[];
    network: boolean;
    timeout?: number;
  },
): JobConfig {
  return {
    id: meta.id,
    name: meta.name,
    submitted_by: meta.me,
    submitted_at: meta.at,
    type: bundle.type,
    entrypoint: bundle.entrypoint,
    dependencies: bundle.dependencies,
    datasets: meta.datasets,
    grants: { network: meta.network, timeout: meta.timeout ?? DEFAULT_TIMEOUT_S },
    files: bundle.files.map((f) => ({ path: f.path, sha256: f.sha256 })),
  };
}

/**
 * Write the bundle's files under `dir` exactly as they will be sent (`job try`
 * runs this copy), checking each copied file against the hash taken at build.
 */
export async function writeBundleFiles(
  bundle: JobBundle,
  dir: string,
  fs: LocalFs = denoFs,
): Promise<void> {
  for (const f of bundle.files) {
    const to = posix.join(dir, f.path);
    await fs.mkdir(posix.dirname(to), { recursive: true });
    if ("file" in f.from) {
      await fs.copyFile(f.from.file, to);
      const { hash } = await hashFile(to, fs);
      if (hash !== f.sha256) {
        throw inputError(
          `${f.from.file} changed while it was being copied`,
          "run the command again",
        );
      }
    } else {
      await writeFileAtomic(to, f.from.text, { fs });
    }
  }
}

/**
 * Write the job into an owner's mirror: into a dot-folder first (sync ignores
 * dot-names), then one rename, so a round never proposes half a job.
 */
export async function writeJobInto(
  ownerMirror: string,
  bundle: JobBundle,
  config: JobConfig,
  fs: LocalFs = denoFs,
): Promise<string> {
  const target = posix.join(ownerMirror, inboxJobFolder(config.submitted_by, config.id));
  if (await lstatOrNull(target, fs)) {
    throw new SyftError("E_EXISTS", `a job ${config.id} is already in ${target}`, {
      hint: "submit again for a fresh id",
    });
  }
  await fs.mkdir(posix.dirname(target), { recursive: true });
  const temp = posix.join(posix.dirname(target), syftTempName(config.id));
  try {
    await writeBundleFiles(bundle, temp, fs);
    await writeFileAtomic(posix.join(temp, JOB_CONFIG_FILE), serializeJobConfig(config), { fs });
    await fs.rename(temp, target);
  } catch (err) {
    await fs.remove(temp, { recursive: true }).catch(() => {});
    throw err;
  }
  // The rename is durable only once its folder is: without this, a power cut
  // after `job submit` said "sent" could leave only the dot-folder, never proposed.
  await syncDir(posix.dirname(target), fs);
  return target;
}
