/**
 * A command line run through the parser: builds the program the line needs,
 * runs it, and maps every error to one `error:` line (plus a `hint:`) and the
 * exit code docs/cli.md fixes. main.ts loads this only when the line is more
 * than `--version`.
 * @module
 */
import { CommanderError } from "commander";
import { exitCodeFor } from "./exit_code.ts";
import { commandNamed } from "./help.ts";
import { programFor } from "./program_for.ts";
import { type OutputSink, terminalSafe } from "./output.ts";

/** Exit code for parser errors (unknown flag, bad choice, missing argument). */
const USAGE_EXIT = 2;

/** Run `args`; returns the exit code instead of exiting. */
export async function runProgram(args: string[], rawSink: OutputSink): Promise<number> {
  // Error messages quote peers' names, paths and reasons: they go through the same gate.
  const sink = terminalSafe(rawSink);
  const debug = args.includes("--debug");
  const program = await programFor(args, sink);
  if (args.length === 0) {
    sink.err(program.helpInformation());
    return USAGE_EXIT;
  }
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      if (err.code === "commander.help" || err.code === "commander.helpDisplayed") {
        return USAGE_EXIT;
      }
      sink.err(`hint: run \`${commandNamed(program, args)} --help\` for its usage and examples\n`);
      return USAGE_EXIT;
    }
    return exitCodeFor(err, sink, debug);
  }
}
