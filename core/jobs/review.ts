/**
 * The owner's writes for a job: its whole record under `$SYFT_HOME` (never
 * synced), then the submitter's view in `status/state.yaml` and the empty
 * marker named after the status (so a shell can test a file), the permission
 * file that lets the submitter read `status/` (and everything after release),
 * and the inbox lock from receipt on.
 * @module
 */
import { posix } from "node:path";
import { PERMISSION_FILE } from "../datasite/names.ts";
import { writeFileAtomic } from "../fs/atomic.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import {
  inboxJobFolder,
  inboxLockText,
  type JobKey,
  REVIEW_FILES,
  reviewJobFolder,
  reviewPermissionText,
} from "./layout.ts";
import { type JobState, parseJobState, publicStateText, serializeJobState } from "./state.ts";

/** Where an owner keeps its records of received jobs: `$SYFT_HOME/jobs/received`. */
export function receivedRoot(home: string): string {
  return posix.join(home, "jobs", "received");
}

/** Where the owner's files of jobs are, and the file system they are on (the disk by default). */
export interface JobPlace {
  datasite: string;
  records: string;
  fs?: LocalFs | undefined;
}

/** The owner's whole record of one job (0600, never synced). */
export function ownerStateFile(records: string, key: JobKey): string {
  return posix.join(records, key.submitter, key.id, "state.yaml");
}

async function readStateFile(file: string, fs: LocalFs): Promise<JobState | null> {
  let text: string;
  try {
    text = await fs.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  return parseJobState(text, file);
}

/** Read the state a datasite shares (own or a mirror): the submitter's view; null when none yet. */
export function readJobState(
  datasite: string,
  key: JobKey,
  fs: LocalFs = denoFs,
): Promise<JobState | null> {
  return readStateFile(
    posix.join(datasite, reviewJobFolder(key.submitter, key.id), REVIEW_FILES.state),
    fs,
  );
}

/**
 * The owner's state of a job: its own record, or (for a job received before
 * records were kept under the home) the one in the datasite.
 */
export async function readOwnerState(where: JobPlace, key: JobKey): Promise<JobState | null> {
  const fs = where.fs ?? denoFs;
  return await readStateFile(ownerStateFile(where.records, key), fs) ??
    await readJobState(where.datasite, key, fs);
}

/** Write the owner's record, then the submitter's view, then the status marker. */
export async function writeJobState(where: JobPlace, state: JobState): Promise<void> {
  const fs = where.fs ?? denoFs;
  const record = ownerStateFile(where.records, state);
  await fs.mkdir(posix.dirname(record), { recursive: true, mode: 0o700 });
  await writeFileAtomic(record, serializeJobState(state), { mode: 0o600, fs });
  const dir = posix.join(where.datasite, reviewJobFolder(state.submitter, state.id));
  const statusDir = posix.join(dir, "status");
  await fs.mkdir(statusDir, { recursive: true });
  await writeFileAtomic(posix.join(dir, REVIEW_FILES.state), publicStateText(state), { fs });
  if (state.status !== "pending") {
    await writeFileAtomic(posix.join(statusDir, state.status), "", { fs });
  }
}

/** Write the review folder's permission file (status only, or everything once released). */
export async function writeReviewPermission(
  datasite: string,
  key: JobKey,
  released: boolean,
  fs: LocalFs = denoFs,
): Promise<void> {
  const dir = posix.join(datasite, reviewJobFolder(key.submitter, key.id));
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(
    posix.join(dir, PERMISSION_FILE),
    reviewPermissionText(key.submitter, released),
    { fs },
  );
}

/** Close the job's inbox folder to further proposals. */
export async function lockInbox(
  datasite: string,
  key: JobKey,
  fs: LocalFs = denoFs,
): Promise<void> {
  const file = posix.join(datasite, inboxJobFolder(key.submitter, key.id), PERMISSION_FILE);
  await writeFileAtomic(file, inboxLockText(), { fs });
}

/**
 * Make the datasite's view of a job match the owner's record when it does
 * not: after a crash between the two writes, or for a state an older syft
 * wrote whole into the datasite (return code, skipped outputs), which then
 * becomes the owner's record. Only the view is written: the record is never
 * rewritten from here, so a decision landing meanwhile is not undone (its own
 * view write, or the next pass, wins). Returns whether it wrote.
 */
export async function republishJobState(where: JobPlace, state: JobState): Promise<boolean> {
  const fs = where.fs ?? denoFs;
  const dir = posix.join(where.datasite, reviewJobFolder(state.submitter, state.id));
  const file = posix.join(dir, REVIEW_FILES.state);
  const view = publicStateText(state);
  if (await fs.readTextFile(file).catch(() => null) === view) return false;
  const record = ownerStateFile(where.records, state);
  await fs.mkdir(posix.dirname(record), { recursive: true, mode: 0o700 });
  await writeFileAtomic(record, serializeJobState(state), { mode: 0o600, createOnly: true, fs })
    .catch((err) => {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    });
  await fs.mkdir(posix.join(dir, "status"), { recursive: true });
  await writeFileAtomic(file, view, { fs });
  if (state.status !== "pending") {
    await writeFileAtomic(posix.join(dir, "status", state.status), "", { fs });
  }
  return true;
}
