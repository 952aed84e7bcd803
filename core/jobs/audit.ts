/**
 * Jobs' side of the owner's audit log (core/audit/log.ts): the job desk and
 * runner append their decisions through here, and `syft job show` reads a
 * job's decisions back in the job's own terms (`approve`, `run`, …).
 * @module
 */
import { appendAudit as appendRecord, type AuditValue, readAuditLog } from "../audit/log.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";

/** Job decisions the log records. */
export type AuditAction =
  | "receive"
  | "approve"
  | "reject"
  | "run"
  | "release"
  | "policy.add"
  | "policy.remove";

/** One job decision, as `syft job show` prints it. */
export interface AuditEntry {
  /** ISO-8601. */
  at: string;
  action: AuditAction;
  /** `<submitter>/<id>`, or null for a policy's removal. */
  job: string | null;
  /** The owner who decided. */
  by: string;
  /** `manual`, `auto` or `policy:<name>`. */
  how: string;
  reason?: string | null;
  sandbox?: "bwrap" | "none";
  policy_hash?: string | null;
  status?: string;
  returncode?: number | null;
}

const DETAIL_KEYS = ["how", "reason", "sandbox", "policy_hash", "status", "returncode"] as const;

/**
 * Append one job decision unless it is already the job's latest line. A
 * decision's line is written (and fsynced) before its record, so a crash in
 * between leaves the line and the old record; doing the decision again must
 * not log it twice. No job takes the same decision twice in a row.
 */
export async function appendDecision(
  path: string,
  entry: AuditEntry & { job: string },
  fs: LocalFs = denoFs,
): Promise<void> {
  const before = await readAudit(path, entry.job, fs);
  if (before.at(-1)?.action === entry.action) return;
  await appendAudit(path, entry, fs);
}

/**
 * Append one job decision. Policy edits name the policy as their subject (and
 * the job it was made from as `from`); the others name the job.
 */
export async function appendAudit(
  path: string,
  entry: AuditEntry,
  fs: LocalFs = denoFs,
): Promise<void> {
  const details: Record<string, AuditValue> = {};
  for (const k of DETAIL_KEYS) if (entry[k] !== undefined) details[k] = entry[k]!;
  const policy = entry.action.startsWith("policy.") ? entry.how.replace(/^policy:/, "") : null;
  if (policy !== null && entry.job !== null) details.from = entry.job;
  await appendRecord(path, {
    at: entry.at,
    actor: entry.by,
    action: `job.${entry.action}`,
    subject: policy ?? entry.job ?? "",
    details,
  }, fs);
}

/** The job decisions of the log that concern `job` (all job decisions when null). */
export async function readAudit(
  path: string,
  job: string | null,
  fs: LocalFs = denoFs,
): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (const r of (await readAuditLog(path, fs)).records) {
    if (!r.action.startsWith("job.")) continue;
    const policy = r.action.startsWith("job.policy.");
    const about = policy ? (typeof r.details.from === "string" ? r.details.from : null) : r.subject;
    if (job !== null && about !== job) continue;
    const d = r.details;
    const entry: AuditEntry = {
      at: r.at,
      action: r.action.slice(4) as AuditAction,
      job: about,
      by: r.actor,
      how: typeof d.how === "string" ? d.how : "",
    };
    if (typeof d.reason === "string" || d.reason === null) entry.reason = d.reason;
    if (d.sandbox === "bwrap" || d.sandbox === "none") entry.sandbox = d.sandbox;
    if (typeof d.policy_hash === "string" || d.policy_hash === null) {
      entry.policy_hash = d.policy_hash;
    }
    if (typeof d.status === "string") entry.status = d.status;
    if (typeof d.returncode === "number" || d.returncode === null) entry.returncode = d.returncode;
    out.push(entry);
  }
  return out;
}
