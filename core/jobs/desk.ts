/**
 * The owner's decisions on a job: receive, approve, reject, release. Each
 * changes `state.yaml` through the lifecycle in `state.ts`, sets the
 * permission files that go with the new status, and appends to the audit log.
 * @module
 */
import { posix } from "node:path";
import { SyftError } from "../errors/mod.ts";
import { appendAudit } from "./audit.ts";
import { inboxJobFolder, type JobKey, jobLabel } from "./layout.ts";
import { policyHash } from "./policy_hash.ts";
import { lockInbox, readJobState, writeJobState, writeReviewPermission } from "./review.ts";
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
  now: () => number;
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
  const state = await readJobState(desk.datasite, key);
  if (state === null) {
    throw new SyftError("E_INPUT", `job ${jobLabel(key)} has not been received yet`, {
      hint: "run `syft sync`, then `syft job list`",
    });
  }
  return state;
}

/**
 * Record a job that arrived: the submitter may read `status/` from now on.
 * A job that fails its check is rejected at once with the reason.
 */
export async function receiveJob(
  desk: OwnerDesk,
  key: JobKey,
  check: Exclude<JobCheck, { kind: "incomplete" }>,
): Promise<JobState> {
  const at = iso(desk);
  const network = check.config?.grants.network ?? false;
  let state = pendingState({ id: key.id, owner: desk.me, submitter: key.submitter }, at, network);
  await writeReviewPermission(desk.datasite, key, false);
  if (check.kind === "bad") {
    await lockInbox(desk.datasite, key);
    state = moveTo(state, {
      status: "rejected",
      at,
      by: desk.me,
      how: "auto",
      reason: check.reason,
    });
  }
  await writeJobState(desk.datasite, state);
  await appendAudit(desk.auditLog, {
    at,
    action: check.kind === "bad" ? "reject" : "receive",
    job: jobLabel(key),
    by: desk.me,
    how: "auto",
    reason: check.kind === "bad" ? check.reason : null,
  });
  return state;
}

/**
 * Approve a pending job: close its inbox folder first (so nothing changes
 * after the check), check every file again, and pin the policy hash.
 */
export async function approveJob(
  desk: OwnerDesk,
  key: JobKey,
  how = "manual",
): Promise<JobState> {
  const state = await requireState(desk, key);
  if (!canMove(state.status, "approved")) {
    throw new SyftError("E_INPUT", `job ${jobLabel(key)} is ${state.status}, not pending`, {
      hint: `see it with \`syft job show ${jobLabel(key)}\``,
    });
  }
  await lockInbox(desk.datasite, key);
  const check = await verifyJobFolder(inboxDir(desk, key), key);
  if (check.kind !== "ok") {
    const reason = check.kind === "bad"
      ? check.reason
      : `files missing: ${check.missing.join(", ")}`;
    return await rejectJob(desk, key, reason, "auto");
  }
  const hash = policyHash(check.config);
  const at = iso(desk);
  const next = moveTo(
    state,
    { status: "approved", at, by: desk.me, how, reason: null },
    { policy_hash: hash },
  );
  await writeJobState(desk.datasite, next);
  await appendAudit(desk.auditLog, {
    at,
    action: "approve",
    job: jobLabel(key),
    by: desk.me,
    how,
    policy_hash: hash,
  });
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
  await lockInbox(desk.datasite, key);
  await writeJobState(desk.datasite, next);
  await appendAudit(desk.auditLog, {
    at,
    action: "reject",
    job: jobLabel(key),
    by: desk.me,
    how,
    reason,
  });
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
  await writeReviewPermission(desk.datasite, key, true);
  await writeJobState(desk.datasite, next);
  await appendAudit(desk.auditLog, { at, action: "release", job: jobLabel(key), by: desk.me, how });
  return next;
}
