/**
 * `syft job try <dir|run.sh|file.py> --dataset <name>`: run a job on the mock
 * of the datasets it names, in the sandbox `job run` uses, before sending it.
 * The job folder is built as `job submit` builds it, so what runs here is what
 * an owner would run on the real data.
 * @module
 */
import type { Command } from "commander";
import { posix } from "node:path";
import { wholeSeconds } from "../core/config/flag_values.ts";
import { loadConfig } from "../core/config/load.ts";
import { findDataset, type LocatedDataset } from "../core/datasets/mod.ts";
import { SyftError } from "../core/errors/mod.ts";
import {
  buildBundle,
  DEFAULT_TIMEOUT_S,
  isDependency,
  MAX_TIMEOUT_S,
  writeBundleFiles,
} from "../core/jobs/mod.ts";
import { tryFailure, tryFolderName, tryName, trySource } from "../core/jobs/try_plan.ts";
import { parseIdentity } from "../core/paths/identity.ts";
import {
  installPythonDeps,
  requireBubblewrap,
  runJob,
  type SandboxMode,
} from "../core/sandbox/mod.ts";
import { type Context, withContext } from "./context.ts";
import { parseSandboxChoice } from "./job_exec.ts";

/** The outputs cap of a try: the runner's default. */
const MAX_OUTPUT_BYTES = 100 * 1024 * 1024;

/** Longest pip install of a Python job's dependencies (the runner's). */
const INSTALL_TIMEOUT_MS = 15 * 60_000;

interface TryFlags {
  dataset: string[];
  owner?: string;
  out?: string;
  sandbox?: string;
  timeout?: string;
  dep: string[];
  findLinks: string[];
}

/** Register `job try` under the `job` group. */
export function registerJobTry(job: Command): void {
  job
    .command("try <job>")
    .summary("run a job (folder, run.sh or .py) on datasets' mocks, in the sandbox")
    .description(
      "Run a job on the mock of each --dataset, in the sandbox `job run` uses, and say\n" +
        "where its outputs and logs went. <job> is what `job submit` sends: a folder with\n" +
        "run.sh (or main.py), a run.sh, or a .py file. Exits 1 when the job fails.",
    )
    .option("--dataset <name>", "a dataset whose mock it reads (required; repeat)", collect, [])
    .option("--owner <email>", "whose datasets, when several owners have one by that name")
    .option("--out <dir>", "a new or empty folder (default ./syft-try-<name>-<UTC time>)")
    .option("--sandbox <mode>", "auto, bwrap or none (none runs unsandboxed)")
    .option("--timeout <seconds>", `time limit (default ${DEFAULT_TIMEOUT_S})`)
    .option("--dep <pkg>", "a pip requirement for a Python job (repeat)", collect, [])
    .option("--find-links <dir>", "a local wheel folder for --dep (repeat)", collect, [])
    .action(withContext(runTry));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runTry(ctx: Context, flags: TryFlags, args: string[]): Promise<void> {
  const config = await loadConfig(ctx.home);
  const choice = parseSandboxChoice(flags.sandbox);
  const timeoutS = parseTimeout(flags.timeout);
  const owner = flags.owner === undefined ? undefined : parseIdentity(flags.owner, "--owner");
  const bad = flags.dep.find((d) => !isDependency(d));
  if (bad !== undefined) {
    throw new SyftError("E_USAGE", `--dep ${JSON.stringify(bad)} is not a package requirement`, {
      hint: "e.g. --dep numpy or --dep 'pandas>=2'",
    });
  }
  if (flags.dataset.length === 0) {
    throw new SyftError("E_USAGE", "missing --dataset: whose mock the job reads", {
      hint: "syft job try run.sh --dataset <name> (syft dataset list shows them)",
    });
  }
  const datasets: LocatedDataset[] = [];
  for (const name of new Set(flags.dataset)) {
    datasets.push(await findDataset(config.root, config.email, name, owner));
  }
  const path = posix.resolve(ctx.cwd, args[0] ?? "");
  const source = trySource(path, await look(path), flags.dep);
  if (source.kind !== "python" && flags.dep.length > 0) {
    throw new SyftError("E_USAGE", "--dep only applies to a Python job (.py, or main.py)", {
      hint: "install dependencies in run.sh yourself",
    });
  }
  const bundle = await buildBundle(source);
  if (bundle.dependencies.length > 0 && config.jobs.python_index === null) {
    if (flags.findLinks.length === 0) {
      throw new SyftError("E_USAGE", "--dep needs a package source", {
        hint: "pass --find-links <folder of wheels>, or set jobs.python_index in config.yaml",
      });
    }
  }
  const name = tryName(path);
  const out = await claimOut(ctx, flags.out, name);

  const mode = await sandboxFor(ctx, choice);
  await Deno.mkdir(posix.join(ctx.home, "cache", "try"), { recursive: true });
  const scratch = await Deno.makeTempDir({ dir: posix.join(ctx.home, "cache", "try") });
  let result;
  try {
    const code = posix.join(scratch, "code");
    await writeBundleFiles(bundle, code);
    const memoryBytes = config.sandbox.memory_mib * 1024 * 1024;
    let venvDir: string | undefined;
    if (bundle.dependencies.length > 0) {
      venvDir = posix.join(scratch, "venv");
      const installed = await installPythonDeps({
        venvDir,
        dependencies: bundle.dependencies,
        ...(config.jobs.python_index ? { index: config.jobs.python_index } : {}),
        findLinks: flags.findLinks.map((p) => posix.resolve(ctx.cwd, p)),
        mode,
        timeoutMs: INSTALL_TIMEOUT_MS,
        scratchDir: scratch,
        memoryBytes,
      });
      if (!installed.ok) {
        const last = installed.log.trim().split("\n").slice(-1)[0] ?? "";
        throw new SyftError("E_DENIED", `installing the dependencies failed: ${last}`, {
          hint: "check --dep and the package source (--find-links, jobs.python_index)",
        });
      }
    }
    result = await runJob({
      jobId: `try-${name}`,
      codeDir: code,
      entrypoint: bundle.entrypoint,
      datasets: datasets.map((d) => ({ name: d.name, dir: d.location })),
      network: false,
      timeoutMs: timeoutS * 1000,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      mode,
      outDir: out,
      scratchDir: scratch,
      ...(venvDir ? { venvDir } : {}),
      scratchBytes: config.sandbox.scratch_mib * 1024 * 1024,
      memoryBytes,
    });
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }

  // Logs apart from outputs, as `job results` keeps them: an output named stdout.txt stays one.
  const logs = posix.join(out, "logs");
  await Deno.mkdir(logs);
  for (const f of ["stdout.txt", "stderr.txt"]) {
    await Deno.rename(posix.join(out, f), posix.join(logs, f)).catch(() => {});
  }
  await Deno.writeTextFile(
    posix.join(logs, "returncode.txt"),
    result.returncode === null ? "killed\n" : `${result.returncode}\n`,
  );
  const failure = tryFailure({
    returncode: result.returncode,
    timedOut: result.timedOut,
    outputsTruncated: result.outputs.truncated,
    error: result.error,
  }, timeoutS);
  const outputs = posix.join(out, "outputs");
  ctx.out.result({
    outputs,
    logs,
    returncode: result.returncode,
    ok: failure === null,
    sandbox: mode,
    output_files: result.outputs.files,
    datasets: datasets.map((d) => ({ name: d.name, owner: d.owner, mock: d.location })),
  }, (r) => {
    const on = datasets.map((d) => `${d.name} (${d.owner})`).join(", ");
    ctx.out.line(
      `${failure === null ? "ran" : "failed:"} ${name} on the mock of ${on} in ${
        mode === "bwrap" ? "the sandbox" : "NO sandbox"
      }: ${failure ?? "exit code 0"}`,
    );
    ctx.out.fields([
      ["outputs", `${r.outputs}/ (${r.output_files} file${r.output_files === 1 ? "" : "s"})`],
      ["logs", `${r.logs}/ (stdout.txt, stderr.txt)`],
    ]);
  });
  if (failure !== null) {
    throw new SyftError("E_DENIED", `${name} ${failure} on the mock`, {
      hint: `read its logs: cat ${posix.join(logs, "stderr.txt")}`,
    });
  }
}

async function look(path: string) {
  const info = await Deno.stat(path).catch(() => null);
  if (info === null) {
    throw new SyftError("E_INPUT", `${path} does not exist`, {
      hint: "give a job folder with run.sh, a run.sh, or a .py file",
    });
  }
  const has = (name: string) =>
    Deno.lstat(posix.join(path, name)).then((i) => i.isFile, () => false);
  return info.isDirectory
    ? { isDirectory: true, hasRunSh: await has("run.sh"), hasMainPy: await has("main.py") }
    : { isDirectory: false, hasRunSh: false, hasMainPy: false };
}

/**
 * The folder the try writes: `--out` when new or empty, else a new
 * `syft-try-<name>-<time>` here. It must not exist when the run starts.
 */
async function claimOut(ctx: Context, flag: string | undefined, name: string): Promise<string> {
  if (flag === undefined) {
    const out = posix.join(ctx.cwd, tryFolderName(name, new Date()));
    if (await Deno.lstat(out).then(() => true, () => false)) {
      throw new SyftError("E_EXISTS", `${out} already exists`, { hint: "try again in a second" });
    }
    return out;
  }
  const out = posix.resolve(ctx.cwd, flag);
  const info = await Deno.lstat(out).catch(() => null);
  if (info !== null) {
    const empty = info.isDirectory &&
      (await Array.fromAsync(Deno.readDir(out)).then((e) => e.length === 0, () => false));
    if (!empty) {
      throw new SyftError("E_EXISTS", `--out ${out} exists and is not an empty folder`, {
        hint: "give a new folder, or leave out --out for a fresh ./syft-try-… folder",
      });
    }
    await Deno.remove(out);
  } else {
    await Deno.mkdir(posix.dirname(out), { recursive: true });
  }
  return out;
}

/** Without a working bubblewrap nothing runs (exit 5) unless --sandbox none, which is loud. */
async function sandboxFor(ctx: Context, choice: "auto" | "bwrap" | "none"): Promise<SandboxMode> {
  if (choice === "none") {
    ctx.out.warn(
      "running WITHOUT a sandbox (--sandbox none): the job can read, change and send " +
        "anything this user can",
    );
    return "none";
  }
  await requireBubblewrap();
  return "bwrap";
}

function parseTimeout(raw: string | undefined): number {
  return raw === undefined ? DEFAULT_TIMEOUT_S : wholeSeconds(raw, "--timeout", MAX_TIMEOUT_S);
}
