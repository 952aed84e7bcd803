/**
 * `syft job try`, the pure parts: which kind of job a path is (as `job submit`
 * would send it), the default folder a try writes to, and how a try ended.
 * @module
 */
import { posix } from "node:path";
import type { JobSource } from "./submit.ts";

/**
 * The source `job submit` would build from `path`: a folder is `--dir` (or
 * `--python` when it has main.py and no run.sh), a `.py` file `--python`,
 * anything else `--script`.
 */
export function trySource(
  path: string,
  found: { isDirectory: boolean; hasRunSh: boolean; hasMainPy: boolean },
  dependencies: readonly string[],
): JobSource {
  if (found.isDirectory) {
    return !found.hasRunSh && found.hasMainPy
      ? { kind: "python", path, dependencies: [...dependencies] }
      : { kind: "dir", path };
  }
  if (path.endsWith(".py")) return { kind: "python", path, dependencies: [...dependencies] };
  return { kind: "script", path };
}

/** The job's name, as `job submit` names it: the file or folder name without .sh or .py. */
export function tryName(path: string): string {
  return posix.basename(path).replace(/\.(sh|py)$/, "") || "job";
}

/** `syft-try-<name>-<UTC time>`: a new folder per try that sorts by time. */
export function tryFolderName(name: string, at: Date): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
  const time = at.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
  return `syft-try-${slug || "job"}-${time}`;
}

/** How a run went, as the runner's result tells it. */
export interface TryRun {
  returncode: number | null;
  timedOut: boolean;
  outputsTruncated: boolean;
  error?: string | undefined;
}

/** Why a try failed, in one clause; null when the script succeeded. */
export function tryFailure(run: TryRun, timeoutS: number): string | null {
  if (run.error) return run.error;
  if (run.timedOut) return `timed out after ${timeoutS} s`;
  if (run.outputsTruncated) return "its outputs exceeded the size limit";
  if (run.returncode !== 0) return `exited with code ${run.returncode ?? "none"}`;
  return null;
}
