/**
 * The command tree: global flags of docs/cli.md and one registration per command group.
 * @module
 */
import { Command } from "commander";
import { VERSION } from "../core/version.ts";
import { registerAudit } from "./audit.ts";
import { registerAuth } from "./auth.ts";
import { registerDataset } from "./dataset.ts";
import { registerDoctor } from "./doctor.ts";
import { applyHelp } from "./help.ts";
import { registerInit } from "./init.ts";
import { registerJob } from "./job.ts";
import type { OutputSink } from "./output.ts";
import { registerPeer } from "./peer.ts";
import { registerPerm } from "./perm.ts";
import { registerStatus } from "./status.ts";
import { registerSync } from "./sync.ts";
import { registerTransport } from "./transport_cmd.ts";

/** Build the `syft` program. Parser errors throw (exitOverride) so main maps them to exit 2. */
export function buildProgram(sink: OutputSink): Command {
  const program = new Command("syft");
  program
    .description(
      "Peer-to-peer remote data science: share mock data, send jobs, get back only results.",
    )
    .version(VERSION, "--version", "print the version")
    .option("--home <dir>", "syft's own folder (default $SYFT_HOME, else ~/.syft)")
    .option("--json", "machine output, on commands that list it: one JSON document")
    .option("--quiet", "print nothing but errors")
    .option("--debug", "print stack traces for errors")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => sink.out(text),
      writeErr: (text) => sink.err(text),
      outputError: (text, write) => write(text),
    })
    .showSuggestionAfterError(true)
    .showHelpAfterError(false);

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
