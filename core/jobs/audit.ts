/**
 * The owner's audit log, `$SYFT_HOME/audit.log`: one JSON object per line for
 * every approve, reject, run (with the sandbox mode), release and policy
 * decision. Appended, never rewritten; `syft job show` reads it back.
 * @module
 */

/** Decisions the log records. */
export type AuditAction =
  | "receive"
  | "approve"
  | "reject"
  | "run"
  | "release"
  | "policy.add"
  | "policy.remove";

/** One line of the log. */
export interface AuditEntry {
  /** ISO-8601. */
  at: string;
  action: AuditAction;
  /** `<submitter>/<id>`, or null for policy edits. */
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

/** Append one entry (O_APPEND: concurrent writers interleave whole lines). */
export async function appendAudit(path: string, entry: AuditEntry): Promise<void> {
  const line = JSON.stringify(entry) + "\n";
  const file = await Deno.open(path, { append: true, create: true, mode: 0o600 });
  try {
    const bytes = new TextEncoder().encode(line);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
  } finally {
    file.close();
  }
}

/** Entries of the log that concern `job` (all when null); unparsable lines are skipped. */
export async function readAudit(path: string, job: string | null): Promise<AuditEntry[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const out: AuditEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const e = JSON.parse(line) as AuditEntry;
      if (job === null || e.job === job) out.push(e);
    } catch {
      // A torn last line after a crash: the rest of the log still reads.
    }
  }
  return out;
}
