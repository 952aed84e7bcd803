/**
 * The statuses a job can be in (docs/cli.md), on their own so the state machine and
 * the sentences about its refused moves can both name them without importing
 * each other.
 * @module
 */

/** Every status of docs/cli.md. */
export const JOB_STATUSES = [
  "pending",
  "approved",
  "rejected",
  "running",
  "done",
  "failed",
  "released",
] as const;

/** A job's status. */
export type JobStatus = typeof JOB_STATUSES[number];
