/**
 * Running approved jobs one after another, as `job run` and the policies a
 * sync applies do: under the runner lock so one job runs once, releasing
 * those the caller says to release. It prints nothing: what it has to say
 * goes to `note`.
 * @module
 */
import { posix } from "node:path";
import type { Config } from "../config/config.ts";
import { homeLayout } from "../config/home.ts";
import { datasiteDir } from "../datasite/layout.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import type { SandboxMode } from "../sandbox/mod.ts";
import { acquireRoundLock } from "../sync/lock.ts";
import { type Clock, systemClock } from "../time/clock.ts";
import { type OwnerDesk, releaseJob, requireState } from "./desk.ts";
import { type JobKey, jobLabel } from "./layout.ts";
import { type JobOutcome, jobOutcome } from "./outcome.ts";
import { receivedRoot } from "./review.ts";
import { removeStaleRuns, runApprovedJob, type RunnerOptions } from "./runner.ts";
import type { JobState } from "./state.ts";

/** The owner's desk for a home: on the disk and the system's clock unless a test passes others. */
export function ownerDesk(
  home: string,
  config: Config,
  env: { fs?: LocalFs; clock?: Clock } = {},
): OwnerDesk {
  const clock = env.clock ?? systemClock;
  return {
    datasite: datasiteDir(config.root, config.email),
    me: config.email,
    auditLog: homeLayout(home).auditLog,
    records: receivedRoot(home),
    now: () => clock.now(),
    fs: env.fs ?? denoFs,
  };
}

/** Runner options from a command's flags and the config. */
export function runnerOptions(
  home: string,
  config: Config,
  mode: SandboxMode,
  flags: { timeoutS?: number; maxOutputMiB?: number; findLinks?: readonly string[] },
): RunnerOptions {
  return {
    mode,
    ...(flags.timeoutS === undefined ? {} : { timeoutS: flags.timeoutS }),
    maxOutputBytes: (flags.maxOutputMiB ?? 100) * 1024 * 1024,
    scratchDir: posix.join(home, "cache", "runs"),
    ...(config.jobs.python_index === null ? {} : { pythonIndex: config.jobs.python_index }),
    findLinks: flags.findLinks ?? [],
    scratchBytes: config.sandbox.scratch_mib * 1024 * 1024,
    memoryBytes: config.sandbox.memory_mib * 1024 * 1024,
  };
}

/** One job run, as reported. */
export interface RunOutcome {
  key: JobKey;
  state: JobState;
  /** Why the job was refused before it ran, or null. */
  refused: string | null;
}

/** Where a job stands after a run, as its owner sees it. */
export function runOutcome(o: RunOutcome): JobOutcome {
  return jobOutcome({
    owner: o.state.owner,
    viewer: "owner",
    state: o.state,
    returncode: o.state.run?.returncode ?? null,
  });
}

/**
 * One line saying how a run ended, from the shared renderer, with what was
 * released: `<ds>/<id> failed (exit 3), released (sandbox bwrap): <ds> gets
 * its logs and 0 output file(s) at their next sync`.
 */
export function describeOutcome(o: RunOutcome, mode: SandboxMode): string {
  if (o.refused !== null) return `${jobLabel(o.key)} refused, not run: ${o.refused}`;
  const outcome = runOutcome(o);
  const shared = outcome.released
    ? `: ${o.key.submitter} gets its logs and ${
      o.state.run?.output_files ?? 0
    } output file(s) at their next sync`
    : "";
  return `${jobLabel(o.key)} ${outcome.text} (sandbox ${mode})${shared}`;
}

/** What {@linkcode runJobs} works with. */
export interface RunBatch {
  home: string;
  desk: OwnerDesk;
  keys: readonly JobKey[];
  options: RunnerOptions;
  /** Who releases a job when it ends (`manual`, `policy:<name>`), or null to keep it. */
  release(key: JobKey): string | null;
  /** A line for people: a wait, a job skipped. */
  note(message: string): void;
}

/**
 * Run jobs one after another under the runner lock (`state/jobs.lock`): a
 * second `job run`, or a sync applying a policy, waits instead of running a
 * job twice. Each job's state is read again under the lock.
 */
export async function runJobs(batch: RunBatch): Promise<RunOutcome[]> {
  const { desk, options, note } = batch;
  const lock = await acquireRoundLock(homeLayout(batch.home).state, {
    name: "jobs.lock",
    timeoutMs: 24 * 3600_000,
    onWait: () => note("another job is running under this home; waiting for it"),
    fs: desk.fs,
  });
  const out: RunOutcome[] = [];
  try {
    await removeStaleRuns(desk, options.scratchDir);
    for (const key of batch.keys) {
      // Read again under the lock: a `job run` we waited for may have run it.
      const now = await requireState(desk, key);
      if (now.status !== "approved" && now.status !== "running") {
        note(`job ${jobLabel(key)} is ${now.status} now; not running it again`);
        continue;
      }
      const how = batch.release(key);
      const end = await runApprovedJob(desk, key, options, how ?? "manual");
      const refused = end.refused;
      let state = end.state;
      // A failed run is released too: its logs are what the scientist needs, and
      // its outputs are as capped as a successful run's. A refused one never ran.
      if ((state.status === "done" || state.status === "failed") && how !== null && !refused) {
        state = await releaseJob(desk, key, how);
      }
      out.push({ key, state, refused });
    }
  } finally {
    lock.release();
  }
  return out;
}
