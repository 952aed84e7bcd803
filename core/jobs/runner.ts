/**
 * Run an approved job: stage a copy of its files, check the copy against the
 * hash pinned at approval, hand it to the sandbox with the approved grants and
 * the named datasets' private folders, then put logs, return code and outputs
 * into the review folder (readable by the submitter only after release) and
 * record done or failed. How the run went (return code, counts, what was
 * skipped, why it failed) is the owner's record only: the submitter's view
 * carries the status.
 * @module
 */
import { posix } from "node:path";
import { hashFile } from "../crypto/hash.ts";
import { privateFolder } from "../datasets/mod.ts";
import { writeFileAtomic } from "../fs/atomic.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import {
  type JobRunner,
  type JobRunResult,
  noRun,
  type SandboxMode,
  sandboxRunner,
} from "../sandbox/mod.ts";
import { appendAudit } from "./audit.ts";
import { datasetsNotShared, notSharedReason } from "./dataset_access.ts";
import { subfolderNames } from "./_folders.ts";
import { SyftError } from "../errors/mod.ts";
import { JOB_CONFIG_FILE, type JobConfig, parseJobConfig } from "./config.ts";
import { inboxDir, type OwnerDesk, requireState } from "./desk.ts";
import { type JobKey, jobLabel, REVIEW_FILES, REVIEW_ROOT, reviewJobFolder } from "./layout.ts";
import { policyHash } from "./policy_hash.ts";
import { writeJobState } from "./review.ts";
import { type JobState, MAX_SKIPPED_KEPT, moveTo, type RunRecord } from "./state.ts";
import { verifyJobFolder } from "./verify.ts";

/** How the owner runs jobs. */
export interface RunnerOptions {
  mode: SandboxMode;
  /** Overrides the job's own timeout (seconds). */
  timeoutS?: number;
  maxOutputBytes: number;
  /** Where runs stage their copies (a fresh subfolder each). */
  scratchDir: string;
  /** Python package index for `--python` jobs (config `jobs.python_index`). */
  pythonIndex?: string;
  /** Local wheel folders (`--find-links`). */
  findLinks?: readonly string[];
  /** The sandbox's scratch cap (/tmp and /dev/shm) and memory cap, from config `sandbox`. */
  scratchBytes?: number;
  memoryBytes?: number;
  /** What executes the job; the sandbox unless a test passes a stub. */
  runner?: JobRunner;
}

/**
 * Remove what runs that died left behind: their scratch folders, and the
 * half-collected `.run-*` folders in review folders (dot-names never sync,
 * but they take disk). Only safe under the runner lock, when no run is live.
 */
export async function removeStaleRuns(desk: OwnerDesk, scratchDir: string): Promise<void> {
  const fs = desk.fs;
  await fs.remove(scratchDir, { recursive: true }).catch(() => {});
  const review = posix.join(desk.datasite, REVIEW_ROOT);
  for (const submitter of await subfolderNames(review, fs)) {
    for (const id of await subfolderNames(posix.join(review, submitter), fs)) {
      const dir = posix.join(review, submitter, id);
      for (const name of await subfolderNames(dir, fs)) {
        if (name.startsWith(".run-")) await fs.remove(posix.join(dir, name), { recursive: true });
      }
    }
  }
}

/** Longest pip install of a Python job's dependencies. */
const INSTALL_TIMEOUT_MS = 15 * 60_000;

/**
 * Run one approved (or interrupted `running`) job to done or failed. The
 * caller holds the runner lock, so a job found `running` is one whose runner died.
 */
/** How one run ended: the new state, and why nothing ran when the job was refused. */
export interface RunEnd {
  state: JobState;
  /** Set when the job was refused before it ran (changed content, unshared datasets). */
  refused: string | null;
}

export async function runApprovedJob(
  desk: OwnerDesk,
  key: JobKey,
  options: RunnerOptions,
  how = "manual",
): Promise<RunEnd> {
  const { fs } = desk;
  const runner = options.runner ?? sandboxRunner;
  let state = await requireState(desk, key);
  await requirePackageSource(desk, key, options);
  const startedAt = new Date(desk.now()).toISOString();
  state = moveTo(state, { status: "running", at: startedAt, by: desk.me, how, reason: null });
  // Before the record, as every decision (desk.ts); a run is logged each time
  // it starts, a second one after a crash included.
  await appendAudit(desk.auditLog, {
    at: startedAt,
    action: "run",
    job: jobLabel(key),
    by: desk.me,
    how,
    sandbox: options.mode,
    policy_hash: state.policy_hash,
  }, fs);
  await writeJobState(desk, state);
  await fs.mkdir(options.scratchDir, { recursive: true });
  // What Deno.makeTempDir makes (a fresh 0700 folder), on whichever file system the desk is.
  const scratch = posix.join(options.scratchDir, `run-${crypto.randomUUID()}`);
  await fs.mkdir(scratch, { mode: 0o700 });
  try {
    const prepared = await prepare(desk, key, state, posix.join(scratch, "code"));
    if (typeof prepared === "string") {
      const failed = await fail(desk, state, startedAt, prepared, options.mode);
      return { state: failed, refused: prepared };
    }
    const { config, datasets } = prepared;
    let venvDir: string | undefined;
    if (config.type === "python" && config.dependencies.length > 0) {
      venvDir = posix.join(scratch, "venv");
      const installed = await runner.installPython({
        venvDir,
        dependencies: config.dependencies,
        ...(options.pythonIndex ? { index: options.pythonIndex } : {}),
        findLinks: options.findLinks ?? [],
        mode: options.mode,
        timeoutMs: INSTALL_TIMEOUT_MS,
        scratchDir: scratch,
        ...(options.memoryBytes === undefined ? {} : { memoryBytes: options.memoryBytes }),
      });
      if (!installed.ok) {
        const last = installed.log.trim().split("\n").slice(-1)[0] ?? "";
        const failed = await fail(
          desk,
          state,
          startedAt,
          `installing dependencies failed: ${last}`,
          options.mode,
        );
        return { state: failed, refused: null };
      }
    }
    const review = posix.join(desk.datasite, reviewJobFolder(key.submitter, key.id));
    // A dot-folder: sync never carries it, and the rename into place is atomic.
    const outDir = posix.join(review, `.run-${crypto.randomUUID()}`);
    const result = await runner.run({
      jobId: key.id,
      codeDir: posix.join(scratch, "code"),
      entrypoint: config.entrypoint,
      datasets,
      network: state.network,
      timeoutMs: (options.timeoutS ?? config.grants.timeout) * 1000,
      maxOutputBytes: options.maxOutputBytes,
      mode: options.mode,
      outDir,
      scratchDir: scratch,
      ...(venvDir ? { venvDir } : {}),
      ...(options.scratchBytes === undefined ? {} : { scratchBytes: options.scratchBytes }),
      ...(options.memoryBytes === undefined ? {} : { memoryBytes: options.memoryBytes }),
    });
    try {
      await placeResults(review, outDir, result, fs);
    } finally {
      await fs.remove(outDir, { recursive: true }).catch(() => {});
    }
    return { state: await finish(desk, state, startedAt, result), refused: null };
  } finally {
    await fs.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/**
 * A Python job with dependencies needs the owner's package source (an index
 * or a wheel folder); without one it is refused before it starts, so the job
 * stays approved instead of failing for the owner's missing setting.
 */
async function requirePackageSource(
  desk: OwnerDesk,
  key: JobKey,
  options: RunnerOptions,
): Promise<void> {
  const file = posix.join(inboxDir(desk, key), JOB_CONFIG_FILE);
  const config = parseJobConfig(await desk.fs.readTextFile(file), file);
  if (config.type !== "python" || config.dependencies.length === 0) return;
  if (options.pythonIndex !== undefined || (options.findLinks ?? []).length > 0) return;
  throw new SyftError(
    "E_USAGE",
    `job ${jobLabel(key)} needs Python packages (${
      config.dependencies.join(", ")
    }) and no package source is set`,
    { hint: "pass --find-links <folder of wheels>, or set jobs.python_index in config.yaml" },
  );
}

/**
 * Copy the job's files into `codeDir` and check the copy: what runs is the
 * copy, so it is the copy whose hashes must give the pinned policy hash.
 * Returns why it cannot run, or what it needs.
 */
async function prepare(
  desk: OwnerDesk,
  key: JobKey,
  state: JobState,
  codeDir: string,
): Promise<string | { config: JobConfig; datasets: { name: string; dir: string }[] }> {
  const { fs } = desk;
  const source = inboxDir(desk, key);
  const check = await verifyJobFolder(source, key, fs);
  if (check.kind !== "ok") {
    return check.kind === "bad" ? check.reason : `files missing: ${check.missing.join(", ")}`;
  }
  const config = check.config;
  for (const f of config.files) {
    const to = posix.join(codeDir, f.path);
    await fs.mkdir(posix.dirname(to), { recursive: true });
    await fs.copyFile(posix.join(source, f.path), to);
    const { hash } = await hashFile(to, fs);
    if (hash !== f.sha256) return `${f.path} changed while it was staged`;
  }
  if (state.policy_hash === null || policyHash(config) !== state.policy_hash) {
    return "the job's files differ from the ones approved (policy hash mismatch)";
  }
  // Permissions may have changed since approval: the run checks again.
  const unshared = await datasetsNotShared(
    desk.datasite,
    desk.me,
    key.submitter,
    config.datasets,
    fs,
  );
  if (unshared.length > 0) return notSharedReason(unshared, key.submitter);
  const datasets = config.datasets.map((name) => ({
    name,
    dir: posix.join(desk.datasite, privateFolder(name)),
  }));
  return { config, datasets };
}

/** Move logs and outputs from the run's folder into the review folder, replacing a previous run's. */
async function placeResults(
  review: string,
  outDir: string,
  result: JobRunResult,
  fs: LocalFs,
): Promise<void> {
  for (const name of [REVIEW_FILES.outputs, REVIEW_FILES.stdout, REVIEW_FILES.stderr]) {
    const from = posix.join(outDir, name);
    const to = posix.join(review, name);
    await fs.remove(to, { recursive: true }).catch(() => {});
    try {
      await fs.rename(from, to);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      if (name === REVIEW_FILES.outputs) await fs.mkdir(to, { recursive: true });
      else await writeFileAtomic(to, "", { fs });
    }
  }
  await writeFileAtomic(
    posix.join(review, REVIEW_FILES.returncode),
    result.returncode === null ? "killed\n" : `${result.returncode}\n`,
    { fs },
  );
}

function record(
  result: Pick<
    JobRunResult,
    "mode" | "returncode" | "timedOut" | "stdoutTruncated" | "stderrTruncated" | "outputs" | "error"
  >,
  startedAt: string,
  finishedAt: string,
): RunRecord {
  return {
    sandbox: result.mode,
    returncode: result.returncode,
    timed_out: result.timedOut,
    stdout_truncated: result.stdoutTruncated,
    stderr_truncated: result.stderrTruncated,
    outputs_truncated: result.outputs.truncated,
    output_files: result.outputs.files,
    output_bytes: result.outputs.bytes,
    // Kept bounded: the record is parsed whole, and a run can skip millions.
    skipped: result.outputs.skipped.slice(0, MAX_SKIPPED_KEPT).map((s) =>
      `${s.path.slice(0, 300)}: ${s.reason}`
    ),
    skipped_count: result.outputs.skipped.length,
    started_at: startedAt,
    finished_at: finishedAt,
    error: result.error ?? null,
  };
}

/** Why a run failed, in one clause; null when it succeeded. */
export function failureReason(run: RunRecord): string | null {
  if (run.error) return run.error;
  if (run.timed_out) return "timed out";
  if (run.outputs_truncated) return "outputs exceeded the size limit";
  if (run.returncode !== 0) return `exited with code ${run.returncode ?? "none"}`;
  return null;
}

async function finish(
  desk: OwnerDesk,
  state: JobState,
  startedAt: string,
  result: JobRunResult,
): Promise<JobState> {
  const at = new Date(desk.now()).toISOString();
  const run = record(result, startedAt, at);
  const reason = failureReason(run);
  const next = moveTo(
    state,
    { status: reason === null ? "done" : "failed", at, by: desk.me, how: "auto", reason },
    { run },
  );
  await writeJobState(desk, next);
  return next;
}

async function fail(
  desk: OwnerDesk,
  state: JobState,
  startedAt: string,
  reason: string,
  mode: SandboxMode,
): Promise<JobState> {
  return await finish(desk, state, startedAt, noRun(mode, Deno.uid() ?? -1, reason));
}
