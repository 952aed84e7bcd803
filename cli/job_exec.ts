/**
 * Running jobs from the CLI: pick the sandbox (`--sandbox auto|bwrap|none`),
 * hold the runner lock so one job runs once, run, and release when asked
 * (`job run --release`, or the policy that approved it).
 * @module
 */
import type { Config } from "../core/config/config.ts";
import { SyftError } from "../core/errors/mod.ts";
import type { JobKey, OwnerDesk, RunnerOptions } from "../core/jobs/mod.ts";
import * as batch from "../core/jobs/run_batch.ts";
import { requireBubblewrap, type SandboxMode } from "../core/sandbox/mod.ts";
import type { Context } from "./context.ts";

export { describeOutcome, type RunOutcome, runOutcome } from "../core/jobs/run_batch.ts";

/** `--sandbox` values. */
export type SandboxChoice = "auto" | "bwrap" | "none";

/** The owner's desk for this home. */
export function ownerDesk(ctx: Context, config: Config): OwnerDesk {
  return batch.ownerDesk(ctx.home, config);
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
  return batch.runnerOptions(ctx.home, config, mode, flags);
}

/** Run jobs one after another under the runner lock; its notes go to the output. */
export function runJobs(
  ctx: Context,
  desk: OwnerDesk,
  keys: readonly JobKey[],
  options: RunnerOptions,
  release: (key: JobKey) => string | null,
): Promise<batch.RunOutcome[]> {
  return batch.runJobs({
    home: ctx.home,
    desk,
    keys,
    options,
    release,
    note: (m) => ctx.out.note(m),
  });
}
