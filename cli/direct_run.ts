/**
 * Run a line of {@linkcode directLine} without the parser: the same context,
 * the same command function and the same error reporting as the parser's
 * route, so the output cannot tell them apart.
 * @module
 */
import { lazyImport } from "../core/lazy_import.ts";
import { loadYamlParserOnDemand } from "../core/permissions/parse_on_demand.ts";
import { type Context, contextFor } from "./context.ts";
import type { DirectLine } from "./direct_line.ts";
import { exitCodeFor } from "./exit_code.ts";
import { type OutputSink, terminalSafe } from "./output.ts";

type Run = (ctx: Context) => Promise<void>;

/** Each direct command's function (a computed specifier: core/lazy_import.ts). */
const RUNS: Record<string, (oneShot: boolean) => Promise<Run>> = {
  status: async (oneShot) => {
    // The permission files syft writes need no YAML parser; status loads it
    // only for one that does (core/status/report.ts). Only in a process that
    // runs nothing after it: other commands expect it loaded.
    if (oneShot) loadYamlParserOnDemand();
    return (await lazyImport<typeof import("./status.ts")>(new URL("./status.ts", import.meta.url)))
      .runStatus;
  },
  // `sync` without options: one round, as the parser's route runs it with no flags.
  sync: async () => {
    const sync = await lazyImport<typeof import("./sync.ts")>(
      new URL("./sync.ts", import.meta.url),
    );
    return (ctx) => sync.runSync(ctx, {});
  },
};

/** Run `line`; returns the exit code. `oneShot`: see `RunOptions` in main.ts. */
export async function runDirect(
  line: DirectLine,
  rawSink: OutputSink,
  oneShot = false,
): Promise<number> {
  const sink = terminalSafe(rawSink);
  try {
    const run = await RUNS[line.command]!(oneShot);
    await run(await contextFor(line.flags));
    return 0;
  } catch (err) {
    return exitCodeFor(err, sink, line.flags.debug ?? false);
  }
}
