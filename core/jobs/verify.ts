/**
 * Check a received job folder against its `config.yaml`: every listed file
 * present, a regular file, with the listed SHA-256, and nothing else. A file
 * still missing means the job has not fully arrived yet; anything else wrong
 * rejects it.
 * @module
 */
import { posix } from "node:path";
import { hashFile } from "../crypto/hash.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { FsInfo, LocalFs } from "../fs/local_fs.ts";
import { isSyftError } from "../errors/mod.ts";
import { isHiddenName, PERMISSION_FILE } from "../datasite/names.ts";
import { JOB_CONFIG_FILE, type JobConfig, parseJobConfig } from "./config.ts";

/** The outcome of {@linkcode verifyJobFolder}. */
export type JobCheck =
  | { kind: "ok"; config: JobConfig }
  | { kind: "incomplete"; missing: string[] }
  | { kind: "bad"; reason: string; config: JobConfig | null };

/** Relative paths of every regular file and symlink under `dir` (dot-names skipped: they never travel). */
export async function listFiles(
  dir: string,
  prefix = "",
  fs: LocalFs = denoFs,
): Promise<string[]> {
  const out: string[] = [];
  for await (const e of fs.readDir(posix.join(dir, prefix))) {
    if (isHiddenName(e.name)) continue;
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory) out.push(...await listFiles(dir, rel, fs));
    else out.push(rel);
  }
  return out;
}

/**
 * Verify a job folder. `expect` names the submitter and id the folder's place
 * says it has: a config claiming another is refused (the folder, writable only
 * by that submitter, is the authority).
 */
export async function verifyJobFolder(
  dir: string,
  expect: { submitter: string; id: string },
  fs: LocalFs = denoFs,
): Promise<JobCheck> {
  let config: JobConfig;
  try {
    const text = await fs.readTextFile(posix.join(dir, JOB_CONFIG_FILE));
    config = parseJobConfig(text, JOB_CONFIG_FILE);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { kind: "incomplete", missing: [JOB_CONFIG_FILE] };
    }
    if (isSyftError(err)) return { kind: "bad", reason: err.message, config: null };
    throw err;
  }
  if (config.id !== expect.id) {
    return {
      kind: "bad",
      reason: `config.yaml says id ${config.id}, but the folder is ${expect.id}`,
      config,
    };
  }
  if (config.submitted_by !== expect.submitter) {
    return {
      kind: "bad",
      reason:
        `config.yaml says it was submitted by ${config.submitted_by}, but ${expect.submitter} sent it`,
      config,
    };
  }
  const listed = new Set(config.files.map((f) => f.path));
  // The folder's own permission file is syft's, not part of the job.
  const present = (await listFiles(dir, "", fs)).filter((p) =>
    p !== JOB_CONFIG_FILE && p !== PERMISSION_FILE
  );
  const extra = present.filter((p) => !listed.has(p));
  if (extra.length > 0) {
    return {
      kind: "bad",
      reason: `files not listed in config.yaml: ${extra.slice(0, 5).join(", ")}`,
      config,
    };
  }
  const missing: string[] = [];
  for (const f of config.files) {
    const abs = posix.join(dir, f.path);
    let info: FsInfo;
    try {
      info = await fs.lstat(abs);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        missing.push(f.path);
        continue;
      }
      throw err;
    }
    if (!info.isFile) return { kind: "bad", reason: `${f.path} is not a regular file`, config };
    const { hash } = await hashFile(abs, fs);
    if (hash !== f.sha256) {
      return { kind: "bad", reason: `${f.path} does not match its SHA-256 in config.yaml`, config };
    }
  }
  if (missing.length > 0) return { kind: "incomplete", missing };
  return { kind: "ok", config };
}
