/**
 * How a command's failure reaches the user: one `error:` line, a `hint:`
 * when there is one, a stack trace only with `--debug`, and the exit code
 * docs/cli.md fixes. Parser errors are cli/run.ts's; everything else is here,
 * shared by the parser's path and the direct one (cli/direct_run.ts).
 * @module
 */
import { ExitWith } from "./errors.ts";
import type { OutputSink } from "./output.ts";
import { describeError, SyftError } from "../core/errors/mod.ts";

/** Report `err` on `sink` (already terminal-safe) and return the exit code. */
export function exitCodeFor(err: unknown, sink: OutputSink, debug: boolean): number {
  if (err instanceof ExitWith) return err.code;
  if (err instanceof SyftError) {
    sink.err(`error: ${err.message}\n`);
    if (err.hint) sink.err(`hint: ${err.hint}\n`);
    if (debug) sink.err(`${err.stack ?? ""}\n${err.cause ? describeCause(err.cause) : ""}`);
    return err.exitCode;
  }
  sink.err(`error: internal error: ${describeError(err)}\n`);
  sink.err("hint: this is a bug in syft; re-run with --debug and report the output\n");
  if (debug && err instanceof Error) sink.err(`${err.stack ?? ""}\n`);
  return 10;
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? `caused by: ${cause.stack ?? cause.message}\n` : "";
}
