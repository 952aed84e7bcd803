/**
 * Where a job lives in a datasite, and the permission files that make the
 * review folder visible step by step: `status/` to the submitter at receipt,
 * everything after release; the inbox folder closed once the job left pending.
 * @module
 */
import { posix } from "node:path";

/** Datasite-relative folder a submitter writes a job into. */
export function inboxJobFolder(submitter: string, id: string): string {
  return `app_data/job/inbox/${submitter}/${id}`;
}

/** Datasite-relative folder where the owner records state, logs and outputs. */
export function reviewJobFolder(submitter: string, id: string): string {
  return `app_data/job/review/${submitter}/${id}`;
}

/** The inbox root (holds one folder per submitter). */
export const INBOX_ROOT = "app_data/job/inbox";
/** The policy file's name under `$SYFT_HOME` (core/jobs/policies.ts reads it). */
export const POLICY_FILE = "job_policies.yaml";
/** The review root. */
export const REVIEW_ROOT = "app_data/job/review";

/** Files of a review folder. */
export const REVIEW_FILES = {
  state: "status/state.yaml",
  stdout: "stdout.txt",
  stderr: "stderr.txt",
  returncode: "returncode.txt",
  outputs: "outputs",
} as const;

/** A job as the owner names it: its submitter and id. */
export interface JobKey {
  submitter: string;
  id: string;
}

/** `<submitter>/<id>`, the unambiguous spelling. */
export function jobLabel(key: JobKey): string {
  return `${key.submitter}/${key.id}`;
}

/**
 * The review folder's permission file. Before release the submitter reads only
 * `status/`; release adds `**`. Nobody else reads anything of the job.
 */
export function reviewPermissionText(submitter: string, released: boolean): string {
  const lines = [
    `# Written by syft for the job ${submitter} sent: they see its state at once,`,
    "# and its logs and outputs only after you release it (syft job release).",
    "rules:",
    "  - pattern: 'status/**'",
    "    access:",
    `      read: ['${submitter}']`,
  ];
  if (released) {
    lines.push("  - pattern: '**'", "    access:", `      read: ['${submitter}']`);
  }
  return [...lines, ""].join("\n");
}

/**
 * Written into `inbox/<ds>/<id>/` when a job leaves pending: the deepest
 * permission file governs, and this one grants nobody, so every later proposal
 * touching the folder is rejected (the code that was approved stays as it was).
 */
export function inboxLockText(): string {
  return [
    "# Written by syft when this job left pending: the submitter can no longer change it.",
    "rules: []",
    "",
  ].join("\n");
}

/** Absolute path of a datasite-relative path. */
export function under(datasite: string, rel: string): string {
  return posix.join(datasite, rel);
}
