/**
 * The `syft` program before any command is registered: its name, version and
 * global flags (docs/cli.md), and how it reports parse errors.
 * @module
 */
import { Command } from "commander";
import { VERSION } from "../core/version.ts";
import type { OutputSink } from "./output.ts";

/** The `syft` program with its global flags and no command yet. */
export function baseProgram(sink: OutputSink): Command {
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
  return program;
}
