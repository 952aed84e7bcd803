/**
 * `syft job submit | list | show | approve | reject | run | release | logs |
 * results | wait | policy`: the data scientist's and the data owner's sides of
 * a job. Reading commands live in `job_view.ts`, running in `job_exec.ts`.
 * @module
 */
import type { Command } from "commander";
import { posix } from "node:path";
import type { Config } from "../core/config/config.ts";
import { wholeMiB, wholeSeconds } from "../core/config/flag_values.ts";
import { homeLayout } from "../core/config/home.ts";
import { loadConfig } from "../core/config/load.ts";
import { parseDatasetName } from "../core/datasets/mod.ts";
import { SyftError } from "../core/errors/mod.ts";
import {
  allJobs,
  answerDecision,
  appendAudit,
  approveJob,
  isDependency,
  type JobDecision,
  type JobEntry,
  jobLabel,
  type JobSource,
  MAX_TIMEOUT_S,
  ownerJobs,
  POLICY_FILE,
  POLICY_NAME_RE,
  readPolicies,
  receivedRoot,
  rejectJob,
  releaseJob,
  resolveJobRef,
  writePolicies,
} from "../core/jobs/mod.ts";
import { addPolicyFrom } from "../core/jobs/policy_add.ts";
import { sendJob } from "../core/jobs/send.ts";
import { parseIdentity } from "../core/paths/identity.ts";
import { describeMemoryCap } from "../core/sandbox/mod.ts";
import { type Context, withContext } from "./context.ts";
import {
  describeOutcome,
  ownerDesk,
  parseSandboxChoice,
  resolveSandbox,
  runJobs,
  runnerOptions,
  runOutcome,
} from "./job_exec.ts";
import { registerJobTry } from "./job_try.ts";
import { registerJobViews } from "./job_view.ts";
import { syncAfterChange } from "./round_hook.ts";

/** Register the `job` group. */
export function registerJob(program: Command): void {
  const job = program.command("job").summary("submit, review, run and release jobs");

  job
    .command("submit")
    .summary("send a job to one or more data owners")
    .requiredOption("--to <emails>", "owners to send it to, comma-separated")
    .option("--script <file>", "a run.sh to send")
    .option("--dir <folder>", "a folder with run.sh at its top")
    .option("--python <file|dir>", "a .py file, or a folder with main.py")
    .option("--dep <pkg>", "a pip requirement for --python (repeat)", collect, [])
    .option("--name <name>", "a name for the job (default: the file or folder name)")
    .option("--dataset <name>", "a dataset the job reads (repeat)", collect, [])
    .option("--network", "ask for network access while it runs (the owner sees this)")
    .option("--timeout <seconds>", "ask for this much time (default 600)")
    .action(withContext(runSubmit));

  job
    .command("approve <id>")
    .summary("approve a pending job (owner)")
    .option("--hash <hex>", "the content hash `job show` printed: refuse if the job differs")
    .action(withContext(runApprove));

  job
    .command("reject <id>")
    .summary("reject a job (owner)")
    .option("--reason <text>", "why (the submitter reads it)")
    .action(withContext(runReject));

  job
    .command("run [id]")
    .summary("run approved jobs in the sandbox (owner)")
    .option("--all-approved", "run every approved job")
    .option("--sandbox <mode>", "auto, bwrap or none (none runs unsandboxed: not recommended)")
    .option("--timeout <seconds>", "override the job's time limit")
    .option("--max-output <MiB>", "cap on the outputs folder (default 100)")
    .option("--release", "release each job that finishes")
    .option(
      "--find-links <dir>",
      "a local wheel folder for Python dependencies (repeat)",
      collect,
      [],
    )
    .action(withContext(runRun));

  job
    .command("release <id>")
    .summary("let the submitter read a finished job's logs and outputs (owner)")
    .action(withContext(runRelease));

  registerJobViews(job);
  registerJobTry(job);

  const policy = job.command("policy").summary("auto-approval policies (owner)");
  policy
    .command("add <name>")
    .summary("approve, run and release later jobs identical to one you approved")
    .requiredOption("--from <id>", "the job to copy")
    .option("--peers <emails>", "who it applies to (default: that job's submitter)")
    .action(withContext(runPolicyAdd));
  policy.command("list").summary("your policies").action(withContext(runPolicyList));
  policy.command("remove <name>").summary("delete a policy").action(withContext(runPolicyRemove));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseSeconds(raw: string | undefined, flag: string): number | undefined {
  return raw === undefined ? undefined : wholeSeconds(raw, flag, MAX_TIMEOUT_S);
}

function parseList(raw: string, flag: string): string[] {
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) {
    throw new SyftError("E_USAGE", `${flag} is empty`, { hint: `${flag} a@x.org,b@y.org` });
  }
  return [...new Set(items.map((s) => parseIdentity(s, flag)))];
}

interface SubmitFlags {
  to: string;
  script?: string;
  dir?: string;
  python?: string;
  dep: string[];
  name?: string;
  dataset: string[];
  network?: boolean;
  timeout?: string;
}

function jobSource(ctx: Context, flags: SubmitFlags): JobSource {
  const given = [flags.script, flags.dir, flags.python].filter((v) => v !== undefined);
  if (given.length !== 1) {
    throw new SyftError("E_USAGE", "give exactly one of --script, --dir or --python", {
      hint: "syft job submit --to <email> --script run.sh",
    });
  }
  if (flags.dep.length > 0 && flags.python === undefined) {
    throw new SyftError("E_USAGE", "--dep only applies with --python", {
      hint: "list dependencies in run.sh yourself",
    });
  }
  const bad = flags.dep.find((d) => !isDependency(d));
  if (bad !== undefined) {
    throw new SyftError("E_USAGE", `--dep ${JSON.stringify(bad)} is not a package requirement`, {
      hint: "e.g. --dep numpy or --dep 'pandas>=2'",
    });
  }
  const abs = (p: string) => posix.resolve(ctx.cwd, p);
  if (flags.script !== undefined) return { kind: "script", path: abs(flags.script) };
  if (flags.dir !== undefined) return { kind: "dir", path: abs(flags.dir) };
  return { kind: "python", path: abs(flags.python!), dependencies: flags.dep };
}

async function runSubmit(ctx: Context, flags: SubmitFlags): Promise<void> {
  const config = await loadConfig(ctx.home);
  const to = parseList(flags.to, "--to");
  const source = jobSource(ctx, flags);
  const timeout = parseSeconds(flags.timeout, "--timeout");
  const datasets = [...new Set(flags.dataset.map(parseDatasetName))];
  const sent = await sendJob({
    home: ctx.home,
    root: config.root,
    me: config.email,
    to,
    source,
    name: flags.name,
    datasets,
    network: flags.network ?? false,
    timeout,
  });
  ctx.out.result(sent, (r) => {
    ctx.out.line(r.id);
    ctx.out.line(`sent ${r.name} to ${r.to.join(", ")}; follow it with \`syft job wait ${r.id}\``);
  });
  await syncAfterChange(ctx);
}

/** Jobs we own that a reference names; refuse a job we only sent. */
async function ownedJob(ctx: Context, config: Config, ref: string): Promise<JobEntry> {
  const entries = await allJobs(config.root, config.email, ctx.home);
  const named = resolveJobRef(entries, ref);
  const found = named.filter((e) => e.role === "owner");
  if (found.length === 0) {
    const id = named[0]!.key.id;
    throw new SyftError("E_PERMISSION", `job ${id} is not yours to decide: you sent it`, {
      hint: `${named.map((e) => e.owner).join(" and ")} decide${
        named.length > 1 ? "" : "s"
      }; follow it with \`syft job wait ${id}\``,
    });
  }
  return found[0]!;
}

/**
 * Whether `decision` on `entry` goes ahead: a decision made before prints
 * "already …" and ends the command with exit 0 (as `peer approve` does); one
 * that can no longer be made is an input error saying why.
 */
function decide(ctx: Context, entry: JobEntry, decision: JobDecision): boolean {
  if (entry.state === null) return true; // the desk says it has not been received
  const answer = answerDecision(
    decision,
    entry.state.status,
    jobLabel(entry.key),
    entry.key.submitter,
  );
  if (answer.kind === "refuse") {
    throw new SyftError("E_INPUT", answer.message, { hint: answer.hint });
  }
  if (answer.kind === "already") {
    ctx.out.result(
      {
        id: entry.key.id,
        submitter: entry.key.submitter,
        status: entry.state.status,
        changed: false,
      },
      () => ctx.out.line(answer.message),
    );
    return false;
  }
  return true;
}

async function runApprove(ctx: Context, flags: { hash?: string }, args: string[]): Promise<void> {
  const config = await loadConfig(ctx.home);
  if (flags.hash !== undefined && !/^[0-9a-fA-F]+$/.test(flags.hash)) {
    throw new SyftError("E_USAGE", `--hash ${JSON.stringify(flags.hash)} is not a hex hash`, {
      hint: `pass the hash \`syft job show ${args[0] ?? "<id>"}\` prints`,
    });
  }
  const entry = await ownedJob(ctx, config, args[0] ?? "");
  if (!decide(ctx, entry, "approve")) return;
  const desk = ownerDesk(ctx, config);
  if (entry.config?.grants.network) {
    ctx.out.warn(`job ${jobLabel(entry.key)} asks for NETWORK access while it runs`);
  }
  const state = await approveJob(desk, entry.key, "manual", flags.hash ?? null);
  if (state.status === "rejected") {
    // The rejection is a decision the submitter hears of; the command still failed.
    await syncAfterChange(ctx);
    const why = state.history[state.history.length - 1]?.reason ?? "its files no longer check";
    throw new SyftError(
      "E_PERMISSION",
      `job ${jobLabel(entry.key)} was not approved and is now rejected: ${why}`,
      {
        hint: `see it with \`syft job show ${jobLabel(entry.key)}\`; ` +
          `${entry.key.submitter} can send it again as a new job`,
      },
    );
  }
  ctx.out.result({
    id: entry.key.id,
    submitter: entry.key.submitter,
    status: state.status,
    hash: state.policy_hash,
    policy_hash: state.policy_hash,
    changed: true,
  }, (r) => {
    const why = state.history[state.history.length - 1]?.reason;
    ctx.out.line(`${jobLabel(entry.key)} ${r.status}${why ? `: ${why}` : ""}`);
    if (r.status === "approved") {
      ctx.out.line(`run it with \`syft job run ${jobLabel(entry.key)}\``);
    }
  });
  await syncAfterChange(ctx);
}

async function runReject(ctx: Context, flags: { reason?: string }, args: string[]): Promise<void> {
  const config = await loadConfig(ctx.home);
  const entry = await ownedJob(ctx, config, args[0] ?? "");
  if (!decide(ctx, entry, "reject")) return;
  const state = await rejectJob(ownerDesk(ctx, config), entry.key, flags.reason ?? null);
  ctx.out.result(
    { id: entry.key.id, submitter: entry.key.submitter, status: state.status, changed: true },
    () =>
      ctx.out.line(
        `${jobLabel(entry.key)} rejected${flags.reason ? `: ${flags.reason}` : ""}; ` +
          `${entry.key.submitter} sees this at their next sync`,
      ),
  );
  await syncAfterChange(ctx);
}

interface RunFlags {
  allApproved?: boolean;
  sandbox?: string;
  timeout?: string;
  maxOutput?: string;
  release?: boolean;
  findLinks: string[];
}

async function runRun(ctx: Context, flags: RunFlags, args: string[]): Promise<void> {
  const config = await loadConfig(ctx.home);
  const choice = parseSandboxChoice(flags.sandbox);
  const timeoutS = parseSeconds(flags.timeout, "--timeout");
  const maxOutputMiB = flags.maxOutput === undefined
    ? undefined
    : wholeMiB(flags.maxOutput, "--max-output");
  if ((args[0] === undefined) === !flags.allApproved) {
    throw new SyftError("E_USAGE", "give a job id or --all-approved (not both)", {
      hint: "syft job run <id>",
    });
  }
  let entries: JobEntry[];
  if (args[0] !== undefined) {
    const entry = await ownedJob(ctx, config, args[0]);
    const status = entry.state?.status;
    if (flags.release && (status === "done" || status === "failed")) {
      // Run before, release never reached (a crash, or `job run` without --release):
      // what the user asked for is the release, so that is what happens.
      return await runRelease(ctx, {}, [args[0]]);
    }
    if (!decide(ctx, entry, "run")) return;
    entries = [entry];
  } else {
    entries = (await ownerJobs(config.root, config.email, receivedRoot(ctx.home))).filter((e) =>
      e.state?.status === "approved" || e.state?.status === "running"
    );
  }
  if (entries.length === 0) {
    ctx.out.result([], () => ctx.out.line("no approved jobs to run"));
    return;
  }
  const mode = await resolveSandbox(ctx, choice);
  // Which mechanism holds the memory cap here (issue 12): said before the jobs run.
  ctx.out.line(await describeMemoryCap(config.sandbox.memory_mib));
  const desk = ownerDesk(ctx, config);
  const outcomes = await runJobs(
    ctx,
    desk,
    entries.map((e) => e.key),
    runnerOptions(ctx, config, mode, {
      ...(timeoutS === undefined ? {} : { timeoutS }),
      ...(maxOutputMiB === undefined ? {} : { maxOutputMiB }),
      findLinks: flags.findLinks.map((p) => posix.resolve(ctx.cwd, p)),
    }),
    () => (flags.release ? "manual" : null),
  );
  ctx.out.result(
    outcomes.map((o) => ({
      id: o.key.id,
      submitter: o.key.submitter,
      status: o.state.status,
      returncode: o.state.run?.returncode ?? null,
      sandbox: mode,
    })),
    () => {
      for (const o of outcomes) ctx.out.line(describeOutcome(o, mode));
      const unreleased = outcomes.find((o) => o.refused === null && o.state.status === "done");
      if (unreleased) {
        const label = jobLabel(unreleased.key);
        ctx.out.line(`release its logs and outputs with \`syft job release ${label}\``);
      }
    },
  );
  await syncAfterChange(ctx);
  const refused = outcomes.filter((o) => o.refused !== null);
  if (refused.length > 0) {
    const what = refused.map((o) => `${jobLabel(o.key)}: ${o.refused}`).join("; ");
    const first = jobLabel(refused[0]!.key);
    throw new SyftError("E_PERMISSION", `refused to run ${what}`, {
      hint: `compare it with \`syft job show ${first}\`; reject it, or ask ` +
        `${refused[0]!.key.submitter} to send it again`,
    });
  }
  // A job whose script failed is a negative answer (exit 1), as `job wait` gives it.
  const failed = outcomes.filter((o) => o.refused === null && runOutcome(o).ran === "failed");
  if (failed.length > 0) {
    const first = jobLabel(failed[0]!.key);
    throw new SyftError(
      "E_DENIED",
      `${failed.length === 1 ? "job" : "jobs"} ${
        failed.map((o) => jobLabel(o.key)).join(", ")
      } failed`,
      { hint: `read why with \`syft job logs ${first}\`` },
    );
  }
}

async function runRelease(ctx: Context, _flags: unknown, args: string[]): Promise<void> {
  const config = await loadConfig(ctx.home);
  const entry = await ownedJob(ctx, config, args[0] ?? "");
  if (!decide(ctx, entry, "release")) return;
  const state = await releaseJob(ownerDesk(ctx, config), entry.key);
  ctx.out.result(
    { id: entry.key.id, submitter: entry.key.submitter, status: state.status, changed: true },
    () =>
      ctx.out.line(
        `${
          jobLabel(entry.key)
        } released: ${entry.key.submitter} gets its logs and outputs at their next sync`,
      ),
  );
  await syncAfterChange(ctx);
}

async function runPolicyAdd(
  ctx: Context,
  flags: { from: string; peers?: string },
  args: string[],
): Promise<void> {
  const config = await loadConfig(ctx.home);
  const name = args[0] ?? "";
  if (!POLICY_NAME_RE.test(name)) {
    throw new SyftError("E_USAGE", `policy name ${JSON.stringify(name)} is not valid`, {
      hint: "use letters, digits, - and _ (up to 64)",
    });
  }
  const entry = await ownedJob(ctx, config, flags.from);
  const added = await addPolicyFrom({
    home: ctx.home,
    desk: ownerDesk(ctx, config),
    name,
    from: entry,
    peers: flags.peers === undefined ? undefined : parseList(flags.peers, "--peers"),
  });
  ctx.out.result(added, (r) => {
    ctx.out.line(
      `policy ${r.name}: jobs from ${
        r.peers.join(", ")
      } identical to ${r.from} are approved, run and released without asking`,
    );
  });
}

async function runPolicyList(ctx: Context): Promise<void> {
  const policies = await readPolicies(posix.join(ctx.home, POLICY_FILE));
  ctx.out.result(policies, (list) => {
    if (list.length === 0) {
      ctx.out.line("no policies (syft job policy add <name> --from <job-id>)");
      return;
    }
    ctx.out.table(list, [
      { header: "name", value: (p) => p.name },
      { header: "peers", value: (p) => p.peers.join(",") },
      { header: "from", value: (p) => p.from },
      { header: "hash", value: (p) => p.policy_hash.slice(0, 16) },
    ]);
  });
}

async function runPolicyRemove(ctx: Context, _flags: unknown, args: string[]): Promise<void> {
  const config = await loadConfig(ctx.home);
  const file = posix.join(ctx.home, POLICY_FILE);
  const name = args[0] ?? "";
  const policies = await readPolicies(file);
  if (!policies.some((p) => p.name === name)) {
    throw new SyftError("E_INPUT", `no policy named ${JSON.stringify(name)}`, {
      hint: "see `syft job policy list`",
    });
  }
  await writePolicies(file, policies.filter((p) => p.name !== name));
  await appendAudit(homeLayout(ctx.home).auditLog, {
    at: new Date().toISOString(),
    action: "policy.remove",
    job: null,
    by: config.email,
    how: `policy:${name}`,
  });
  ctx.out.result({ name, removed: true }, () => ctx.out.line(`policy ${name} removed`));
}
