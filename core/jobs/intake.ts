/**
 * After a sync round: record every job that arrived (the submitter sees
 * `pending`, or `rejected` with the reason), and approve those an
 * auto-approval policy covers. A policy applies to jobs that arrive after it;
 * one already pending waits for the owner. Running those is the caller's (it knows the
 * sandbox settings).
 * @module
 */
import { posix } from "node:path";
import { privateFolder } from "../datasets/mod.ts";
import { isSyftError } from "../errors/mod.ts";
import type { JobConfig } from "./config.ts";
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

/** Datasets a job names that have no private folder in our datasite. */
async function missingDatasets(desk: OwnerDesk, config: JobConfig): Promise<string[]> {
  const out: string[] = [];
  for (const name of config.datasets) {
    const info = await Deno.lstat(posix.join(desk.datasite, privateFolder(name))).catch(() => null);
    if (info === null || !info.isDirectory) out.push(name);
  }
  return out;
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
    // Only new arrivals are checked: a pending job is hashed once, not every round.
    if (!peers.has(key.submitter) || entry.state !== null) continue;
    if (entry.stateProblem !== null) {
      result.problems.push(`job ${jobLabel(key)}: ${entry.stateProblem}`);
      continue;
    }
    try {
      let check = await verifyJobFolder(inboxDir(desk, key), key);
      if (check.kind === "incomplete") continue;
      const absent = check.kind === "ok" ? await missingDatasets(desk, check.config) : [];
      if (absent.length > 0) {
        // Said at once, rather than when the owner runs it.
        check = {
          kind: "bad",
          reason: `no dataset here named ${absent.join(", ")}`,
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
