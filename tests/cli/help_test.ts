/**
 * Every command's `--help` reads the same way: two or three examples that
 * parse as that command, required options marked, `--json` where the command
 * prints JSON, no parser-internal defaults, nothing wider than 80 columns.
 */
import type { Command } from "commander";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { buildProgram } from "../../cli/program.ts";
import {
  allCommands,
  applyHelp,
  commandNamed,
  commandPath,
  helpWidth,
  reflow,
  shellWords,
} from "../../cli/help.ts";
import { EXAMPLES, ONE_OF, REQUIRED_ELSEWHERE } from "../../cli/help_examples.ts";
import { runCli } from "../../main.ts";

const quiet = { out: () => {}, err: () => {} };

/** Commands a user can ask for help on: hidden ones and those without --help are not. */
function documented(program: Command): Command[] {
  return allCommands(program).filter((c) => {
    const internals = c as unknown as { _hidden: boolean; _getHelpOption(): unknown };
    return !internals._hidden && internals._getHelpOption() !== null;
  });
}

/** The lines of `help` under `heading` up to the next blank line. */
function section(help: string, heading: string): string[] {
  const lines = help.split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) return [];
  const end = lines.indexOf("", start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** An example's lines joined back into one command line. */
function examplesOf(help: string): string[] {
  return section(help, "Examples:").join("\n").replace(/ \\\n\s+/g, " ").split("\n")
    .map((l) => l.trim().replace(/^\$ /, ""));
}

/**
 * Parse `example` with every action replaced by a recorder, so flags, choices,
 * argument counts and mandatory options are checked exactly as when a user
 * types it; returns the path of the command that would run.
 */
async function parseExample(example: string): Promise<{ path: string; flags: string[] }> {
  const words = shellWords(example).map((w) => w.value);
  assertEquals(words[0], "syft", `${example} starts with syft`);
  const errors: string[] = [];
  const program = buildProgram({ out: () => {}, err: (t) => errors.push(t) });
  let path: string | null = null;
  for (const c of allCommands(program)) {
    c.action((...args) => void (path = commandPath(args.at(-1))));
  }
  try {
    await program.parseAsync(words.slice(1), { from: "user" });
  } catch (err) {
    throw new Error(`${example} does not parse: ${errors.join("") || String(err)}`);
  }
  assert(path !== null, `${example} runs no command`);
  return { path, flags: words.filter((w) => w.startsWith("--")).map((w) => w.split("=")[0]!) };
}

Deno.test("every command's --help has 2-3 examples that parse as that command, at most 80 columns wide", async () => {
  const program = buildProgram(quiet);
  const commands = documented(program);
  assert(commands.length > 40, `walked ${commands.length} commands`);
  for (const cmd of commands) {
    const path = commandPath(cmd);
    const help = cmd.helpInformation();
    const name = `syft ${path}`.trim();
    for (const line of help.split("\n")) {
      assert(line.length <= 80, `${name} --help has a ${line.length}-column line: ${line}`);
    }
    const examples = examplesOf(help);
    assert(
      examples.length >= 2 && examples.length <= 3,
      `${name} --help shows ${examples.length} examples`,
    );
    assertEquals(examples, [...(EXAMPLES[path] ?? [])], `${name}: examples as written`);
    for (const example of examples) {
      const parsed = await parseExample(example);
      assert(
        parsed.path === path || parsed.path.startsWith(`${path} `) || path === "",
        `${example} is an example of ${name} but runs syft ${parsed.path}`,
      );
      if (parsed.path !== path) continue;
      for (const flag of REQUIRED_ELSEWHERE[path] ?? []) {
        assert(parsed.flags.includes(flag), `${example} lacks the required ${flag}`);
      }
      const oneOf = ONE_OF[path];
      if (oneOf) {
        const given = oneOf.filter((f) => parsed.flags.includes(f));
        assertEquals(given.length, 1, `${example} gives exactly one of ${oneOf.join(", ")}`);
      }
    }
  }
});

Deno.test("--help marks required options and names them in the usage line", () => {
  const program = buildProgram(quiet);
  let marked = 0;
  for (const cmd of documented(program)) {
    const path = commandPath(cmd);
    const help = cmd.helpInformation();
    const usage = help.split("\n\n")[0]!.replace(/\n\s+/g, " ");
    const options = section(help, "Options:").join("\n").replace(/\n {8,}/g, " ").split("\n");
    for (const option of cmd.options) {
      const line = options.find((l) => l.trimStart().startsWith(option.flags + " "));
      assert(line !== undefined, `syft ${path} --help lists ${option.flags}`);
      const required = option.mandatory ||
        (REQUIRED_ELSEWHERE[path] ?? []).includes(option.long ?? "");
      assertEquals(
        line.includes("(required)"),
        required,
        `syft ${path}: ${option.flags} marked (required) iff it is: ${line}`,
      );
      if (required) {
        marked++;
        assertStringIncludes(usage, option.flags, `syft ${path} usage names ${option.flags}`);
      }
      if ((ONE_OF[path] ?? []).includes(option.long ?? "")) {
        assertMatch(line, /\(required unless --\S+ or --\S+\)/);
        assertStringIncludes(usage, option.flags, `syft ${path} usage names ${option.flags}`);
      }
    }
  }
  // perm check --user/--access, peer trust, dataset create x2, job submit, policy add, init, auth.
  assert(marked >= 9, `${marked} required options marked`);
});

Deno.test("--json is listed on every command that prints JSON and on no group", () => {
  const program = buildProgram(quiet);
  for (const cmd of documented(program)) {
    const path = commandPath(cmd);
    const listed = section(cmd.helpInformation(), "Options:").some((l) => /^ {2}--json\b/.test(l));
    // syft itself defines the global flag; groups only list their commands.
    const expected = path === "" || cmd.commands.length === 0;
    assertEquals(listed, expected, `syft ${path} --help lists --json`);
  }
  const sync = program.commands.find((c) => c.name() === "sync")!;
  assertMatch(
    sync.helpInformation(),
    /--json\s+print the round.s summary[^]*with\s+--watch, one JSON object per line/,
  );
});

Deno.test("--help shows no parser defaults such as (default: [])", () => {
  for (const cmd of documented(buildProgram(quiet))) {
    const help = cmd.helpInformation();
    for (const noise of ["(default: [])", "(default: false)", "(default: true)"]) {
      assert(!help.includes(noise), `syft ${commandPath(cmd)} --help shows ${noise}`);
    }
  }
});

Deno.test("help is 80 columns wide on a wide terminal, narrower on a narrow one", () => {
  assertEquals(helpWidth(undefined), 80);
  assertEquals(helpWidth(200), 80);
  assertEquals(helpWidth(60), 60);
  const program = buildProgram(quiet);
  applyHelp(program, 200);
  const submit = program.commands.find((c) => c.name() === "job")!.commands
    .find((c) => c.name() === "submit")!;
  const widest = Math.max(...submit.helpInformation().split("\n").map((l) => l.length));
  assert(widest <= 80 && widest > 70, `widest line ${widest} on a 200-column terminal`);
});

Deno.test("syft job submit --help prints the help and exits 0; a missing required option exits 2 with a hint", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const sink = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  assertEquals(await runCli(["job", "submit", "--help"], sink), 0);
  assertStringIncludes(out.join(""), "$ syft job submit --to owner@hospital.org");
  out.length = 0;
  assertEquals(await runCli(["job", "submit", "--script", "run.sh"], sink), 2);
  assertEquals(out, []);
  assertEquals(
    err.join(""),
    "error: required option '--to <emails>' not specified\n" +
      "hint: run `syft job submit --help` for its usage and examples\n",
  );
});

Deno.test("a parser error's hint names the command the user typed", () => {
  const program = buildProgram(quiet);
  assertEquals(
    commandNamed(program, ["--home", "/h", "job", "submit", "--to", "x"]),
    "syft job submit",
  );
  assertEquals(commandNamed(program, ["status", "--bogus"]), "syft status");
  assertEquals(commandNamed(program, ["frobnicate", "job"]), "syft");
  assertEquals(commandNamed(program, ["job", "policy", "add", "policy"]), "syft job policy add");
});

Deno.test("shellWords() splits like a shell for the quoting examples use; reflow() keeps lists", () => {
  assertEquals(
    shellWords(`syft perm grant x '*@lab.org' --reason "a b"c`).map((w) => w.value),
    ["syft", "perm", "grant", "x", "*@lab.org", "--reason", "a bc"],
  );
  assertEquals(reflow("one\ntwo\n\n- a\n- b\n  c"), "one two\n\n- a\n- b\n  c");
});
