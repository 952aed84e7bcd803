/**
 * What every command receives: the resolved home, output flags and the
 * environment, built once from the global flags.
 * @module
 */
import type { Command } from "commander";
import { type LocationEnv, processEnv, resolveHome } from "../core/config/home.ts";
import { Output, type OutputSink, processSink } from "./output.ts";

/** The global flags of CLI.md. */
export interface GlobalFlags {
  home?: string | undefined;
  json?: boolean | undefined;
  quiet?: boolean | undefined;
  debug?: boolean | undefined;
}

/** A command's view of the world. */
export interface Context {
  home: string;
  out: Output;
  env: LocationEnv;
  cwd: string;
  debug: boolean;
  /** Whether prompts may be shown (stdin is a terminal and --json is off). */
  interactive: boolean;
}

/** Build the context from the parsed global flags. */
export function makeContext(flags: GlobalFlags, sink: OutputSink = processSink): Context {
  const env = processEnv();
  const cwd = Deno.cwd();
  const json = flags.json ?? false;
  return {
    home: resolveHome(flags.home, env, cwd),
    out: new Output({ json, quiet: flags.quiet ?? false }, sink),
    env,
    cwd,
    debug: flags.debug ?? false,
    interactive: !json && Deno.stdin.isTerminal(),
  };
}

/**
 * Wrap a command handler: commander passes positional args, then the command's
 * own options, then the command; this gives the handler a context and typed options.
 */
export function withContext<O>(
  handler: (ctx: Context, options: O, args: string[]) => Promise<void> | void,
): (...raw: unknown[]) => Promise<void> {
  return async (...raw) => {
    const command = raw[raw.length - 1] as Command;
    const options = command.opts() as O;
    const args = raw.slice(0, -2).filter((a): a is string => typeof a === "string");
    const ctx = makeContext(command.optsWithGlobals() as GlobalFlags);
    await handler(ctx, options, args);
  };
}
