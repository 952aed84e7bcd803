/**
 * The seam between the job runner (`core/jobs/runner.ts`) and what executes a
 * job: given the prepared code folder, the datasets' folders, the outputs
 * folder and the limits, a {@linkcode JobRunner} leaves `outputs/`,
 * `stdout.txt` and `stderr.txt` in `spec.outDir` and returns how the run went.
 * The sandbox ({@linkcode sandboxRunner}) is the one every command uses; a
 * test or the simulation passes a stub that writes through an in-memory file
 * system instead, so a whole job's life runs without a disk or a process.
 * @module
 */
import { installPythonDeps, type PythonInstallSpec } from "./python_env.ts";
import { type JobRunResult, type JobRunSpec, runJob } from "./run.ts";

/** Runs a prepared job, and builds a Python job's packages first when it has any. */
export interface JobRunner {
  /**
   * Run `spec.entrypoint` in `spec.codeDir`; `spec.outDir` must not exist and
   * ends holding the outputs and logs. A job that fails is a result, not a throw.
   */
  run(spec: JobRunSpec): Promise<JobRunResult>;
  /** Create `spec.venvDir` with the job's dependencies; `log` says why when not `ok`. */
  installPython(spec: PythonInstallSpec): Promise<{ ok: boolean; log: string }>;
}

/** The real runner: bubblewrap (or none, when the owner opted out), on the disk. */
export const sandboxRunner: JobRunner = {
  run: runJob,
  installPython: installPythonDeps,
};
