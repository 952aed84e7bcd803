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
import { homeLayout } from "../core/config/home.ts";
import { loadConfig } from "../core/config/load.ts";
import { SyftError } from "../core/errors/mod.ts";
import {
  allJobs,
  failureReason,
  inboxJobFolder,
  JOB_STATUSES,
  type JobEntry,
  jobLabel,
  type JobStatus,
  policyHash,
  readAudit,
  resolveJobRef,
  REVIEW_FILES,
  reviewJobFolder,
  updatedAt,
} from "../core/jobs/mod.ts";
import { parseIdentity } from "../core/paths/identity.ts";
import { type Context, withContext } from "./context.ts";
import { syncOnce } from "./sync.ts";

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
    .option("--out <dir>", "copy them here (<dir>/<owner>/…)")
    .action(withContext(runResults));
  job
    .command("wait <id>")
    .summary("sync until every owner has released or failed the job")
    .option("--timeout <seconds>", "give up after this long (exit 1)")
    .action(withContext(runWait));
}

function statusOf(e: JobEntry): JobStatus {
  return e.state?.status ?? "pending";
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

async function runList(ctx: Context, flags: { owner?: string; status?: string }): Promise<void> {
  const config = await loadConfig(ctx.home);
  const owner = flags.owner === undefined ? undefined : parseIdentity(flags.owner, "--owner");
  if (flags.status !== undefined && !(JOB_STATUSES as readonly string[]).includes(flags.status)) {
    throw new SyftError("E_USAGE", `--status ${JSON.stringify(flags.status)} is not a job status`, {
      hint: `one of ${JOB_STATUSES.join(", ")}`,
    });
  }
  const rows = (await allJobs(config.root, config.email, ctx.home))
    .map(row)
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
      { header: "status", value: (r) => r.status },
      { header: "updated", value: (r) => r.updated_at ?? "-" },
    ]);
  });
}

async function runShow(ctx: Context, _flags: unknown, args: string[]): Promise<void> {
  const { entries } = await entriesFor(ctx, args[0] ?? "");
  const first = entries[0]!;
  const owning = entries.find((e) => e.role === "owner");
  let runSh: string | null = null;
  if (owning?.config) {
    runSh = await Deno.readTextFile(
      posix.join(
        owning.datasite,
        inboxJobFolder(owning.key.submitter, owning.key.id),
        owning.config.entrypoint,
      ),
    ).catch(() => null);
  }
  const audit = owning ? await readAudit(homeLayout(ctx.home).auditLog, jobLabel(owning.key)) : [];
  const cfg = first.config;
  const view = {
    id: first.key.id,
    name: cfg?.name ?? first.key.id,
    // The content hash: `job approve --hash` refuses anything else.
    hash: cfg ? policyHash(cfg) : null,
    submitter: first.key.submitter,
    submitted_at: cfg?.submitted_at ?? null,
    type: cfg?.type ?? null,
    entrypoint: cfg?.entrypoint ?? null,
    dependencies: cfg?.dependencies ?? [],
    datasets: cfg?.datasets ?? [],
    grants: cfg?.grants ?? null,
    files: cfg?.files ?? [],
    owners: entries.map((e) => ({
      owner: e.owner,
      status: statusOf(e),
      policy_hash: e.state?.policy_hash ?? null,
      run: e.state?.run ?? null,
      history: e.state?.history ?? [],
      problem: e.configProblem ?? e.stateProblem,
    })),
    run_sh: runSh,
    audit,
  };
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
      ctx.out.line(`owner ${o.owner}: ${o.status}${o.problem ? ` (${o.problem})` : ""}`);
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

function reviewPath(e: JobEntry, file: string): string {
  return posix.join(e.datasite, reviewJobFolder(e.key.submitter, e.key.id), file);
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

function finished(e: JobEntry): boolean {
  const s = statusOf(e);
  if (s === "released" || s === "rejected") return true;
  // The owner sees logs as soon as a run ends; the submitter only after release.
  return e.role === "owner" && (s === "done" || s === "failed");
}

async function runLogs(ctx: Context, flags: { follow?: boolean }, args: string[]): Promise<void> {
  const ref = args[0] ?? "";
  let { config, entries } = await entriesFor(ctx, ref);
  while (
    flags.follow &&
    !entries.every((e) => finished(e) || (e.role === "submitter" && statusOf(e) === "failed"))
  ) {
    await new Promise((r) => setTimeout(r, 2000));
    if (entries.some((e) => e.role === "submitter")) await syncOnce(ctx, config);
    entries = resolveJobRef(await allJobs(config.root, config.email, ctx.home), ref);
  }
  const logs = [];
  for (const e of entries) {
    logs.push({
      owner: e.owner,
      status: statusOf(e),
      stdout: await readOrNull(reviewPath(e, REVIEW_FILES.stdout)),
      stderr: await readOrNull(reviewPath(e, REVIEW_FILES.stderr)),
    });
  }
  ctx.out.result(logs, (list) => {
    for (const l of list) {
      if (list.length > 1) ctx.out.line(`=== ${l.owner} (${l.status}) ===`);
      if (l.stdout === null && l.stderr === null) {
        ctx.out.line(
          l.status === "done" || l.status === "failed"
            ? `no logs yet: ${l.owner} has not released them`
            : `no logs: the job is ${l.status}`,
        );
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

/** Copy a folder of outputs, regular files and folders only (a mirror never holds links, but never follow one). */
async function copyTree(from: string, to: string): Promise<number> {
  await Deno.mkdir(to, { recursive: true });
  let n = 0;
  for await (const e of Deno.readDir(from)) {
    const src = posix.join(from, e.name);
    const dst = posix.join(to, e.name);
    if (e.isDirectory) n += await copyTree(src, dst);
    else if (e.isFile) {
      await Deno.copyFile(src, dst);
      n++;
    }
  }
  return n;
}

async function runResults(ctx: Context, flags: { out?: string }, args: string[]): Promise<void> {
  const { entries } = await entriesFor(ctx, args[0] ?? "");
  const out = flags.out === undefined ? null : posix.resolve(ctx.cwd, flags.out);
  const rows = [];
  for (const e of entries) {
    const outputs = reviewPath(e, REVIEW_FILES.outputs);
    const present = await Deno.lstat(outputs).then((i) => i.isDirectory, () => false);
    let copied: string | null = null;
    let files = 0;
    if (present && out !== null) {
      copied = posix.join(out, e.owner);
      await Deno.remove(copied, { recursive: true }).catch(() => {});
      files = await copyTree(outputs, copied);
      for (const log of [REVIEW_FILES.stdout, REVIEW_FILES.stderr, REVIEW_FILES.returncode]) {
        await Deno.copyFile(reviewPath(e, log), posix.join(copied, log)).catch(() => {});
      }
    }
    rows.push({
      owner: e.owner,
      status: statusOf(e),
      outputs: present ? outputs : null,
      out: copied,
      files,
    });
  }
  ctx.out.result(rows, (list) => {
    for (const r of list) {
      if (r.outputs === null) {
        ctx.out.line(
          `${r.owner}: no outputs (${r.status}${r.status === "done" ? ", not released yet" : ""})`,
        );
      } else if (r.out !== null) ctx.out.line(`${r.owner}: ${r.files} file(s) in ${r.out}`);
      else ctx.out.line(`${r.owner}: ${r.outputs}`);
    }
  });
  if (rows.every((r) => r.outputs === null)) {
    throw new SyftError("E_DENIED", `job ${args[0]} has no released outputs yet`, {
      hint: `wait for them with \`syft job wait ${args[0]}\``,
    });
  }
}

/**
 * The return code a released job's owner shares in `returncode.txt` (the
 * state never carries it); null when not released, killed or unreadable.
 */
async function releasedReturncode(e: JobEntry): Promise<number | null> {
  if (statusOf(e) !== "released") return null;
  const text = (await readOrNull(reviewPath(e, REVIEW_FILES.returncode)))?.trim() ?? "";
  return /^-?\d{1,10}$/.test(text) ? Number(text) : null;
}

async function runWait(ctx: Context, flags: { timeout?: string }, args: string[]): Promise<void> {
  const ref = args[0] ?? "";
  let timeoutMs = Infinity;
  if (flags.timeout !== undefined) {
    const s = Number(flags.timeout);
    if (flags.timeout.trim() === "" || !Number.isFinite(s) || s <= 0) {
      throw new SyftError(
        "E_USAGE",
        `--timeout ${JSON.stringify(flags.timeout)} is not a positive number of seconds`,
        { hint: "e.g. --timeout 600" },
      );
    }
    timeoutMs = s * 1000;
  }
  const start = Date.now();
  let { config, entries } = await entriesFor(ctx, ref);
  const seen = new Map<string, string>();
  for (;;) {
    for (const e of entries) {
      const s = statusOf(e);
      if (seen.get(e.owner) !== s) {
        seen.set(e.owner, s);
        ctx.out.line(`${e.owner}: ${s}`);
      }
    }
    const settled = entries.every((e) => {
      const s = statusOf(e);
      return s === "released" || s === "rejected" || s === "failed";
    });
    if (settled) break;
    if (Date.now() - start >= timeoutMs) {
      throw new SyftError("E_DENIED", `job ${ref} is not finished after ${flags.timeout} s`, {
        hint: `see where it is with \`syft job list\``,
      });
    }
    await new Promise((r) => setTimeout(r, 1000));
    await syncOnce(ctx, config);
    entries = resolveJobRef(await allJobs(config.root, config.email, ctx.home), ref);
  }
  const rows = [];
  for (const e of entries) {
    rows.push({
      owner: e.owner,
      status: statusOf(e),
      returncode: await releasedReturncode(e),
      reason: e.state?.history[e.state.history.length - 1]?.reason ?? null,
    });
  }
  // People saw each status as it changed; only the reasons are new.
  ctx.out.result(rows, (list) => {
    for (const r of list) if (r.reason) ctx.out.line(`${r.owner}: ${r.status} (${r.reason})`);
  });
  const ok = rows.every((r) => r.status === "released" && r.returncode === 0);
  if (!ok) {
    throw new SyftError("E_DENIED", `job ${ref} did not succeed everywhere`, {
      hint: `see why with \`syft job show ${ref}\``,
    });
  }
}
