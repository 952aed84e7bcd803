/**
 * Running jobs from the CLI: pick the sandbox (`--sandbox auto|bwrap|none`),
 * hold the runner lock so one job runs once, run, and release when asked
 * (`job run --release`, or the policy that approved it).
 * @module
 */
import { posix } from "node:path";
import type { Config } from "../core/config/config.ts";
import { homeLayout } from "../core/config/home.ts";
import { datasiteDir } from "../core/datasite/layout.ts";
import { SyftError } from "../core/errors/mod.ts";
import {
  type JobKey,
  jobLabel,
  type JobOutcome,
  jobOutcome,
  type JobState,
  type OwnerDesk,
  receivedRoot,
  releaseJob,
  removeStaleRuns,
  requireState,
  runApprovedJob,
  type RunnerOptions,
} from "../core/jobs/mod.ts";
import { requireBubblewrap, type SandboxMode } from "../core/sandbox/mod.ts";
import { acquireRoundLock } from "../core/sync/lock.ts";
import type { Context } from "./context.ts";

/** `--sandbox` values. */
export type SandboxChoice = "auto" | "bwrap" | "none";

/** The owner's desk for this home. */
export function ownerDesk(ctx: Context, config: Config): OwnerDesk {
  return {
    datasite: datasiteDir(config.root, config.email),
    me: config.email,
    auditLog: homeLayout(ctx.home).auditLog,
    records: receivedRoot(ctx.home),
    now: () => Date.now(),
  };
}

/** Parse `--sandbox`. */
export function parseSandboxChoice(raw: string | undefined): SandboxChoice {
  const v = raw ?? "auto";
  if (v !== "auto" && v !== "bwrap" && v !== "none") {
    throw new SyftError("E_USAGE", `--sandbox ${JSON.stringify(v)} is not auto, bwrap or none`, {
      hint: "use --sandbox auto (the default)",
    });
  }
  return v;
}

/**
 * The sandbox to use. Without a working bubblewrap nothing runs (exit 5)
 * unless the owner opted out with `--sandbox none`, which is loud.
 */
export async function resolveSandbox(ctx: Context, choice: SandboxChoice): Promise<SandboxMode> {
  if (choice === "none") {
    ctx.out.warn(
      "running WITHOUT a sandbox (--sandbox none): the job can read, change and send anything " +
        "this user can; this is recorded in the job's state",
    );
    return "none";
  }
  // The runner asks again before each run; the answer is kept for the process.
  await requireBubblewrap();
  return "bwrap";
}

/** Runner options from flags and config. */
export function runnerOptions(
  ctx: Context,
  config: Config,
  mode: SandboxMode,
  flags: { timeoutS?: number; maxOutputMiB?: number; findLinks?: readonly string[] },
): RunnerOptions {
  return {
    mode,
    ...(flags.timeoutS === undefined ? {} : { timeoutS: flags.timeoutS }),
    maxOutputBytes: (flags.maxOutputMiB ?? 100) * 1024 * 1024,
    scratchDir: posix.join(ctx.home, "cache", "runs"),
    ...(config.jobs.python_index === null ? {} : { pythonIndex: config.jobs.python_index }),
    findLinks: flags.findLinks ?? [],
    scratchBytes: config.sandbox.scratch_mib * 1024 * 1024,
    memoryBytes: config.sandbox.memory_mib * 1024 * 1024,
  };
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

/** Where a job stands after a run, as its owner sees it. */
export function runOutcome(o: RunOutcome): JobOutcome {
  return jobOutcome({
    owner: o.state.owner,
    viewer: "owner",
    state: o.state,
    returncode: o.state.run?.returncode ?? null,
  });
}

/** One job run, as reported. */
export interface RunOutcome {
  key: JobKey;
  state: JobState;
  /** Why the job was refused before it ran, or null. */
  refused: string | null;
}

/**
 * Run jobs one after another under the runner lock (`state/jobs.lock`): a
 * second `job run`, or a sync applying a policy, waits instead of running a
 * job twice. Each job's state is read again under the lock.
 */
export async function runJobs(
  ctx: Context,
  desk: OwnerDesk,
  keys: readonly JobKey[],
  options: RunnerOptions,
  release: (key: JobKey) => string | null,
): Promise<RunOutcome[]> {
  const lock = await acquireRoundLock(homeLayout(ctx.home).state, {
    name: "jobs.lock",
    timeoutMs: 24 * 3600_000,
    onWait: () => ctx.out.note("another job is running under this home; waiting for it"),
  });
  const out: RunOutcome[] = [];
  try {
    await removeStaleRuns(desk, options.scratchDir);
    for (const key of keys) {
      // Read again under the lock: a `job run` we waited for may have run it.
      const now = await requireState(desk, key);
      if (now.status !== "approved" && now.status !== "running") {
        ctx.out.note(`job ${jobLabel(key)} is ${now.status} now; not running it again`);
        continue;
      }
      const how = release(key);
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
