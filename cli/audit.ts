/**
 * `syft audit [--since …] [--action …]`: the owner's decisions, read back from
 * `$SYFT_HOME/audit.log` without jq; and the one way commands append to it.
 * @module
 */
import type { Command } from "commander";
import {
  appendAudit,
  type AuditAction,
  type AuditRecord,
  type AuditValue,
  readAuditLog,
} from "../core/audit/log.ts";
import { parseSince } from "../core/config/flag_values.ts";
import { homeLayout } from "../core/config/home.ts";
import { isoNow } from "../core/time/iso.ts";
import { type Context, withContext } from "./context.ts";

/** Register `syft audit`. */
export function registerAudit(program: Command): void {
  program
    .command("audit")
    .summary(
      "your decisions as an owner (peers, permissions, datasets, jobs), oldest first",
    )
    .option(
      "--since <when>",
      "only decisions from then on: an ISO date or time, or an age (24h, 7d)",
    )
    .option("--action <prefix>", "only these decisions, e.g. peer, perm.grant, job.release")
    .action(withContext(runAudit));
}

/**
 * Record a decision that took effect, in the home's audit log. Called after the
 * change is saved and never for a refusal or a no-op, so every line is a change.
 */
export async function recordDecision(
  ctx: Context,
  actor: string,
  action: AuditAction,
  subject: string,
  details: Record<string, AuditValue>,
): Promise<void> {
  await appendAudit(homeLayout(ctx.home).auditLog, {
    at: isoNow(),
    actor,
    action,
    subject,
    details,
  });
}

interface AuditFlags {
  since?: string;
  action?: string;
}

function matchesAction(record: AuditRecord, prefix: string | undefined): boolean {
  return prefix === undefined || record.action === prefix || record.action.startsWith(`${prefix}.`);
}

function showValue(v: AuditValue): string {
  return Array.isArray(v) ? v.join(",") : String(v);
}

async function runAudit(ctx: Context, flags: AuditFlags): Promise<void> {
  const since = flags.since === undefined ? null : parseSince(flags.since, Date.now());
  const file = homeLayout(ctx.home).auditLog;
  const log = await readAuditLog(file);
  if (log.unreadable > 0) {
    ctx.out.warn(`${log.unreadable} line(s) of ${file} are not decisions and were skipped`);
  }
  const rows = log.records.filter((r) =>
    matchesAction(r, flags.action) && (since === null || Date.parse(r.at) >= since)
  );
  ctx.out.result(rows, (list) => {
    if (list.length === 0) {
      ctx.out.line(
        log.records.length === 0 ? `no decisions recorded yet in ${file}` : "no decision matches",
      );
      return;
    }
    ctx.out.table(list, [
      { header: "time", value: (r) => r.at },
      { header: "action", value: (r) => r.action },
      { header: "subject", value: (r) => r.subject },
      {
        header: "details",
        value: (r) =>
          Object.entries(r.details).filter(([, v]) => v !== null && v !== "")
            .map(([k, v]) => `${k}=${showValue(v)}`).join(" "),
      },
    ]);
  });
}
