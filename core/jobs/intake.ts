/**
 * After a sync round: record every job that arrived (the submitter sees
 * `pending`, or `rejected` with the reason), closing its folder so it never
 * changes after, and approve those an
 * auto-approval policy covers. A policy applies to jobs that arrive after it;
 * one already pending waits for the owner. Running those is the caller's (it knows the
 * sandbox settings).
 * @module
 */
import { describeError, isSyftError } from "../errors/mod.ts";
import { ownerJobs } from "./catalog.ts";
import { datasetsNotShared, notSharedReason } from "./dataset_access.ts";
import { approveJob, closeAndCheck, inboxDir, type OwnerDesk, receiveJob } from "./desk.ts";
import { type JobKey, jobLabel } from "./layout.ts";
import { republishJobState } from "./review.ts";
import { type JobPolicy, matchPolicy } from "./policies.ts";
import { policyHash } from "./policy_hash.ts";
import { verifyJobFolder } from "./verify.ts";

/** What an intake pass did. */
export interface IntakeResult {
  received: JobKey[];
  rejected: Array<{ key: JobKey; reason: string }>;
  /** Approved by a policy just now: run and release them. */
  byPolicy: Array<{ key: JobKey; policy: string }>;
  problems: string[];
  /** Jobs whose shared view was rewritten to match the owner's record. */
  republished: JobKey[];
}

/** One pass over our inbox. `peers` are the accepted peers (others' folders wait). */
export async function intakeJobs(
  desk: OwnerDesk,
  root: string,
  peers: ReadonlySet<string>,
  policies: readonly JobPolicy[],
): Promise<IntakeResult> {
  const result: IntakeResult = {
    received: [],
    rejected: [],
    byPolicy: [],
    problems: [],
    republished: [],
  };
  for (const entry of await ownerJobs(root, desk.me, desk.records, desk.fs)) {
    const key = entry.key;
    // Only new arrivals are checked: a pending job is hashed once, not every round.
    if (entry.state !== null) {
      try {
        if (await republishJobState(desk, entry.state)) result.republished.push(key);
      } catch (err) {
        result.problems.push(`job ${jobLabel(key)}: ${describeError(err)}`);
      }
      continue;
    }
    if (!peers.has(key.submitter)) continue;
    if (entry.stateProblem !== null) {
      result.problems.push(`job ${jobLabel(key)}: ${entry.stateProblem}`);
      continue;
    }
    try {
      // Still arriving: left open for the rest of its files.
      if ((await verifyJobFolder(inboxDir(desk, key), key, desk.fs)).kind === "incomplete") {
        continue;
      }
      let check = await closeAndCheck(desk, key);
      const unshared = check.kind === "ok"
        ? await datasetsNotShared(
          desk.datasite,
          desk.me,
          key.submitter,
          check.config.datasets,
          desk.fs,
        )
        : [];
      if (unshared.length > 0 && check.kind === "ok") {
        // Said at once, rather than when the owner runs it.
        check = {
          kind: "bad",
          reason: notSharedReason(unshared, key.submitter),
          config: check.config,
        };
      }
      const state = await receiveJob(desk, key, check);
      if (check.kind === "bad") {
        result.rejected.push({ key, reason: check.reason });
        continue;
      }
      result.received.push(key);
      const policy = matchPolicy(policies, policyHash(check.config), key.submitter);
      if (policy === null || state.status !== "pending") continue;
      const approved = await approveJob(desk, key, `policy:${policy.name}`);
      if (approved.status === "approved") result.byPolicy.push({ key, policy: policy.name });
    } catch (err) {
      if (!isSyftError(err)) throw err;
      result.problems.push(`job ${jobLabel(key)}: ${err.message}`);
    }
  }
  return result;
}
