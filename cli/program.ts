/**
 * The command tree: global flags of docs/cli.md and one registration per command group.
 * @module
 */
import type { Command } from "commander";
import { registerAudit } from "./audit.ts";
import { registerAuth } from "./auth.ts";
import { registerDataset } from "./dataset.ts";
import { registerDoctor } from "./doctor.ts";
import { applyHelp } from "./help.ts";
import { registerInit } from "./init.ts";
import { registerJob } from "./job.ts";
import type { OutputSink } from "./output.ts";
import { baseProgram } from "./program_base.ts";
import { registerPeer } from "./peer.ts";
import { registerPerm } from "./perm.ts";
import { registerStatus } from "./status.ts";
import { registerSync } from "./sync.ts";
import { registerTransport } from "./transport_cmd.ts";

/** Build the whole `syft` program. Parser errors throw (exitOverride) so main maps them to exit 2. */
export function buildProgram(sink: OutputSink): Command {
  const program = baseProgram(sink);
  registerInit(program);
  registerAuth(program);
  registerStatus(program);
  registerDoctor(program);
  registerPerm(program);
  registerPeer(program);
  registerSync(program);
  registerTransport(program);
  registerDataset(program);
  registerJob(program);
  registerAudit(program);
  // Last, so every command registered above gets the same help.
  applyHelp(program);
  return program;
}
