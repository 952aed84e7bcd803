/**
 * `job policy add`: make an auto-approval policy from a job the owner
 * received, so later jobs identical to it are approved, run and released
 * without asking. A policy repeats what was reviewed, so the job must have
 * arrived whole and unchanged.
 * @module
 */
import { posix } from "node:path";
import { SyftError } from "../errors/mod.ts";
import { appendAudit } from "./audit.ts";
import type { JobEntry } from "./catalog.ts";
import { inboxDir, type OwnerDesk } from "./desk.ts";
import { jobLabel } from "./layout.ts";
import { addPolicy, POLICY_FILE, readPolicies, writePolicies } from "./policies.ts";
import { policyHash } from "./policy_hash.ts";
import { verifyJobFolder } from "./verify.ts";

/** What a new policy is made of. */
export interface PolicyRequest {
  home: string;
  desk: OwnerDesk;
  name: string;
  /** The received job it copies. */
  from: JobEntry;
  /** Who it applies to; by default the job's submitter. */
  peers?: readonly string[] | undefined;
}

/** The policy made. */
export interface PolicyAdded {
  name: string;
  policy_hash: string;
  peers: string[];
  from: string;
}

/** Add the policy to the home's policy file and the audit log. */
export async function addPolicyFrom(req: PolicyRequest): Promise<PolicyAdded> {
  const { desk, from: entry } = req;
  const check = await verifyJobFolder(inboxDir(desk, entry.key), entry.key, desk.fs);
  if (check.kind !== "ok") {
    throw new SyftError(
      "E_INPUT",
      `job ${jobLabel(entry.key)} cannot serve as a policy: ${
        check.kind === "bad" ? check.reason : "it has not fully arrived"
      }`,
    );
  }
  const hash = policyHash(check.config);
  // A policy repeats what was reviewed: not a folder changed since it arrived.
  if (entry.state?.policy_hash && entry.state.policy_hash !== hash) {
    throw new SyftError(
      "E_PERMISSION",
      `job ${jobLabel(entry.key)} cannot serve as a policy: its files changed after it arrived`,
      { hint: "make the policy from a job whose files are as received" },
    );
  }
  const peers = req.peers === undefined ? [entry.key.submitter] : [...req.peers];
  const file = posix.join(req.home, POLICY_FILE);
  const policies = addPolicy(await readPolicies(file, desk.fs), {
    name: req.name,
    policy_hash: hash,
    peers,
    from: jobLabel(entry.key),
    created_at: new Date(desk.now()).toISOString(),
  });
  await writePolicies(file, policies, desk.fs);
  await appendAudit(desk.auditLog, {
    at: new Date(desk.now()).toISOString(),
    action: "policy.add",
    job: jobLabel(entry.key),
    by: desk.me,
    how: `policy:${req.name}`,
    policy_hash: hash,
  }, desk.fs);
  return { name: req.name, policy_hash: hash, peers, from: jobLabel(entry.key) };
}
