/**
 * Lines run without the parser. commander imports node:fs, node:child_process
 * and node:process, whose polyfills are a large part of a short command's
 * start-up; a line that is one argument-less command and global flags needs
 * none of it. Anything else, however slightly different, goes to the parser,
 * which owns every error message.
 * @module
 */
import type { GlobalFlags } from "./context.ts";

/** Commands that take no argument and no option of their own. */
export const DIRECT_COMMANDS: ReadonlySet<string> = new Set(["status", "sync"]);

/** A line for the direct route: the command and the global flags as the parser would set them. */
export interface DirectLine {
  command: string;
  flags: GlobalFlags;
}

/**
 * The line `args` as the direct route runs it, or null for the parser: exactly
 * one command of {@linkcode DIRECT_COMMANDS} and global flags before or after
 * it, each given once, `--home` with a value that is not empty and does not
 * look like a flag.
 */
export function directLine(args: readonly string[]): DirectLine | null {
  let command: string | undefined;
  const flags: GlobalFlags = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--json" || a === "--quiet" || a === "--debug") {
      const name = a.slice(2) as "json" | "quiet" | "debug";
      if (flags[name] !== undefined) return null;
      flags[name] = true;
    } else if (a === "--home" || a.startsWith("--home=")) {
      const value = a === "--home" ? args[++i] : a.slice("--home=".length);
      if (flags.home !== undefined || !value || value.startsWith("-")) return null;
      flags.home = value;
    } else if (command === undefined && DIRECT_COMMANDS.has(a)) {
      command = a;
    } else {
      return null;
    }
  }
  return command === undefined ? null : { command, flags };
}
