/**
 * The owner's audit log, `$SYFT_HOME/audit.log`: one JSON object per line for
 * every decision the owner makes (peers, permissions, datasets, jobs), written
 * after the decision took effect. Appended, never rewritten; mode 0600.
 * docs/audit.md describes the format.
 * @module
 */
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";

/** Decisions the log records. */
export const AUDIT_ACTIONS = [
  "peer.approve",
  "peer.reject",
  "peer.remove",
  "peer.trust",
  "perm.grant",
  "perm.revoke",
  "dataset.create",
  "dataset.delete",
  "job.receive",
  "job.approve",
  "job.reject",
  "job.run",
  "job.release",
  "job.policy.add",
  "job.policy.remove",
] as const;

/** One of {@linkcode AUDIT_ACTIONS}. */
export type AuditAction = typeof AUDIT_ACTIONS[number];

/** A detail's value: flat, so `grep` and `jq` read it without nesting. */
export type AuditValue = string | number | boolean | null | readonly string[];

/** One line of the log. */
export interface AuditRecord {
  /** ISO 8601 UTC. */
  at: string;
  /** The owner who decided (the home's email). */
  actor: string;
  action: AuditAction;
  /** What was decided about: a peer's email, a datasite path, a dataset or policy name, `<submitter>/<job-id>`. */
  subject: string;
  /** What else the decision depended on (fingerprint, access, job hash, how it was decided…). */
  details: Record<string, AuditValue>;
}

/** Longest line read back: longer ones are not ours (or torn) and are skipped. */
const MAX_LINE = 64 * 1024;

const encoder = new TextEncoder();

/** Append one record (O_APPEND: concurrent writers interleave whole lines). */
export async function appendAudit(
  path: string,
  record: AuditRecord,
  fs: LocalFs = denoFs,
): Promise<void> {
  const bytes = encoder.encode(JSON.stringify(record) + "\n");
  const file = await fs.open(path, { append: true, create: true, mode: 0o600 });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    // A decision's line is written before the record it explains (core/jobs/desk.ts):
    // it must be on disk first.
    await file.sync();
  } finally {
    file.close();
  }
}

function isValue(v: unknown): v is AuditValue {
  return v === null || ["string", "number", "boolean"].includes(typeof v) ||
    (Array.isArray(v) && v.every((x) => typeof x === "string"));
}

/** The fields a line written before the log was generalised (jobs only) carried besides the core ones. */
const JOB_DETAIL_KEYS = ["how", "reason", "sandbox", "policy_hash", "status", "returncode"];

/**
 * A line written by the job-only log of earlier versions (`{at, action, job,
 * by, how, …}`), in today's shape: the log is never rewritten, so old lines
 * must still read.
 */
function fromJobLine(o: Record<string, unknown>): AuditRecord | null {
  if (typeof o.at !== "string" || typeof o.by !== "string" || typeof o.action !== "string") {
    return null;
  }
  const action = `job.${o.action}`;
  if (!(AUDIT_ACTIONS as readonly string[]).includes(action)) return null;
  const details: Record<string, AuditValue> = {};
  for (const k of JOB_DETAIL_KEYS) if (k in o && isValue(o[k])) details[k] = o[k] as AuditValue;
  const how = typeof o.how === "string" ? o.how : "";
  if (action.startsWith("job.policy.") && how.startsWith("policy:")) {
    if (typeof o.job === "string") details.from = o.job;
    return { at: o.at, actor: o.by, action: action as AuditAction, subject: how.slice(7), details };
  }
  if (typeof o.job !== "string") return null;
  return { at: o.at, actor: o.by, action: action as AuditAction, subject: o.job, details };
}

/** One line of the log, or null when it is not a record (torn, foreign or too long). */
export function parseAuditLine(line: string): AuditRecord | null {
  if (line.length > MAX_LINE) return null;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  if (!("actor" in r)) return fromJobLine(r);
  if (
    typeof r.at !== "string" || typeof r.actor !== "string" || typeof r.subject !== "string" ||
    !(AUDIT_ACTIONS as readonly unknown[]).includes(r.action) ||
    typeof r.details !== "object" || r.details === null || Array.isArray(r.details)
  ) return null;
  const details: Record<string, AuditValue> = {};
  for (const [k, v] of Object.entries(r.details)) if (isValue(v)) details[k] = v;
  return { at: r.at, actor: r.actor, action: r.action as AuditAction, subject: r.subject, details };
}

/** What the log holds, in the order written, and how many lines were not records. */
export interface AuditReading {
  records: AuditRecord[];
  unreadable: number;
}

/** Every record of the log (none when it does not exist yet). */
export async function readAuditLog(path: string, fs: LocalFs = denoFs): Promise<AuditReading> {
  let text: string;
  try {
    text = await fs.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { records: [], unreadable: 0 };
    throw err;
  }
  const records: AuditRecord[] = [];
  let unreadable = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const r = parseAuditLine(line);
    if (r) records.push(r);
    // A torn last line after a crash: the rest of the log still reads.
    else unreadable++;
  }
  return { records, unreadable };
}
