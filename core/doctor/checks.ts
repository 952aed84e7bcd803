/**
 * `syft doctor`'s checks. Each says what it found and, when something is wrong,
 * what to do. Effects that live outside core (the transport) are passed in.
 * @module
 */
import { posix } from "node:path";
import { type Config, DEFAULT_SANDBOX } from "../config/config.ts";
import { homeLayout } from "../config/home.ts";
import { currentUid, formatMode, inspectHome, judgeHome } from "../config/home_guard.ts";
import { keyFileProblems, readKeys } from "../config/keystore.ts";
import { datasiteFolders } from "../datasite/layout.ts";
import { describeError, SyftError } from "../errors/mod.ts";
import { probeBubblewrap } from "../sandbox/probe.ts";
import { memoryCapCheck } from "../sandbox/memory_cap.ts";
import { describeWide, privateDir, walkPrivate, wideEntries } from "./private_modes.ts";

/** The verdict of one check. */
export interface CheckResult {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  hint?: string | undefined;
}

/** What doctor needs from outside core. */
export interface DoctorDeps {
  /** Reach the transport (start it, ask who we are, list incoming); returns a detail line. */
  probeTransport(): Promise<string>;
  /** The cloud sign-in's own checks (token, scope, account), for transports that have one. */
  signInChecks?: (() => Promise<CheckResult[]>) | undefined;
  now(): number;
}

function failure(name: string, err: unknown): CheckResult {
  return {
    name,
    status: "fail",
    detail: describeError(err),
    hint: err instanceof SyftError ? err.hint : undefined,
  };
}

/** One result per unsafe home path (every command refuses them), or one "ok". */
async function checkHome(home: string): Promise<CheckResult[]> {
  try {
    const problems = judgeHome(await inspectHome(home), currentUid());
    if (!problems.length) {
      return [{
        name: "home",
        status: "ok",
        detail: `${home} and its folders are yours, writable by you alone`,
      }];
    }
    return problems.map((p) => ({ name: "home", status: "fail", detail: p.message, hint: p.fix }));
  } catch (err) {
    return [failure("home", err)];
  }
}

/** How many wide private/ entries the report names before it just counts. */
const PRIVATE_NAMED = 5;

/** private/ must be the owner's alone: folders 0700, files 0600. */
async function checkPrivate(config: Config): Promise<CheckResult> {
  const name = "private";
  const dir = privateDir(config);
  try {
    const walk = await walkPrivate(dir);
    const wide = wideEntries(walk.entries);
    const limit = walk.truncated ? ` (looked at the first ${walk.entries.length} entries)` : "";
    if (!wide.length) {
      return { name, status: "ok", detail: `${dir}: folders 0700, files 0600${limit}` };
    }
    const named = wide.slice(0, PRIVATE_NAMED).map(describeWide);
    if (wide.length > PRIVATE_NAMED) named.push(`and ${wide.length - PRIVATE_NAMED} more`);
    const rootIsLink = (await Deno.lstat(dir)).isSymlink;
    return {
      name,
      status: "fail",
      detail: `other users may read private data: ${named.join("; ")}${limit}`,
      hint: rootIsLink
        ? `${dir} is a link: chmod 700 the folder it names, and 600 its files`
        : "run `syft doctor --fix` (chmod 700 its folders, 600 its files)",
    };
  } catch (err) {
    return failure(name, err);
  }
}

async function checkKeys(home: string): Promise<CheckResult> {
  const name = "keys";
  try {
    const keysDir = homeLayout(home).keys;
    await readKeys(keysDir);
    const problems = await keyFileProblems(keysDir);
    if (problems.length) {
      return {
        name,
        status: "fail",
        detail: problems.join("; "),
        hint: `chmod 600 ${keysDir}/*.key (or run \`syft doctor --fix\`)`,
      };
    }
    return { name, status: "ok", detail: "signing and agreement keys readable, mode 0600" };
  } catch (err) {
    return failure(name, err);
  }
}

async function checkDatasite(config: Config): Promise<CheckResult> {
  const missing: string[] = [];
  for (const folder of datasiteFolders(config.root, config.email)) {
    try {
      if (!(await Deno.stat(folder)).isDirectory) missing.push(folder);
    } catch {
      missing.push(folder);
    }
  }
  if (missing.length) {
    return {
      name: "datasite",
      status: "fail",
      detail: `missing: ${missing.join(", ")}`,
      hint: "run `syft init` again with the same flags to recreate them",
    };
  }
  const mode = (await Deno.stat(config.root)).mode;
  if (mode !== null && (mode & 0o077) !== 0) {
    return {
      name: "datasite",
      status: "fail",
      detail: `other users may read ${config.root} (mode ${formatMode(mode)}): it holds your ` +
        "peers' shared data and unreleased job outputs",
      hint: `run \`syft doctor --fix\` (chmod 700 ${config.root})`,
    };
  }
  return { name: "datasite", status: "ok", detail: posix.join(config.root, config.email) };
}

async function checkTransport(deps: DoctorDeps): Promise<CheckResult> {
  try {
    return { name: "transport", status: "ok", detail: await deps.probeTransport() };
  } catch (err) {
    return failure("transport", err);
  }
}

async function checkSandbox(): Promise<CheckResult> {
  const probe = await probeBubblewrap();
  return probe.available ? { name: "sandbox", status: "ok", detail: probe.version } : {
    name: "sandbox",
    status: "warn",
    detail: `${probe.reason}; jobs will refuse to run`,
    hint: probe.hint,
  };
}

/** A clock before 2024 breaks every timestamp and ordering syft writes. */
function checkClock(deps: DoctorDeps): CheckResult {
  const now = deps.now();
  const floor = Date.UTC(2024, 0, 1);
  return now < floor
    ? {
      name: "clock",
      status: "fail",
      detail: `system clock reads ${new Date(now).toISOString()}`,
      hint: "set the system time (enable NTP)",
    }
    : { name: "clock", status: "ok", detail: new Date(now).toISOString() };
}

async function checkDisk(root: string): Promise<CheckResult> {
  try {
    const out = await new Deno.Command("df", {
      args: ["-Pk", root],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    const line = new TextDecoder().decode(out.stdout).trim().split("\n")[1] ?? "";
    const availableKiB = Number(line.split(/\s+/)[3]);
    if (!Number.isFinite(availableKiB)) throw new Error("df gave no figure");
    const gib = availableKiB / 1024 / 1024;
    const detail = `${gib.toFixed(1)} GiB free under ${root}`;
    return gib < 1
      ? { name: "disk", status: "warn", detail, hint: "free some space: syncs and jobs need room" }
      : { name: "disk", status: "ok", detail };
  } catch (err) {
    return { name: "disk", status: "warn", detail: `could not measure: ${describeError(err)}` };
  }
}

/** A `config.yaml` that did not load: why (its error names the file and the field). */
export interface BrokenConfig {
  error: unknown;
}

/** The checks that need a loaded config, named when they are skipped. */
const NEED_CONFIG = "datasite, private, sign-in and transport";

function checkConfig(home: string, config: Config | BrokenConfig): CheckResult {
  if (!("error" in config)) {
    return { name: "config", status: "ok", detail: homeLayout(home).config };
  }
  return {
    ...failure("config", config.error),
    detail: `${describeError(config.error)} (${NEED_CONFIG} not checked until it loads)`,
  };
}

/**
 * Run every check; never throws for a failing check, only reports it. A broken
 * config is one failed check: the checks that do not need it still run.
 */
export async function runDoctor(
  home: string,
  config: Config | BrokenConfig,
  deps: DoctorDeps,
): Promise<CheckResult[]> {
  const loaded = "error" in config ? null : config;
  return [
    checkConfig(home, config),
    ...await checkHome(home),
    await checkKeys(home),
    ...(loaded
      ? [
        await checkDatasite(loaded),
        await checkPrivate(loaded),
        ...(deps.signInChecks ? await deps.signInChecks() : []),
        await checkTransport(deps),
      ]
      : []),
    await checkSandbox(),
    await memoryCapCheck((loaded?.sandbox ?? DEFAULT_SANDBOX).memory_mib),
    checkClock(deps),
    await checkDisk(loaded?.root ?? home),
  ];
}
