/**
 * `syft job list | show | logs | results | wait`: reading jobs on both sides.
 * A job sent to several owners is one id with one row per owner; the
 * submitter reads each owner's state (and, after release, logs and outputs)
 * from that owner's mirror.
 * @module
 */
import type { Command } from "commander";
import { posix } from "node:path";
import type { Config } from "../core/config/config.ts";
import { positiveSeconds } from "../core/config/flag_values.ts";
import { homeLayout } from "../core/config/home.ts";
import { loadConfig } from "../core/config/load.ts";
import { SyftError } from "../core/errors/mod.ts";
import {
  allJobs,
  failureReason,
  JOB_STATUSES,
  type JobEntry,
  jobLabel,
  type JobOutcome,
  nextStep,
  resolveJobRef,
  reviewJobFolder,
  updatedAt,
} from "../core/jobs/mod.ts";
import { logsOf, outcomesOf, statusOf, untilLogs, waitForJob } from "../core/jobs/follow.ts";
import { parseIdentity } from "../core/paths/identity.ts";
import { type Context, withContext } from "./context.ts";
import { loadSync } from "./round_hook.ts";
import { checkDestinations, copyResults, planResults } from "../core/jobs/results.ts";
import { jobView } from "../core/jobs/show.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Register the reading commands on the `job` group. */
export function registerJobViews(job: Command): void {
  job
    .command("list")
    .summary("jobs you sent and jobs sent to you")
    .option("--owner <email>", "only jobs run by this owner")
    .option("--status <status>", `only jobs in this status (${JOB_STATUSES.join(", ")})`)
    .action(withContext(runList));
  job
    .command("show <id>")
    .summary("config, files, grants and history of a job (owners also see run.sh)")
    .action(withContext(runShow));
  job
    .command("logs <id>")
    .summary("stdout and stderr of a job (the submitter after release)")
    .option("--follow", "keep syncing until the job finishes, then print them")
    .action(withContext(runLogs));
  job
    .command("results <id>")
    .summary("the released outputs of a job, one folder per owner")
    .option("--out <dir>", "copy them here: <dir>/<owner>/outputs/… and <dir>/<owner>/logs/")
    .option("--force", "overwrite files already in --out")
    .action(withContext(runResults));
  job
    .command("wait <id>")
    .summary("sync until every owner has released or failed the job")
    .option("--timeout <seconds>", "give up after this long (exit 1)")
    .action(withContext(runWait));
}

/** How the user names these entries' job in a hint: the bare id for the submitter. */
function refOf(entries: readonly JobEntry[], typed: string): string {
  const e = entries[0];
  if (e === undefined) return typed;
  return e.role === "submitter" ? e.key.id : jobLabel(e.key);
}

function row(e: JobEntry) {
  const submittedAt = e.config?.submitted_at ?? null;
  return {
    id: e.key.id,
    name: e.config?.name ?? e.key.id,
    owner: e.owner,
    submitter: e.key.submitter,
    status: statusOf(e),
    submitted_at: submittedAt,
    updated_at: (e.state ? updatedAt(e.state) : null) ?? submittedAt,
  };
}

async function entriesFor(
  ctx: Context,
  ref: string,
): Promise<{ config: Config; entries: JobEntry[] }> {
  const config = await loadConfig(ctx.home);
  return {
    config,
    entries: resolveJobRef(await allJobs(config.root, config.email, ctx.home), ref),
  };
}

/** The human status of a `job list` row, kept out of its `--json`. */
const TEXT = Symbol("text");

async function runList(ctx: Context, flags: { owner?: string; status?: string }): Promise<void> {
  const config = await loadConfig(ctx.home);
  const owner = flags.owner === undefined ? undefined : parseIdentity(flags.owner, "--owner");
  if (flags.status !== undefined && !(JOB_STATUSES as readonly string[]).includes(flags.status)) {
    throw new SyftError("E_USAGE", `--status ${JSON.stringify(flags.status)} is not a job status`, {
      hint: `one of ${JOB_STATUSES.join(", ")}`,
    });
  }
  const entries = await allJobs(config.root, config.email, ctx.home);
  const outcomes = await outcomesOf(entries);
  const rows = entries
    .map((e, i) => ({ ...row(e), [TEXT]: outcomes[i]?.text ?? statusOf(e) }))
    .filter((r) =>
      (owner === undefined || r.owner === owner) &&
      (flags.status === undefined || r.status === flags.status)
    )
    .sort((a, b) => (a.submitted_at ?? "").localeCompare(b.submitted_at ?? ""));
  ctx.out.result(rows, (list) => {
    if (list.length === 0) {
      ctx.out.line("no jobs (send one with `syft job submit`)");
      return;
    }
    ctx.out.table(list, [
      { header: "id", value: (r) => r.id },
      { header: "name", value: (r) => r.name },
      { header: "owner", value: (r) => r.owner },
      { header: "submitter", value: (r) => r.submitter },
      { header: "status", value: (r) => r[TEXT] },
      { header: "updated", value: (r) => r.updated_at ?? "-" },
    ]);
  });
}

async function runShow(ctx: Context, _flags: unknown, args: string[]): Promise<void> {
  const { entries } = await entriesFor(ctx, args[0] ?? "");
  const view = await jobView(entries, homeLayout(ctx.home).auditLog);
  ctx.out.result(view, (v) => {
    ctx.out.fields([
      ["id", v.id],
      ["name", v.name],
      ["hash", v.hash ?? "-"],
      ["submitter", v.submitter],
      ["submitted", v.submitted_at ?? "-"],
      ["type", v.type ?? "-"],
      ["datasets", v.datasets.join(", ") || "none"],
      ["dependencies", v.dependencies.join(", ") || "none"],
      ["network", v.grants?.network ? "YES (the job asks for network access)" : "no"],
      ["timeout", v.grants ? `${v.grants.timeout} s` : "-"],
    ]);
    ctx.out.line("files:");
    for (const f of v.files) ctx.out.line(`  ${f.sha256.slice(0, 16)}  ${f.path}`);
    for (const o of v.owners) {
      ctx.out.line(`owner ${o.owner}: ${o.outcome}${o.problem ? ` (${o.problem})` : ""}`);
      for (const h of o.history) {
        ctx.out.line(
          `  ${h.at}  ${h.status.padEnd(8)} by ${h.by}${h.how ? ` (${h.how})` : ""}${
            h.reason ? `: ${h.reason}` : ""
          }`,
        );
      }
      if (o.run) {
        const why = failureReason(o.run);
        ctx.out.line(
          `  run: exit code ${o.run.returncode ?? "none"}, sandbox ${o.run.sandbox}` +
            `${why ? `, ${why}` : ""}, ${o.run.output_files} output file(s)` +
            `${o.run.stdout_truncated || o.run.stderr_truncated ? ", logs truncated" : ""}`,
        );
        if (o.run.skipped_count > 0) {
          ctx.out.line(`  skipped ${o.run.skipped_count} output(s) (only you see this):`);
          for (const s of o.run.skipped) ctx.out.line(`    ${s}`);
          const more = o.run.skipped_count - o.run.skipped.length;
          if (more > 0) ctx.out.line(`    … and ${more} more`);
        }
      }
    }
    if (v.run_sh !== null) {
      ctx.out.line(`--- ${v.entrypoint} ---`);
      ctx.out.line(v.run_sh.trimEnd());
      ctx.out.line("---");
    }
    if (v.audit.length > 0) {
      ctx.out.line("audit:");
      for (const a of v.audit) {
        ctx.out.line(
          `  ${a.at}  ${a.action} by ${a.by} (${a.how})${a.sandbox ? ` sandbox ${a.sandbox}` : ""}${
            a.reason ? `: ${a.reason}` : ""
          }`,
        );
      }
    }
  });
}

async function runLogs(ctx: Context, flags: { follow?: boolean }, args: string[]): Promise<void> {
  let { config, entries } = await entriesFor(ctx, args[0] ?? "");
  // Followed by its label from here: a name resolved once stays that job.
  const ref = jobLabel(entries[0]!.key);
  if (flags.follow) {
    entries = await untilLogs(entries, {
      sync: async () => void await (await loadSync()).syncOnce(ctx, config),
      refresh: async () => resolveJobRef(await allJobs(config.root, config.email, ctx.home), ref),
      sleep,
    });
  }
  const logs = await logsOf(entries);
  ctx.out.result(logs, (list) => {
    for (const l of list) {
      if (list.length > 1) ctx.out.line(`=== ${l.owner}: ${l.outcome} ===`);
      if (l.stdout === null && l.stderr === null) {
        ctx.out.line(`no logs from ${l.owner}: the job is ${l.outcome}`);
        continue;
      }
      if (l.stdout) ctx.out.line(l.stdout.trimEnd());
      if (l.stderr) {
        ctx.out.line("--- stderr ---");
        ctx.out.line(l.stderr.trimEnd());
      }
    }
  });
}

async function runResults(
  ctx: Context,
  flags: { out?: string; force?: boolean },
  args: string[],
): Promise<void> {
  const { entries } = await entriesFor(ctx, args[0] ?? "");
  const ref = refOf(entries, args[0] ?? "");
  const out = flags.out === undefined ? null : posix.resolve(ctx.cwd, flags.out);
  const outcomes = new Map<JobEntry, JobOutcome>();
  (await outcomesOf(entries)).forEach((o, i) => outcomes.set(entries[i]!, o));
  // What an owner let us read: its review folder once released (for the owner, once run).
  const readable = entries.filter((e) =>
    outcomes.get(e)!.released || (e.role === "owner" && outcomes.get(e)!.ran !== null)
  );
  const plan = await planResults(readable, out);
  let counts = new Map<string, { outputs: number; logs: number }>();
  if (out !== null) {
    await checkDestinations(plan, flags.force ?? false);
    counts = await copyResults(plan);
  }
  const rows = entries.map((e) => {
    const o = outcomes.get(e)!;
    const p = plan.owners.find((x) => x.owner === e.owner);
    const n = counts.get(e.owner);
    return {
      owner: e.owner,
      status: o.status,
      outcome: o.text,
      outputs: n?.outputs ?? p?.outputs.length ?? 0,
      logs: n?.logs ?? p?.logs.length ?? 0,
      // With --out where the copies went; without, the released folder in the mirror.
      dir: p === undefined
        ? null
        : out === null
        ? posix.join(e.datasite, reviewJobFolder(e.key.submitter, e.key.id))
        : p.dir,
    };
  });
  ctx.out.result(rows, (list) => {
    for (const r of list) {
      if (r.dir === null) ctx.out.line(`${r.owner}: ${r.outcome}: nothing to copy yet`);
      else {
        ctx.out.line(
          `${r.owner}: ${r.outcome}: ${r.outputs} output file(s) and ${r.logs} log file(s) ` +
            `${out === null ? "in" : "copied to"} ${r.dir}`,
        );
      }
    }
    if (out !== null && counts.size > 0) {
      const total = [...counts.values()].reduce((t, c) => t + c.outputs + c.logs, 0);
      ctx.out.line(`${total} file(s) from ${counts.size} owner(s) in ${out}`);
    }
  });
  if (plan.owners.length === 0) {
    const hint = nextStep([...outcomes.values()], ref, entries[0]?.role ?? "submitter");
    throw new SyftError(
      "E_DENIED",
      `job ${ref} has no released outputs`,
      hint === null ? {} : { hint },
    );
  }
}

async function runWait(ctx: Context, flags: { timeout?: string }, args: string[]): Promise<void> {
  const ref = args[0] ?? "";
  const timeoutMs = flags.timeout === undefined
    ? Infinity
    : positiveSeconds(flags.timeout, "--timeout", 600) * 1000;
  const { config, entries } = await entriesFor(ctx, ref);
  const id = refOf(entries, ref);
  const label = jobLabel(entries[0]!.key);
  const { outcomes, timedOut } = await waitForJob(entries, {
    timeoutMs,
    now: Date.now,
    sleep,
    sync: async () => void await (await loadSync()).syncOnce(ctx, config),
    refresh: async () => resolveJobRef(await allJobs(config.root, config.email, ctx.home), label),
    // Changes on the way, on stderr: stdout ends with one line per owner.
    onChange: (o) => ctx.out.note(`${o.owner}: ${o.text}`),
  });
  if (timedOut) {
    summarize(ctx, outcomes);
    throw new SyftError("E_DENIED", `job ${id} is not finished after ${flags.timeout} s`, {
      hint: `see where it is with \`syft job show ${id}\`, or wait longer`,
    });
  }
  summarize(ctx, outcomes);
  const bad = outcomes.filter((o) => !o.succeeded);
  if (bad.length > 0) {
    const hint = nextStep(outcomes, id, "submitter");
    throw new SyftError(
      "E_DENIED",
      `job ${id} did not succeed at ${bad.map((o) => o.owner).join(", ")}`,
      hint === null ? {} : { hint },
    );
  }
}

/** `job wait`'s last word: one line per owner (`--json`: one row each). */
function summarize(ctx: Context, outcomes: readonly JobOutcome[]): void {
  const rows = outcomes.map((o) => ({
    owner: o.owner,
    status: o.status,
    outcome: o.text,
    returncode: o.returncode,
    reason: o.reason,
  }));
  ctx.out.result(rows, (list) => {
    for (const r of list) ctx.out.line(`${r.owner}: ${r.outcome}`);
  });
}
