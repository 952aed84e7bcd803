/**
 * The owner's decisions on a job: receive, approve, reject, release. Each
 * changes `state.yaml` through the lifecycle in `state.ts`, sets the
 * permission files that go with the new status, and appends to the audit log.
 * @module
 */
import { posix } from "node:path";
import { SyftError } from "../errors/mod.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { appendDecision } from "./audit.ts";
import { inboxJobFolder, type JobKey, jobLabel } from "./layout.ts";
import { datasetsNotShared, notSharedReason } from "./dataset_access.ts";
import { policyHash } from "./policy_hash.ts";
import { lockInbox, readOwnerState, writeJobState, writeReviewPermission } from "./review.ts";
import { refusedMove } from "./moves.ts";
import { canMove, type JobState, moveTo, pendingState } from "./state.ts";
import { type JobCheck, verifyJobFolder } from "./verify.ts";

/** What an owner's decision needs. */
export interface OwnerDesk {
  /** Our datasite folder. */
  datasite: string;
  /** Our email. */
  me: string;
  /** `$SYFT_HOME/audit.log`. */
  auditLog: string;
  /** `$SYFT_HOME/jobs/received`: the owner's whole record of each job (see `receivedRoot`). */
  records: string;
  /** The owner's clock: every time a decision records is taken from it. */
  now: () => number;
  /** Where the datasite, the records and the audit log are read and written. */
  fs: LocalFs;
}

function iso(desk: OwnerDesk): string {
  return new Date(desk.now()).toISOString();
}

/** The job's folder in our inbox. */
export function inboxDir(desk: OwnerDesk, key: JobKey): string {
  return posix.join(desk.datasite, inboxJobFolder(key.submitter, key.id));
}

/** The job's state, or a clear error when we have none. */
export async function requireState(desk: OwnerDesk, key: JobKey): Promise<JobState> {
  const state = await readOwnerState(desk, key);
  if (state === null) {
    throw new SyftError("E_INPUT", `job ${jobLabel(key)} has not been received yet`, {
      hint: "run `syft sync`, then `syft job list`",
    });
  }
  return state;
}

/**
 * Record a job that arrived, with its content hash: the submitter may read
 * `status/` from now on. The caller closed its inbox folder before the check
 * (see {@linkcode closeAndCheck}). A job that fails its check is rejected at
 * once with the reason.
 */
export async function receiveJob(
  desk: OwnerDesk,
  key: JobKey,
  check: Exclude<JobCheck, { kind: "incomplete" }>,
): Promise<JobState> {
  const at = iso(desk);
  const network = check.config?.grants.network ?? false;
  const hash = check.kind === "ok" ? policyHash(check.config) : null;
  let state = pendingState(
    { id: key.id, owner: desk.me, submitter: key.submitter },
    at,
    network,
    hash,
  );
  await writeReviewPermission(desk.datasite, key, false, desk.fs);
  if (check.kind === "bad") {
    state = moveTo(state, {
      status: "rejected",
      at,
      by: desk.me,
      how: "auto",
      reason: check.reason,
    });
  }
  await appendDecision(desk.auditLog, {
    at,
    action: check.kind === "bad" ? "reject" : "receive",
    job: jobLabel(key),
    by: desk.me,
    how: "auto",
    reason: check.kind === "bad" ? check.reason : null,
    policy_hash: hash,
  }, desk.fs);
  await writeJobState(desk, state);
  return state;
}

/**
 * Close a job folder that looks complete to further proposals, then check it
 * again: from here on what is checked is what stays (a received job is
 * immutable; a new version is a new job id). A file gone in between makes it
 * bad, not incomplete, since the folder no longer changes.
 */
export async function closeAndCheck(
  desk: OwnerDesk,
  key: JobKey,
): Promise<Exclude<JobCheck, { kind: "incomplete" }>> {
  await lockInbox(desk.datasite, key, desk.fs);
  const check = await verifyJobFolder(inboxDir(desk, key), key, desk.fs);
  if (check.kind !== "incomplete") return check;
  return { kind: "bad", reason: `files missing: ${check.missing.join(", ")}`, config: null };
}

/**
 * Approve a pending job: check every file again, require the content to be
 * what arrived (and, with `expectHash`, what the owner was shown), require
 * every dataset it names to be shared with its submitter, and pin the hash.
 * A job whose files no longer check is rejected (returned as rejected: the
 * caller says so); a hash the owner did not see, or a dataset not shared,
 * refuses with `E_PERMISSION` and leaves the job pending.
 */
export async function approveJob(
  desk: OwnerDesk,
  key: JobKey,
  how = "manual",
  expectHash: string | null = null,
): Promise<JobState> {
  const state = await requireState(desk, key);
  if (!canMove(state.status, "approved")) {
    const { message, hint } = refusedMove(state.status, "approved", jobLabel(key), key.submitter);
    throw new SyftError("E_INPUT", message, { hint });
  }
  const check = await closeAndCheck(desk, key);
  if (check.kind === "bad") return await rejectJob(desk, key, check.reason, "auto");
  const hash = policyHash(check.config);
  if (state.policy_hash !== null && state.policy_hash !== hash) {
    return await rejectJob(desk, key, "its files changed after it was received", "auto");
  }
  if (expectHash !== null && expectHash.toLowerCase() !== hash) {
    throw new SyftError(
      "E_PERMISSION",
      `job ${jobLabel(key)} has content hash ${hash}, not the ${expectHash} given: not approved`,
      { hint: `review it again with \`syft job show ${jobLabel(key)}\`` },
    );
  }
  const unshared = await datasetsNotShared(
    desk.datasite,
    desk.me,
    key.submitter,
    check.config.datasets,
    desk.fs,
  );
  if (unshared.length > 0) {
    throw new SyftError(
      "E_PERMISSION",
      `job ${jobLabel(key)} cannot be approved: ${notSharedReason(unshared, key.submitter)}`,
      {
        hint: `share it (syft perm grant public/syft_datasets/${unshared[0]}/ ${key.submitter}) ` +
          `or reject the job`,
      },
    );
  }
  const at = iso(desk);
  const next = moveTo(
    state,
    { status: "approved", at, by: desk.me, how, reason: null },
    { policy_hash: hash },
  );
  await appendDecision(desk.auditLog, {
    at,
    action: "approve",
    job: jobLabel(key),
    by: desk.me,
    how,
    policy_hash: hash,
  }, desk.fs);
  await writeJobState(desk, next);
  return next;
}

/** Reject a pending or approved job, with a reason the submitter reads. */
export async function rejectJob(
  desk: OwnerDesk,
  key: JobKey,
  reason: string | null,
  how = "manual",
): Promise<JobState> {
  const state = await requireState(desk, key);
  const at = iso(desk);
  const next = moveTo(state, { status: "rejected", at, by: desk.me, how, reason });
  await lockInbox(desk.datasite, key, desk.fs);
  await appendDecision(desk.auditLog, {
    at,
    action: "reject",
    job: jobLabel(key),
    by: desk.me,
    how,
    reason,
    policy_hash: state.policy_hash,
  }, desk.fs);
  await writeJobState(desk, next);
  return next;
}

/** Release a finished job: the submitter may now read its logs and outputs. */
export async function releaseJob(desk: OwnerDesk, key: JobKey, how = "manual"): Promise<JobState> {
  const state = await requireState(desk, key);
  const at = iso(desk);
  const next = moveTo(state, { status: "released", at, by: desk.me, how, reason: null });
  // The grant goes first: a crash in between leaves a done job whose outputs
  // are readable, which `job release` again completes; the other order could
  // record "released" with nothing readable.
  await writeReviewPermission(desk.datasite, key, true, desk.fs);
  // The line before the record: a crash between them leaves a job still
  // "done" whose release is logged, which `job release` again completes
  // without a second line; the other order could leave a release unlogged.
  await appendDecision(desk.auditLog, {
    at,
    action: "release",
    job: jobLabel(key),
    by: desk.me,
    how,
    policy_hash: state.policy_hash,
  }, desk.fs);
  await writeJobState(desk, next);
  return next;
}
