/**
 * After a sync round: record every job that arrived (the submitter sees
 * `pending`, or `rejected` with the reason), and approve the pending jobs an
 * auto-approval policy covers. Running those is the caller's (it knows the
 * sandbox settings).
 * @module
 */
import { isSyftError } from "../errors/mod.ts";
import { ownerJobs } from "./catalog.ts";
import { approveJob, inboxDir, type OwnerDesk, receiveJob } from "./desk.ts";
import { type JobKey, jobLabel } from "./layout.ts";
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
}

/** One pass over our inbox. `peers` are the accepted peers (others' folders wait). */
export async function intakeJobs(
  desk: OwnerDesk,
  root: string,
  peers: ReadonlySet<string>,
  policies: readonly JobPolicy[],
): Promise<IntakeResult> {
  const result: IntakeResult = { received: [], rejected: [], byPolicy: [], problems: [] };
  for (const entry of await ownerJobs(root, desk.me)) {
    const key = entry.key;
    if (!peers.has(key.submitter)) continue;
    try {
      let status = entry.state?.status ?? null;
      if (entry.stateProblem !== null) {
        result.problems.push(`job ${jobLabel(key)}: ${entry.stateProblem}`);
        continue;
      }
      if (entry.state === null) {
        const check = await verifyJobFolder(inboxDir(desk, key), key);
        if (check.kind === "incomplete") continue;
        const state = await receiveJob(desk, key, check);
        status = state.status;
        if (state.status === "rejected") {
          result.rejected.push({ key, reason: check.kind === "bad" ? check.reason : "" });
        } else result.received.push(key);
      }
      if (status !== "pending" || policies.length === 0) continue;
      const check = await verifyJobFolder(inboxDir(desk, key), key);
      if (check.kind !== "ok") continue;
      const policy = matchPolicy(policies, policyHash(check.config), key.submitter);
      if (policy === null) continue;
      const approved = await approveJob(desk, key, `policy:${policy.name}`);
      if (approved.status === "approved") result.byPolicy.push({ key, policy: policy.name });
    } catch (err) {
      if (!isSyftError(err)) throw err;
      result.problems.push(`job ${jobLabel(key)}: ${err.message}`);
    }
  }
  return result;
}
