/**
 * Pure builders of the privilege drop (`setpriv`) and resource limit (`prlimit`)
 * prefixes that go in front of bubblewrap (or of bash, without a sandbox).
 * @module
 */

/** The unprivileged uid/gid a job runs as when syft itself runs as root. */
export const NOBODY = 65534;

/** Extra processes a job may have on top of what its uid already runs. */
export const JOB_PROCESSES = 256;

/** Resource limits for one sandboxed run. */
export interface LimitPlan {
  /** Drop to this uid/gid first (set when running as root). */
  dropTo?: number;
  /** RLIMIT_NPROC: counts every process of the real uid, so a fork bomb stops here. */
  nproc: number;
  /** RLIMIT_FSIZE in bytes: no single file may grow past the biggest cap. */
  fsizeBytes: number;
  /** RLIMIT_CPU in seconds, per process: a backstop behind the wall-clock timeout. */
  cpuSeconds: number;
}

/** The limits of a job with these caps, given how many processes its uid runs already. */
export function jobLimits(input: {
  timeoutMs: number;
  maxOutputBytes: number;
  maxLogBytes: number;
  dropTo?: number;
  existingProcesses: number;
}): LimitPlan {
  const plan: LimitPlan = {
    // As a normal user the limit counts the user's desktop too; allow that plus our share.
    nproc: input.existingProcesses + JOB_PROCESSES,
    // +1 page so "wrote more than the cap" stays visible to the log check.
    fsizeBytes: Math.max(input.maxOutputBytes, input.maxLogBytes + 4096, 1 << 20),
    cpuSeconds: Math.ceil(input.timeoutMs / 1000) + 2,
  };
  if (input.dropTo !== undefined) plan.dropTo = input.dropTo;
  return plan;
}

/**
 * The argv prefix: `setpriv` (when dropping root) then `prlimit`, each ending in
 * `--` so the next program's flags are never read as theirs.
 */
export function limitPrefix(plan: LimitPlan): string[] {
  const argv: string[] = [];
  if (plan.dropTo !== undefined) {
    argv.push(
      "setpriv",
      `--reuid=${plan.dropTo}`,
      `--regid=${plan.dropTo}`,
      "--clear-groups",
      // A setuid file in the job's reach must never give root back.
      "--no-new-privs",
      "--",
    );
  }
  argv.push(
    "prlimit",
    `--nproc=${plan.nproc}`,
    `--fsize=${plan.fsizeBytes}`,
    `--cpu=${plan.cpuSeconds}`,
    "--core=0",
    "--",
  );
  return argv;
}
