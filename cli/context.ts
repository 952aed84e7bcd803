/**
 * What every command receives: the resolved home, output flags and the
 * environment, built once from the global flags.
 * @module
 */
import type { Command } from "commander";
import { type LocationEnv, processEnv, resolveHome } from "../core/config/home.ts";
import { requireOwnHome } from "../core/config/home_guard.ts";
import { Output, type OutputSink, processSink } from "./output.ts";

/** The global flags of docs/cli.md. */
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

/** How a command treats its home before it runs. */
export interface ContextOptions {
  /**
   * Refuse (exit 3) a home another user could write to or owns. On by default;
   * only `doctor` turns it off, as it must run to report those problems.
   */
  requireOwnHome?: boolean;
}

/**
 * Wrap a command handler: commander passes positional args, then the command's
 * own options, then the command; this gives the handler a context and typed options.
 * Every command goes through here (or cli/direct_run.ts), and so through
 * {@linkcode contextFor}, where an unsafe home is refused.
 */
export function withContext<O>(
  handler: (ctx: Context, options: O, args: string[]) => Promise<void> | void,
  contextOptions: ContextOptions = {},
): (...raw: unknown[]) => Promise<void> {
  return async (...raw) => {
    const command = raw[raw.length - 1] as Command;
    const options = command.opts() as O;
    const args = raw.slice(0, -2).filter((a): a is string => typeof a === "string");
    await handler(
      await contextFor(command.optsWithGlobals() as GlobalFlags, contextOptions),
      options,
      args,
    );
  };
}

/** The context a command runs in, once its home is known safe (unless `contextOptions` says not to check). */
export async function contextFor(
  flags: GlobalFlags,
  contextOptions: ContextOptions = {},
): Promise<Context> {
  const ctx = makeContext(flags);
  if (contextOptions.requireOwnHome ?? true) await requireOwnHome(ctx.home);
  return ctx;
}
