/**
 * The job sandbox: run an approved job's entrypoint under bubblewrap (or, when the
 * owner opts out, without isolation), and build its python venv.
 * @module
 */

export {
  type JobRunResult,
  type JobRunSpec,
  noRun,
  requireBubblewrap,
  runJob,
  type SandboxMode,
} from "./run.ts";
export { installPythonDeps, type PythonInstallSpec } from "./python_env.ts";
export { type JobRunner, sandboxRunner } from "./job_runner.ts";
export { datasetEnvName } from "./bwrap_args.ts";
export { probeBubblewrap, type SandboxProbe } from "./probe.ts";
export { describeMemoryCap } from "./memory_cap.ts";
