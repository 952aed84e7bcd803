/**
 * The program a command line needs, and only that: `syft status` loads the
 * status command's modules, not the job runner's, Drive's or the sandbox's
 * (start-up was 10x `deno eval 0` with every command loaded). Help, a
 * missing or unknown command, and anything this cannot tell load the whole
 * program (cli/program.ts), which the docs and tests use too.
 * @module
 */
import type { Command } from "commander";
import { applyHelp } from "./help.ts";
import type { OutputSink } from "./output.ts";
import { baseProgram } from "./program_base.ts";

type Register = (program: Command) => void;

/** Each top-level command and the module that registers it. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  init: async () => (await import("./init.ts")).registerInit,
  auth: async () => (await import("./auth.ts")).registerAuth,
  status: async () => (await import("./status.ts")).registerStatus,
  doctor: async () => (await import("./doctor.ts")).registerDoctor,
  perm: async () => (await import("./perm.ts")).registerPerm,
  peer: async () => (await import("./peer.ts")).registerPeer,
  sync: async () => (await import("./sync.ts")).registerSync,
  transport: async () => (await import("./transport_cmd.ts")).registerTransport,
  dataset: async () => (await import("./dataset.ts")).registerDataset,
  job: async () => (await import("./job.ts")).registerJob,
  audit: async () => (await import("./audit.ts")).registerAudit,
};

/** Global flags that take a value (the word after them is not the command). */
const GLOBAL_WITH_VALUE = new Set(["--home"]);
const GLOBAL_FLAGS = new Set(["--json", "--quiet", "--debug"]);

/**
 * The command word of `args` after the global flags; "" when there is none
 * but `--version`, null when the line is anything else (help, an unknown flag).
 */
export function commandWord(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (GLOBAL_FLAGS.has(a) || a.startsWith("--home=")) continue;
    else if (a === "--version") return args.length === 1 ? "" : null;
    else if (a.startsWith("-")) return null;
    else return a;
  }
  return null;
}

/** The program for `args`: only the command it names, when it names one. */
export async function programFor(args: readonly string[], sink: OutputSink): Promise<Command> {
  const word = commandWord(args);
  if (word === "") return baseProgram(sink);
  const load = word === null ? undefined : COMMANDS[word];
  if (load === undefined || args.includes("--help") || args.includes("-h")) {
    return (await import("./program.ts")).buildProgram(sink);
  }
  const program = baseProgram(sink);
  (await load())(program);
  applyHelp(program);
  return program;
}

/** The command names {@linkcode programFor} knows (a test checks they match the program's). */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);
