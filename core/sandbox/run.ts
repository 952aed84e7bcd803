/**
 * Run an approved job's entrypoint in the sandbox.
 *
 * Design (mode "bwrap"):
 * - As root, each run gets a uid of its own (`run_uid.ts`), unused by any
 *   account, process or other run. What the job may read is staged as copies
 *   only that uid can read, in a 0700 folder under `$SYFT_HOME`; a private
 *   mount namespace shows that folder at /tmp to the run alone (`ROOT_PRELUDE`).
 *   Then syft drops to the uid (`setpriv`), sets limits (`prlimit`: processes,
 *   file size, CPU, and RLIMIT_AS when no memory cgroup can be had) and starts
 *   bubblewrap. As a normal user, the job runs as that user in a user namespace
 *   with read-only binds of the owner's own folders.
 * - Writable places inside are all capped: /tmp with HOME and /dev/shm share
 *   the scratch cap, outputs and logs have theirs, /dev is six device nodes on
 *   the read-only root. Memory is capped by a cgroup of the run (`memory_cap.ts`).
 * - Inside, a trusted wrapper (`WRAPPER_SCRIPT` in bwrap_args.ts) runs `bash <entrypoint>`
 *   with its logs on their own capped tmpfs mounts and outputs on a capped
 *   tmpfs, enforces the timeout with coreutils `timeout`, kills every leftover
 *   process of the pid namespace, and streams back a tar of return code, logs
 *   and outputs. The tmpfs mounts die with the namespace, so that stream is the
 *   only way out; the host parses it as hostile input ({@linkcode collectFromTar}).
 * - The host keeps its own deadline (timeout + grace) and kills the whole
 *   process group if the wrapper does not deliver; `--die-with-parent` and the
 *   pid namespace take every process of the job with it. A missing or garbled
 *   stream is a failed job with `error` set.
 *
 * Mode "none" (the owner opted out): no namespaces; the same limits, uid and staging,
 * a copy of the code, a new session whose group is killed at the deadline and
 * after the job ends, and the outputs folder is checked and copied afterwards.
 * @module
 */

import { join, resolve } from "node:path";
import { DATASET_NAME_RE } from "../datasets/name.ts";
import { SyftError } from "../errors/mod.ts";
import { checkInboundPath } from "../paths/mod.ts";
import {
  buildBwrapArgs,
  INSIDE,
  jobEnv,
  SYSTEM_DIRS,
  type SystemEntry,
  wrapperCommand,
} from "./bwrap_args.ts";
import { collectFromDir, collectFromTar, truncationLine } from "./collect.ts";
import { jobLimits, limitPrefix } from "./limits.ts";
import type { MemoryCapMode } from "./memory_cap.ts";
import { probeBubblewrap, type SandboxProbe } from "./probe.ts";
import { countProcesses, stageReadOnly } from "./_stage.ts";
import { openRunSlot, type RunSlot } from "./_run_slot.ts";
import { killUid } from "./run_uid.ts";
import { readCapped } from "../encoding/bytes.ts";
import { spawnGroup } from "./_spawn.ts";

/** "bwrap": the bubblewrap sandbox; "none": no isolation (only when the owner opts out). */
export type SandboxMode = "bwrap" | "none";

/** Everything needed to run one job. */
export interface JobRunSpec {
  /** Goes in env SYFT_JOB_ID. */
  jobId: string;
  /** Host folder with the verified job files; read-only inside; cwd of the job. */
  codeDir: string;
  /** Relative path inside codeDir, run as `bash <entrypoint>`. */
  entrypoint: string;
  /** Host folders of private files, each visible at `/datasets/<name>`. */
  datasets: ReadonlyArray<{ name: string; dir: string }>;
  /** false: own empty net namespace; true: share the host network. */
  network: boolean;
  /** Wall clock; on expiry the whole process tree dies. */
  timeoutMs: number;
  /** Cap on the total size of outputs/. */
  maxOutputBytes: number;
  /** Cap per stdout / stderr, default 10 MiB. */
  maxLogBytes?: number;
  mode: SandboxMode;
  /** Host folder that must not exist yet; gets outputs/, stdout.txt, stderr.txt. */
  outDir: string;
  /** Host folder for staging (a per-run subfolder is created and removed). */
  scratchDir: string;
  /** A venv made by installPythonDeps: read-only at /venv, its bin/ first on PATH. */
  venvDir?: string;
  /** One cap shared by /tmp, HOME and /dev/shm (config `sandbox.scratch_mib`); default 256 MiB. */
  scratchBytes?: number;
  /** The memory cap (config `sandbox.memory_mib`); default 4096 MiB. */
  memoryBytes?: number;
}

/** What happened to one job run. */
export interface JobRunResult {
  mode: SandboxMode;
  /** null when killed (timeout) or the sandbox failed to start. */
  returncode: number | null;
  timedOut: boolean;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  outputs: {
    files: number;
    bytes: number;
    truncated: boolean;
    skipped: Array<{ path: string; reason: string }>;
  };
  durationMs: number;
  /** The host uid the job ran as: a fresh one per run when syft runs as root. */
  uid: number;
  /** How the memory cap was held ("cgroup" or "rlimit"); absent when nothing ran. */
  memoryCap?: MemoryCapMode;
  /** One line, when the sandbox itself failed (not the job). */
  error?: string;
}

/** Default cap per log. */
export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;

/** Default size of the job's private /tmp (with HOME and /dev/shm inside it). */
export const TMP_BYTES = 256 * 1024 * 1024;

/** Default memory cap of a job. */
export const MEMORY_BYTES = 4096 * 1024 * 1024;

/** PATH of the helper programs started on the host (setsid, setpriv, prlimit, bwrap). */
export const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

let probe: Promise<SandboxProbe> | undefined;

/** Throw `E_SANDBOX` unless bubblewrap works here (asked once per process). */
export async function requireBubblewrap(): Promise<void> {
  probe ??= probeBubblewrap();
  const p = await probe;
  if (!p.available) {
    probe = undefined;
    throw new SyftError("E_SANDBOX", `no sandbox to run jobs in: ${p.reason}`, {
      hint: `${p.hint}; or pass --sandbox none to run without one (not recommended)`,
    });
  }
}

/** How the host's system folders look (merged /usr or not), for read-only binds. */
export async function probeSystem(): Promise<SystemEntry[]> {
  const out: SystemEntry[] = [];
  for (const path of SYSTEM_DIRS) {
    try {
      const st = await Deno.lstat(path);
      if (st.isSymlink) out.push({ path, kind: "symlink", target: await Deno.readLink(path) });
      else if (st.isDirectory) out.push({ path, kind: "dir" });
    } catch { /* absent on this host */ }
  }
  return out;
}

function validate(spec: JobRunSpec): void {
  const bad = (what: string) => {
    throw new SyftError("E_INPUT", `cannot run job ${JSON.stringify(spec.jobId)}: ${what}`);
  };
  const entry = checkInboundPath(spec.entrypoint);
  if (!entry.ok) bad(`entrypoint ${JSON.stringify(spec.entrypoint)} is unsafe: ${entry.reason}`);
  const seen = new Set<string>();
  for (const d of spec.datasets) {
    if (!DATASET_NAME_RE.test(d.name)) bad(`invalid dataset name ${JSON.stringify(d.name)}`);
    const key = d.name.toUpperCase().replaceAll("-", "_");
    if (seen.has(key)) bad(`dataset name ${JSON.stringify(d.name)} is given twice`);
    seen.add(key);
  }
  if (!(spec.timeoutMs > 0) || !(spec.maxOutputBytes >= 0)) {
    bad("timeout and caps must be positive");
  }
  if (spec.maxLogBytes !== undefined && !(spec.maxLogBytes >= 0)) {
    bad("maxLogBytes must be positive");
  }
}

function emptyResult(spec: JobRunSpec, uid: number): JobRunResult {
  return noRun(spec.mode, uid);
}

/**
 * The result of a run that never started: nothing ran, nothing came out. The
 * job runner records it when a job fails before the sandbox (a file changed
 * since approval, a missing dataset).
 */
export function noRun(mode: SandboxMode, uid: number, error?: string): JobRunResult {
  return {
    mode,
    returncode: null,
    timedOut: false,
    stdoutTruncated: false,
    stderrTruncated: false,
    outputs: { files: 0, bytes: 0, truncated: false, skipped: [] },
    durationMs: 0,
    uid,
    ...(error === undefined ? {} : { error }),
  };
}

/**
 * Run a job and collect its outputs and logs into `spec.outDir`.
 *
 * A job that fails, times out or misbehaves is a result, not a throw.
 * @throws {SyftError} `E_SANDBOX` when mode is "bwrap" and bubblewrap is unusable;
 *   `E_INPUT` for an unsafe entrypoint or dataset name; `E_EXISTS` when outDir exists.
 */
export async function runJob(spec: JobRunSpec): Promise<JobRunResult> {
  validate(spec);
  if (spec.mode === "bwrap") await requireBubblewrap();
  const started = performance.now();
  const outDir = resolve(spec.outDir);
  try {
    await Deno.mkdir(outDir);
  } catch (err) {
    throw new SyftError(
      "E_EXISTS",
      `cannot create the job output folder ${JSON.stringify(outDir)}`,
      {
        hint: "give a folder that does not exist yet, in an existing parent",
        cause: err,
      },
    );
  }
  await Deno.mkdir(join(outDir, "outputs"));
  const result = emptyResult(spec, Deno.uid() ?? 0);
  let slot: RunSlot | undefined;
  try {
    slot = await openRunSlot(resolve(spec.scratchDir), spec.memoryBytes ?? MEMORY_BYTES);
    result.uid = slot.uid;
    result.memoryCap = slot.cap.mode;
    if (spec.mode === "bwrap") await runBwrap(spec, slot, outDir, result);
    else await runNone(spec, slot, outDir, result);
  } catch (err) {
    result.returncode = null;
    result.error = `the sandbox failed: ${
      oneLine(err instanceof Error ? err.message : String(err))
    }`;
    for (const f of ["stdout.txt", "stderr.txt"]) {
      await Deno.writeFile(join(outDir, f), new Uint8Array(), { createNew: true }).catch(() => {});
    }
  } finally {
    await slot?.release();
  }
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim().slice(0, 300);
}

/**
 * Stage inputs (as root: copies the run's uid alone may read) or point at them
 * directly (as a normal user: the job runs as that user, bound read-only anyway).
 * Paths are as the run's processes see them.
 */
async function stageInputs(
  spec: JobRunSpec,
  slot: RunSlot,
): Promise<{ code: string; datasets: Array<{ name: string; dir: string }> }> {
  if (!slot.asRoot) {
    return {
      code: resolve(spec.codeDir),
      datasets: spec.datasets.map((d) => ({ name: d.name, dir: resolve(d.dir) })),
    };
  }
  await stageReadOnly(resolve(spec.codeDir), join(slot.stage, "code"));
  await Deno.mkdir(join(slot.stage, "datasets"), { mode: 0o700 });
  const datasets = [];
  for (const d of spec.datasets) {
    await stageReadOnly(resolve(d.dir), join(slot.stage, "datasets", d.name));
    datasets.push({ name: d.name, dir: slot.seen(join("datasets", d.name)) });
  }
  return { code: slot.seen("code"), datasets };
}

/** The venv as the run's processes see it, and the bind that puts it there (as root). */
async function placeVenv(
  spec: JobRunSpec,
  slot: RunSlot,
): Promise<{ dir?: string; binds: Array<{ src: string; rel: string }> }> {
  if (spec.venvDir === undefined) return { binds: [] };
  const venv = resolve(spec.venvDir);
  if (!slot.asRoot) return { dir: venv, binds: [] };
  // Bound, not copied: the venv holds no private data and its files are world-readable.
  await Deno.mkdir(join(slot.stage, "venv"));
  return { dir: slot.seen("venv"), binds: [{ src: venv, rel: "venv" }] };
}

async function runBwrap(
  spec: JobRunSpec,
  slot: RunSlot,
  outDir: string,
  result: JobRunResult,
): Promise<void> {
  const logCap = spec.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
  const inputs = await stageInputs(spec, slot);
  const placed = await placeVenv(spec, slot);
  const venv = placed.dir;
  const env = jobEnv({
    jobId: spec.jobId,
    home: INSIDE.home,
    tmp: INSIDE.tmp,
    outputDir: INSIDE.outputs,
    datasets: spec.datasets.map((d) => ({ name: d.name, dir: `${INSIDE.datasets}/${d.name}` })),
    ...(venv === undefined ? {} : { venvBin: `${INSIDE.venv}/bin` }),
  });
  const bwrap = buildBwrapArgs({
    system: await probeSystem(),
    network: spec.network,
    codeDir: inputs.code,
    datasets: inputs.datasets,
    ...(venv === undefined ? {} : { venv: { dir: venv, writable: false } }),
    sizes: {
      tmp: spec.scratchBytes ?? TMP_BYTES,
      outputs: spec.maxOutputBytes,
      logs: logCap,
      meta: 65536,
    },
    env,
    cwd: INSIDE.code,
  });
  const limits = jobLimits({
    timeoutMs: spec.timeoutMs,
    maxOutputBytes: spec.maxOutputBytes,
    maxLogBytes: logCap,
    ...await limitUser(slot),
    ...(slot.cap.mode === "rlimit" ? { asBytes: slot.cap.bytes } : {}),
  });
  const argv = [
    ...await slot.enter(placed.binds),
    ...limitPrefix(limits),
    "bwrap",
    ...bwrap,
    ...wrapperCommand(spec.entrypoint, spec.timeoutMs),
  ];
  // Grace for the wrapper to kill leftovers and stream the outputs back.
  const graceMs = 5000 + Math.ceil(spec.maxOutputBytes / (50 * 1024)); // ≥ 50 MB/s
  const proc = spawnGroup(argv, {
    env: { PATH: HOST_PATH },
    cwd: "/",
    deadlineMs: spec.timeoutMs + graceMs,
    stdout: "piped",
  });
  const stderr = readCapped(proc.child.stderr, 16 * 1024);
  const tar = await collectFromTar(proc.child.stdout, outDir, {
    outputs: spec.maxOutputBytes,
    logs: logCap,
  });
  if (tar.stoppedEarly) proc.killGroup();
  await proc.child.status;
  proc.clear();
  proc.killGroup();
  const diag = new TextDecoder().decode((await stderr).bytes);
  result.returncode = tar.returncode;
  result.timedOut = tar.timedOut;
  result.stdoutTruncated = tar.stdoutTruncated;
  result.stderrTruncated = tar.stderrTruncated;
  result.outputs = tar.outputs;
  if (proc.expired) {
    result.timedOut = true;
    result.returncode = null;
    result.error = `the sandbox did not finish within ${spec.timeoutMs} ms plus ${graceMs} ms ` +
      "of grace and was killed";
  } else if (tar.error !== undefined) {
    const bwrapSays = diag.split("\n").find((l) =>
      /^(bwrap|mount|unshare|setpriv|prlimit):/.test(l)
    );
    result.error = bwrapSays === undefined
      ? tar.error
      : `the sandbox failed to start: ${bwrapSays}`;
  }
}

/** Who the limits count: the run's own fresh uid (as root), or the owner with what it runs already. */
async function limitUser(slot: RunSlot): Promise<{ dropTo?: number; existingProcesses: number }> {
  return slot.asRoot
    ? { dropTo: slot.uid, existingProcesses: 0 }
    : { existingProcesses: await countProcesses(slot.uid) };
}

async function runNone(
  spec: JobRunSpec,
  slot: RunSlot,
  outDir: string,
  result: JobRunResult,
): Promise<void> {
  const logCap = spec.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
  slot.unconfined();
  const inputs = await stageInputs(spec, slot);
  const placed = await placeVenv(spec, slot);
  let code = inputs.code;
  if (!slot.asRoot) {
    // Always a copy: without namespaces the job could otherwise write to its own inbox.
    await stageReadOnly(inputs.code, join(slot.stage, "code"));
    code = slot.seen("code");
  }
  for (const dir of ["outputs", "home", "tmp"]) await Deno.mkdir(join(slot.stage, dir));
  const env = jobEnv({
    jobId: spec.jobId,
    home: slot.seen("home"),
    tmp: slot.seen("tmp"),
    outputDir: slot.seen("outputs"),
    datasets: inputs.datasets,
    ...(placed.dir === undefined ? {} : { venvBin: join(placed.dir, "bin") }),
  });
  const limits = jobLimits({
    timeoutMs: spec.timeoutMs,
    maxOutputBytes: spec.maxOutputBytes,
    maxLogBytes: logCap,
    ...await limitUser(slot),
    ...(slot.cap.mode === "rlimit" ? { asBytes: slot.cap.bytes } : {}),
  });
  // The code folder is only reachable once the prelude bound the stage: cd there after it.
  const argv = [
    ...await slot.enter(placed.binds),
    ...limitPrefix(limits),
    "bash",
    "-c",
    'cd -- "$1" || exit 97; shift; exec bash -- "$@"',
    "syft-none",
    code,
    spec.entrypoint,
  ];
  const proc = spawnGroup(argv, {
    // setsid/setpriv/prlimit are found through PATH, which the job env sets to system folders.
    env,
    cwd: "/",
    deadlineMs: spec.timeoutMs,
    stdout: "piped",
  });
  const out = readCapped(proc.child.stdout, logCap);
  const err = readCapped(proc.child.stderr, logCap);
  const status = await proc.child.status;
  proc.clear();
  // Leftover background processes of the job die with the group, and as root
  // every process of the run's own uid (a new session escapes the group).
  proc.killGroup();
  if (slot.asRoot) await killUid(slot.uid);
  // A process that started its own session may still hold the pipes: do not wait forever.
  const logs = await Promise.race([
    Promise.all([out, err]),
    new Promise<null>((r) => setTimeout(() => r(null), 2000)),
  ]);
  const [o, e] = logs ?? [{ bytes: new Uint8Array(), truncated: false }, {
    bytes: new Uint8Array(),
    truncated: false,
  }];
  result.stdoutTruncated = o.truncated;
  result.stderrTruncated = e.truncated;
  await writeLogFile(join(outDir, "stdout.txt"), o.bytes, o.truncated, logCap);
  await writeLogFile(join(outDir, "stderr.txt"), e.bytes, e.truncated, logCap);
  result.timedOut = proc.expired;
  result.returncode = proc.expired ? null : status.code;
  result.outputs = await collectFromDir(
    join(slot.stage, "outputs"),
    join(outDir, "outputs"),
    spec.maxOutputBytes,
  );
}

async function writeLogFile(path: string, bytes: Uint8Array, truncated: boolean, cap: number) {
  const tail = truncated
    ? new TextEncoder().encode(
      (bytes.at(-1) === 0x0a || bytes.length === 0 ? "" : "\n") + truncationLine(cap),
    )
    : new Uint8Array();
  const all = new Uint8Array(bytes.length + tail.length);
  all.set(bytes);
  all.set(tail, bytes.length);
  await Deno.writeFile(path, all, { createNew: true, mode: 0o644 });
}
