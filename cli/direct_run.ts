/**
 * Run a line of {@linkcode directLine} without the parser: the same context,
 * the same command function and the same error reporting as the parser's
 * route, so the output cannot tell them apart.
 * @module
 */
import { lazyImport } from "../core/lazy_import.ts";
import { type Context, contextFor } from "./context.ts";
import type { DirectLine } from "./direct_line.ts";
import { exitCodeFor } from "./exit_code.ts";
import { type OutputSink, terminalSafe } from "./output.ts";

type Run = (ctx: Context) => Promise<void>;

/** Each direct command's function (a computed specifier: core/lazy_import.ts). */
const RUNS: Record<string, () => Promise<Run>> = {
  status: async () =>
    (await lazyImport<typeof import("./status.ts")>(new URL("./status.ts", import.meta.url)))
      .runStatus,
};

/** Run `line`; returns the exit code. */
export async function runDirect(line: DirectLine, rawSink: OutputSink): Promise<number> {
  const sink = terminalSafe(rawSink);
  try {
    const run = await RUNS[line.command]!();
    await run(await contextFor(line.flags));
    return 0;
  } catch (err) {
    return exitCodeFor(err, sink, line.flags.debug ?? false);
  }
}
