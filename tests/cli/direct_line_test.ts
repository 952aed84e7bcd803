/**
 * The direct route (cli/direct_line.ts) takes a line only when the parser
 * would read it the same way: the same command and the same global flags.
 * Anything else, however close, is left to the parser and its messages.
 */
import type { Command } from "commander";
import { assert, assertEquals } from "../assert.ts";
import { DIRECT_COMMANDS, directLine } from "../../cli/direct_line.ts";
import type { GlobalFlags } from "../../cli/context.ts";
import { buildProgram } from "../../cli/program.ts";

const quiet = { out: () => {}, err: () => {} };

/**
 * What the whole program hands a direct command's action for `line`: the
 * command, and the global flags (a direct line has no option of its own, so
 * the command's own options must all be unset).
 */
async function parsed(line: string[]): Promise<{ command: string; flags: GlobalFlags }> {
  const program = buildProgram(quiet);
  let got: { command: string; flags: GlobalFlags } | undefined;
  for (const name of DIRECT_COMMANDS) {
    program.commands.find((c) => c.name() === name)!.action((...raw: unknown[]) => {
      const cmd = raw.at(-1) as Command;
      assertEquals(cmd.opts(), {}, `${line.join(" ")} set options of its own`);
      got = { command: cmd.name(), flags: cmd.optsWithGlobals() as GlobalFlags };
    });
  }
  await program.parseAsync(line, { from: "user" });
  assert(got !== undefined, `${line.join(" ")} ran no direct command`);
  return got;
}

Deno.test("a line the direct route takes is read as the parser reads it", async () => {
  const lines = [
    ["status"],
    ["status", "--json"],
    ["--json", "status"],
    ["--home", "/h", "status"],
    ["--home=/h", "status", "--quiet"],
    ["status", "--home", "/a b", "--debug", "--json"],
    ["--quiet", "--debug", "status", "--json", "--home=/h"],
    ["sync"],
    ["--json", "sync"],
    ["sync", "--home", "/h", "--quiet"],
    ["--home=/a b", "--debug", "sync", "--json"],
  ];
  for (const line of lines) {
    const direct = directLine(line);
    assert(direct !== null, `${line.join(" ")} is not taken`);
    assertEquals(direct, await parsed(line), line.join(" "));
  }
});

Deno.test("any other line is left to the parser", () => {
  const lines = [
    [],
    ["--version"],
    ["doctor"],
    ["STATUS"],
    ["status", "status"],
    ["status", "extra"],
    ["status", "--"],
    ["status", "--help"],
    ["status", "-h"],
    ["status", "--bogus"],
    ["--home", "status"],
    ["status", "--home"],
    ["--home=", "status"],
    ["--home", "--json", "status"],
    ["status", "--home", "/a", "--home", "/b"],
    ["status", "--json", "--json"],
    ["sync", "--watch"],
    ["sync", "--interval", "5"],
    ["sync", "--allow-mass-delete"],
    ["sync", "--watch", "--json"],
    ["sync", "status"],
    ["status", "sync"],
    ["sync", "-h"],
  ];
  for (const line of lines) assertEquals(directLine(line), null, line.join(" "));
});
