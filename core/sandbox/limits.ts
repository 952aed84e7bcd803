/**
 * Pure builders of the privilege drop (`setpriv`) and resource limit (`prlimit`)
 * prefixes that go in front of bubblewrap (or of bash, without a sandbox).
 * @module
 */

/** The unprivileged uid/gid of `nobody`: the reachability test of a path for "any other user". */
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
  /** RLIMIT_AS in bytes: the memory cap when no cgroup can hold it. */
  asBytes?: number;
}

/** The limits of a job with these caps, given how many processes its uid runs already. */
export function jobLimits(input: {
  timeoutMs: number;
  maxOutputBytes: number;
  maxLogBytes: number;
  dropTo?: number;
  existingProcesses: number;
  asBytes?: number;
}): LimitPlan {
  const plan: LimitPlan = {
    // As a normal user the limit counts the user's desktop too; allow that plus our share.
    nproc: input.existingProcesses + JOB_PROCESSES,
    // +1 page so "wrote more than the cap" stays visible to the log check.
    fsizeBytes: Math.max(input.maxOutputBytes, input.maxLogBytes + 4096, 1 << 20),
    cpuSeconds: Math.ceil(input.timeoutMs / 1000) + 2,
  };
  if (input.dropTo !== undefined) plan.dropTo = input.dropTo;
  if (input.asBytes !== undefined) plan.asBytes = input.asBytes;
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
    ...(plan.asBytes === undefined ? [] : [`--as=${plan.asBytes}`]),
    "--",
  );
  return argv;
}

/**
 * The root-side start of a run, before the uid drop: join the run's memory
 * cgroup (`$1`, or empty), then, in the private mount namespace `unshare` made,
 * bind the run's 0700 stage folder (`$2`, or empty) over `/tmp`, and further
 * host folders (pairs of source and path under it, ended by `--`) into it.
 * The stage lies under `$SYFT_HOME`, which the run's uid cannot traverse; seen
 * at `/tmp` in this namespace alone, it is reachable by that uid and by no
 * other user, and nothing is copied for the binds (a venv).
 */
export const ROOT_PRELUDE = [
  "set -e",
  "cg=$1; stage=$2; shift 2",
  'if [ -n "$cg" ]; then echo $$ > "$cg/cgroup.procs"; fi',
  // Binds into the stage first (their sources may lie under /tmp), then the whole stage.
  'while [ "$1" != "--" ]; do mount --bind -- "$1" "$stage/$2"; shift 2; done',
  "shift",
  'if [ -n "$stage" ]; then mount --rbind -- "$stage" /tmp; fi',
  'exec "$@"',
].join("\n");

/** Where the stage folder is seen once {@linkcode ROOT_PRELUDE} bound it. */
export const STAGE_MOUNT = "/tmp";

/** The argv prefix that runs {@linkcode ROOT_PRELUDE}; empty when there is nothing to do. */
export function preludePrefix(input: {
  cgroup?: string;
  stage?: string;
  binds?: ReadonlyArray<{ src: string; rel: string }>;
}): string[] {
  if (input.cgroup === undefined && input.stage === undefined) return [];
  const binds = input.stage === undefined ? [] : (input.binds ?? []).flatMap((b) => [b.src, b.rel]);
  const prelude = [
    "bash",
    "-c",
    ROOT_PRELUDE,
    "syft-prelude",
    input.cgroup ?? "",
    input.stage ?? "",
    ...binds,
    "--",
  ];
  return input.stage === undefined
    ? prelude
    : ["unshare", "--mount", "--propagation", "private", "--", ...prelude];
}
