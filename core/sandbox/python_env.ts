/**
 * Build a job's python venv in its own sandbox call: network only when an index
 * is given, no datasets, the venv folder writable at `/venv` (the path `runJob`
 * later mounts it at, read-only, so the scripts pip writes keep working).
 * In mode "none" the venv is built at its real host path instead, and is only
 * usable by mode "none" runs.
 * @module
 */

import { join, resolve } from "node:path";
import { buildBwrapArgs, INSIDE, sandboxPath } from "./bwrap_args.ts";
import { jobLimits, limitPrefix } from "./limits.ts";
import {
  HOST_PATH,
  MEMORY_BYTES,
  probeSystem,
  requireBubblewrap,
  type SandboxMode,
} from "./run.ts";
import { chownTree, countProcesses, stageReadOnly } from "./_stage.ts";
import { openRunSlot } from "./_run_slot.ts";
import { readCapped } from "../encoding/bytes.ts";
import { spawnGroup } from "./_spawn.ts";

/** What to install, where, and how. */
export interface PythonInstallSpec {
  /** Host folder of the venv (created when missing). */
  venvDir: string;
  /** pip requirement strings; none may start with "-" (no option injection). */
  dependencies: readonly string[];
  /** A package index URL; turns the network on. */
  index?: string;
  /** Local folders of wheels (pip --find-links --no-index). */
  findLinks?: readonly string[];
  mode: SandboxMode;
  timeoutMs: number;
  scratchDir: string;
  /** The memory cap (config `sandbox.memory_mib`); default 4096 MiB. */
  memoryBytes?: number;
}

const LOG_CAP = 1024 * 1024;

/** The pip command line, `venv` being where the venv is as the installer sees it. */
export function pipArgs(
  venv: string,
  deps: readonly string[],
  source: { index?: string; findLinks: readonly string[] },
): string[] {
  const args = [`${venv}/bin/pip`, "install", "--no-input", "--disable-pip-version-check"];
  if (source.index !== undefined) args.push("--index-url", source.index);
  else {
    args.push("--no-index");
    for (const dir of source.findLinks) args.push("--find-links", dir);
  }
  return [...args, "--", ...deps];
}

/** The installer script: `$1` is the venv, the rest the pip argv, so nothing is quoted by hand. */
const INSTALL_SCRIPT = 'venv=$1; shift; /usr/bin/python3 -m venv -- "$venv" && exec "$@"';

/**
 * Create a venv and pip-install `dependencies` into it, sandboxed.
 * @throws {SyftError} `E_SANDBOX` when mode is "bwrap" and bubblewrap is unusable.
 */
export async function installPythonDeps(
  spec: PythonInstallSpec,
): Promise<{ ok: boolean; log: string }> {
  const badDep = spec.dependencies.find((d) => d.startsWith("-") || d.length === 0);
  if (badDep !== undefined) {
    return { ok: false, log: `refused dependency ${JSON.stringify(badDep)}\n` };
  }
  if (spec.mode === "bwrap") await requireBubblewrap();
  const venvDir = resolve(spec.venvDir);
  await Deno.mkdir(venvDir, { recursive: true });
  const slot = await openRunSlot(resolve(spec.scratchDir), spec.memoryBytes ?? MEMORY_BYTES);
  try {
    const asRoot = slot.asRoot;
    // As root the venv is built in the stage (the run's uid owns it) and copied into place after.
    const buildDir = asRoot ? join(slot.stage, "venv") : venvDir;
    const buildSeen = asRoot ? slot.seen("venv") : venvDir;
    let findLinks = (spec.findLinks ?? []).map((d) => resolve(d));
    if (asRoot) {
      await Deno.mkdir(buildDir);
      const staged: string[] = [];
      for (const [i, dir] of findLinks.entries()) {
        await stageReadOnly(dir, join(slot.stage, `find-links-${i}`));
        staged.push(slot.seen(`find-links-${i}`));
      }
      findLinks = staged;
    }
    const limits = jobLimits({
      timeoutMs: spec.timeoutMs,
      maxOutputBytes: 1024 * 1024 * 1024,
      maxLogBytes: LOG_CAP,
      ...(asRoot
        ? { dropTo: slot.uid, existingProcesses: 0 }
        : { existingProcesses: await countProcesses(slot.uid) }),
      ...(slot.cap.mode === "rlimit" ? { asBytes: slot.cap.bytes } : {}),
    });
    const source = { findLinks, ...(spec.index === undefined ? {} : { index: spec.index }) };
    let argv: string[];
    let env: Record<string, string>;
    if (spec.mode === "bwrap") {
      const insideLinks = findLinks.map((_, i) => `${INSIDE.findLinks}/${i}`);
      env = { PATH: sandboxPath(), HOME: INSIDE.home, LANG: "C.UTF-8", TMPDIR: INSIDE.tmp };
      const bwrap = buildBwrapArgs({
        system: await probeSystem(),
        network: spec.index !== undefined,
        datasets: [],
        venv: { dir: buildSeen, writable: true },
        findLinks,
        sizes: { tmp: 1024 * 1024 * 1024 },
        env,
        cwd: INSIDE.tmp,
      });
      const pip = pipArgs(INSIDE.venv, spec.dependencies, { ...source, findLinks: insideLinks });
      argv = [
        ...await slot.enter(),
        ...limitPrefix(limits),
        "bwrap",
        ...bwrap,
        "--",
        "bash",
        "-c",
        INSTALL_SCRIPT,
        "syft-install",
        INSIDE.venv,
        ...pip,
      ];
      env = { PATH: HOST_PATH };
    } else {
      await Deno.mkdir(join(slot.stage, "home"));
      const home = slot.seen("home");
      env = { PATH: sandboxPath(), HOME: home, LANG: "C.UTF-8", TMPDIR: home };
      const pip = pipArgs(buildSeen, spec.dependencies, source);
      argv = [
        ...await slot.enter(),
        ...limitPrefix(limits),
        "bash",
        "-c",
        INSTALL_SCRIPT,
        "syft-install",
        buildSeen,
        ...pip,
      ];
    }
    const proc = spawnGroup(argv, { env, cwd: "/", deadlineMs: spec.timeoutMs, stdout: "piped" });
    const [out, err, status] = await Promise.all([
      readCapped(proc.child.stdout, LOG_CAP),
      readCapped(proc.child.stderr, LOG_CAP),
      proc.child.status,
    ]);
    proc.clear();
    proc.killGroup();
    let log = new TextDecoder().decode(out.bytes) + new TextDecoder().decode(err.bytes);
    if (proc.expired) log += `\n[syft: the install did not finish within ${spec.timeoutMs} ms]\n`;
    let ok = status.success && !proc.expired;
    if (ok && buildDir !== venvDir) {
      // Built by the run's uid in the stage; into place, owned by root, readable by runs.
      const cp = await new Deno.Command("cp", {
        args: ["-a", "--", `${buildDir}/.`, venvDir],
        stderr: "piped",
      }).output();
      if (!cp.success) {
        ok = false;
        log += `\n[syft: could not copy the venv into place: ${
          new TextDecoder().decode(cp.stderr).trim()
        }]\n`;
      } else await chownTree(venvDir, 0);
    }
    return { ok, log };
  } finally {
    await slot.release();
  }
}
