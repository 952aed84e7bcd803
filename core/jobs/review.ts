/**
 * The owner's writes to a job's review folder: `status/state.yaml` first, then
 * the empty marker named after the status (so a shell can test a file), the
 * permission file that lets the submitter read `status/` (and everything
 * after release), and the inbox lock once the job left pending.
 * @module
 */
import { posix } from "node:path";
import { writeFileAtomic } from "../fs/atomic.ts";
import {
  inboxJobFolder,
  inboxLockText,
  type JobKey,
  REVIEW_FILES,
  reviewJobFolder,
  reviewPermissionText,
} from "./layout.ts";
import { type JobState, parseJobState, serializeJobState } from "./state.ts";

/** Read a job's state from a datasite (own or a mirror); null when there is none yet. */
export async function readJobState(datasite: string, key: JobKey): Promise<JobState | null> {
  const file = posix.join(datasite, reviewJobFolder(key.submitter, key.id), REVIEW_FILES.state);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  return parseJobState(text, file);
}

/** Write `state.yaml`, then the status marker. */
export async function writeJobState(datasite: string, state: JobState): Promise<void> {
  const dir = posix.join(datasite, reviewJobFolder(state.submitter, state.id));
  const statusDir = posix.join(dir, "status");
  await Deno.mkdir(statusDir, { recursive: true });
  await writeFileAtomic(posix.join(dir, REVIEW_FILES.state), serializeJobState(state));
  if (state.status !== "pending") {
    await writeFileAtomic(posix.join(statusDir, state.status), "");
  }
}

/** Write the review folder's permission file (status only, or everything once released). */
export async function writeReviewPermission(
  datasite: string,
  key: JobKey,
  released: boolean,
): Promise<void> {
  const dir = posix.join(datasite, reviewJobFolder(key.submitter, key.id));
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(
    posix.join(dir, "syft.pub.yaml"),
    reviewPermissionText(key.submitter, released),
  );
}

/** Close the job's inbox folder to further proposals. */
export async function lockInbox(datasite: string, key: JobKey): Promise<void> {
  const file = posix.join(datasite, inboxJobFolder(key.submitter, key.id), "syft.pub.yaml");
  await writeFileAtomic(file, inboxLockText());
}
