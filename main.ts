/**
 * The syft entry point. It imports next to nothing: `syft --version` answers
 * here, `syft status` and its global flags skip the parser (cli/direct_line.ts),
 * and every other line loads the parser and only the command it names
 * (cli/run.ts, cli/program_for.ts), so start-up pays for one command's modules.
 * @module
 */
import { directLine } from "./cli/direct_line.ts";
import { lazyImport } from "./core/lazy_import.ts";
import { type OutputSink, processSink } from "./cli/output.ts";
import { VERSION } from "./core/version.ts";

/** Run the CLI with `args`; returns the exit code instead of exiting (tests call this). */
export async function runCli(args: string[], rawSink: OutputSink = processSink): Promise<number> {
  if (asksVersion(args)) {
    rawSink.out(`${VERSION}\n`);
    return 0;
  }
  const direct = directLine(args);
  if (direct !== null) {
    const route = await lazyImport<typeof import("./cli/direct_run.ts")>(
      new URL("./cli/direct_run.ts", import.meta.url),
    );
    return route.runDirect(direct, rawSink);
  }
  const run = await lazyImport<typeof import("./cli/run.ts")>(
    new URL("./cli/run.ts", import.meta.url),
  );
  return run.runProgram(args, rawSink);
}

/** `syft --version` alone: the one line answered without the parser. */
function asksVersion(args: readonly string[]): boolean {
  return args.length === 1 && args[0] === "--version";
}

/** Under `deno task syft`, relative paths mean the user's folder, not the clone. */
async function enterUserFolder(): Promise<void> {
  const folder = await lazyImport<typeof import("./cli/user_folder.ts")>(
    new URL("./cli/user_folder.ts", import.meta.url),
  );
  folder.enterUserFolder();
}

if (import.meta.main) {
  if (!asksVersion(Deno.args)) await enterUserFolder();
  Deno.exit(await runCli(Deno.args));
}
