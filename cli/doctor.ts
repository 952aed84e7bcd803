/**
 * `syft doctor [--fix] [--json]`
 * @module
 */
import type { Command } from "commander";
import { requireOwnHome } from "../core/config/home_guard.ts";
import { loadConfig } from "../core/config/load.ts";
import type { Config } from "../core/config/config.ts";
import { type BrokenConfig, runDoctor } from "../core/doctor/checks.ts";
import { repairModes } from "../core/doctor/repair.ts";
import { SyftError } from "../core/errors/mod.ts";
import { type Context, withContext } from "./context.ts";
import { dropboxDoctorChecks } from "./dropbox_account.ts";
import { driveDoctorChecks } from "./gdrive_account.ts";
import { openTransport } from "./transport.ts";

/** Register `syft doctor`. */
export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .summary(
      "check home, keys, private/, sign-in, transport, sandbox, clock and disk, and say what to fix",
    )
    .option(
      "--fix",
      "narrow wide modes first: your home and its folders to 0700, key files and private/ files to 0600, private/ folders to 0700",
    )
    // Doctor must run on an unsafe home: reporting that is part of its job.
    .action(withContext(runDoctorCommand, { requireOwnHome: false }));
}

interface DoctorFlags {
  fix?: boolean;
}

async function runDoctorCommand(ctx: Context, flags: DoctorFlags): Promise<void> {
  // A broken config is one failed check among the others; a home never
  // initialised has nothing to check (and an unsafe one is the news).
  const loaded: Config | BrokenConfig = await loadConfig(ctx.home).catch(async (err) => {
    if (err instanceof SyftError && err.code === "E_INPUT") return { error: err };
    await requireOwnHome(ctx.home);
    throw err;
  });
  const config = "error" in loaded ? undefined : loaded;
  const fixed = flags.fix ? await repairModes(ctx.home, config) : undefined;
  const checks = await runDoctor(ctx.home, loaded, {
    now: () => Date.now(),
    signInChecks: config?.transport === "gdrive"
      ? () => driveDoctorChecks(ctx.home, config)
      : config?.transport === "dropbox"
      ? () => dropboxDoctorChecks(ctx.home, config)
      : undefined,
    probeTransport: async () => {
      if (!config) throw new Error("no config");
      const transport = await openTransport(config, ctx.home, { callTimeoutMs: 15_000 });
      try {
        const me = await transport.whoami();
        const incoming = await transport.listIncoming();
        await transport.changes(null);
        const auth = me.authenticated ? "authenticated" : "unauthenticated shared folder";
        return `${config.transport} reachable as ${me.email} (${auth}), ${incoming.length} incoming channel(s)`;
      } finally {
        await transport.close();
      }
    },
  });
  const failed = checks.filter((c) => c.status === "fail");
  const report = { ok: failed.length === 0, checks, ...(fixed ? { fixed } : {}) };
  ctx.out.result(report, (r) => {
    for (const path of r.fixed ?? []) ctx.out.line(`fixed ${path}`);
    for (const c of r.checks) {
      const mark = c.status === "ok" ? "ok  " : c.status === "warn" ? "warn" : "FAIL";
      ctx.out.line(`${mark}  ${c.name.padEnd(10)} ${c.detail}`);
      if (c.hint && c.status !== "ok") ctx.out.line(`${" ".repeat(16)}fix: ${c.hint}`);
    }
  });
  if (failed.length) {
    throw new SyftError(
      "E_DENIED",
      `${failed.length} doctor check(s) failed: ${
        [...new Set(failed.map((c) => c.name))].join(", ")
      }`,
      {
        hint: "follow the fix lines above",
      },
    );
  }
}
