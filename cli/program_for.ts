/**
 * The program a command line needs, and only that: `syft status` loads the
 * status command's modules, not the job runner's, Drive's or the sandbox's
 * (start-up was 10x `deno eval 0` with every command loaded). `syft --help`
 * lists the commands from a table without loading them; an unknown command
 * and anything this cannot tell load the whole program (cli/program.ts),
 * which the docs and tests use too.
 * @module
 */
import { type Command, Help } from "commander";
import { applyHelp } from "./help.ts";
import { lazyImport } from "../core/lazy_import.ts";
import type { OutputSink } from "./output.ts";
import { baseProgram } from "./program_base.ts";

type Register = (program: Command) => void;

/** A top-level command: how `syft --help` lists it, and how to load it. */
interface Entry {
  /** Its term in the command list, as commander would write it ("init [options]"). */
  term: string;
  /** Its one-line summary, as its module registers it. */
  summary: string;
  /** Load the module that registers it (a computed specifier: core/lazy_import.ts). */
  load: () => Promise<Register>;
}

/**
 * Every top-level command, in the whole program's order. Term and summary
 * repeat what each module registers, so `syft --help` lists the commands
 * without loading one (tests/cli/program_for_test.ts checks they agree).
 */
const COMMANDS: Record<string, Entry> = {
  init: {
    term: "init [options]",
    summary: "create your identity, keys and datasite",
    load: async () =>
      (await lazyImport<typeof import("./init.ts")>(new URL("./init.ts", import.meta.url)))
        .registerInit,
  },
  auth: {
    term: "auth",
    summary: "sign in to Google Drive or Dropbox",
    load: async () =>
      (await lazyImport<typeof import("./auth.ts")>(new URL("./auth.ts", import.meta.url)))
        .registerAuth,
  },
  status: {
    term: "status",
    summary: "identity, transport, peers, last sync, quarantined objects, problems",
    load: async () =>
      (await lazyImport<typeof import("./status.ts")>(new URL("./status.ts", import.meta.url)))
        .registerStatus,
  },
  doctor: {
    term: "doctor [options]",
    summary:
      "check home, keys, private/, sign-in, transport, sandbox, clock and disk, and say what to fix",
    load: async () =>
      (await lazyImport<typeof import("./doctor.ts")>(new URL("./doctor.ts", import.meta.url)))
        .registerDoctor,
  },
  perm: {
    term: "perm",
    summary: "check, explain, grant, revoke and list permissions (syft.pub.yaml)",
    load: async () =>
      (await lazyImport<typeof import("./perm.ts")>(new URL("./perm.ts", import.meta.url)))
        .registerPerm,
  },
  peer: {
    term: "peer",
    summary: "request, approve, reject, remove and trust peers",
    load: async () =>
      (await lazyImport<typeof import("./peer.ts")>(new URL("./peer.ts", import.meta.url)))
        .registerPeer,
  },
  sync: {
    term: "sync [options]",
    summary: "send and receive changes (--watch to keep running)",
    load: async () =>
      (await lazyImport<typeof import("./sync.ts")>(new URL("./sync.ts", import.meta.url)))
        .registerSync,
  },
  transport: {
    term: "transport",
    summary: "more than one transport: for peers on other storage",
    load: async () =>
      (await lazyImport<typeof import("./transport_cmd.ts")>(
        new URL("./transport_cmd.ts", import.meta.url),
      )).registerTransport,
  },
  dataset: {
    term: "dataset",
    summary: "publish mock data and keep private data private",
    load: async () =>
      (await lazyImport<typeof import("./dataset.ts")>(new URL("./dataset.ts", import.meta.url)))
        .registerDataset,
  },
  job: {
    term: "job",
    summary: "submit, review, run and release jobs",
    load: async () =>
      (await lazyImport<typeof import("./job.ts")>(new URL("./job.ts", import.meta.url)))
        .registerJob,
  },
  audit: {
    term: "audit [options]",
    summary: "your decisions as an owner (peers, permissions, datasets, jobs), oldest first",
    load: async () =>
      (await lazyImport<typeof import("./audit.ts")>(new URL("./audit.ts", import.meta.url)))
        .registerAudit,
  },
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

/** Whether `args` asks only for the top-level help: global flags and `--help`, or nothing. */
function asksIndex(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (!GLOBAL_FLAGS.has(a) && !a.startsWith("--home=") && a !== "--help" && a !== "-h") {
      return false;
    }
  }
  return true;
}

/**
 * The program for `args`: only the command it names, when it names one (its
 * `--help` included); for the top-level help, every command listed and none
 * loaded; the whole program when the line is anything else.
 */
export async function programFor(args: readonly string[], sink: OutputSink): Promise<Command> {
  const word = commandWord(args);
  if (word === "") return baseProgram(sink);
  if (word === null && asksIndex(args)) return indexProgram(sink);
  const entry = word === null ? undefined : COMMANDS[word];
  if (entry === undefined) {
    const whole = await lazyImport<typeof import("./program.ts")>(
      new URL("./program.ts", import.meta.url),
    );
    return whole.buildProgram(sink);
  }
  const program = baseProgram(sink);
  (await entry.load())(program);
  applyHelp(program);
  return program;
}

/** `syft` with every command listed by term and summary and none loaded: its `--help`. */
export function indexProgram(sink: OutputSink): Command {
  const program = baseProgram(sink);
  for (const [name, entry] of Object.entries(COMMANDS)) {
    program.command(name).summary(entry.summary);
  }
  const plain = new Help();
  program.configureHelp({
    subcommandTerm: (cmd) => COMMANDS[cmd.name()]?.term ?? plain.subcommandTerm(cmd),
  });
  applyHelp(program);
  return program;
}

/** The command names {@linkcode programFor} knows (a test checks they match the program's). */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);
