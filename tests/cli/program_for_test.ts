/**
 * Start-up loads only the command a line names (issue 17 item 6): the lazy
 * table knows every command the whole program has, `syft --help` lists them
 * from it, each command's help reads as in the whole program, and a line is
 * routed to the whole program whenever it cannot tell.
 */
import { assert, assertEquals } from "../assert.ts";
import { allCommands, commandPath } from "../../cli/help.ts";
import { buildProgram } from "../../cli/program.ts";
import { COMMAND_NAMES, commandWord, programFor } from "../../cli/program_for.ts";

const quiet = { out: () => {}, err: () => {} };

Deno.test("the lazy command table names exactly the program's commands", () => {
  const names = buildProgram(quiet).commands.map((c) => c.name()).filter((n) => n !== "help");
  assertEquals([...COMMAND_NAMES].sort(), names.sort());
});

Deno.test("the command word is found after the global flags, and anything unclear is null", () => {
  assertEquals(commandWord(["status"]), "status");
  assertEquals(commandWord(["--home", "/x", "--json", "job", "list"]), "job");
  assertEquals(commandWord(["--home=/x", "sync", "--watch"]), "sync");
  assertEquals(commandWord(["--version"]), "");
  assertEquals(commandWord(["--version", "status"]), null);
  assertEquals(commandWord([]), null);
  assertEquals(commandWord(["--help"]), null);
  assertEquals(commandWord(["--frobnicate", "status"]), null);
});

Deno.test("a line naming a command gets only that command, its --help too; unknown words get them all", async () => {
  const status = await programFor(["status", "--json"], quiet);
  assertEquals(status.commands.map((c) => c.name()), ["status"]);
  const jobHelp = await programFor(["--home", "/x", "job", "submit", "--help"], quiet);
  assertEquals(jobHelp.commands.map((c) => c.name()), ["job"]);
  const version = await programFor(["--version"], quiet);
  assertEquals(version.commands.length, 0);
  assertEquals(version.version(), buildProgram(quiet).version());
  const all = buildProgram(quiet).commands.length;
  for (const line of [[], ["--help"], ["-h", "--home", "/x"], ["jbo"], ["help", "job"]]) {
    assertEquals((await programFor(line, quiet)).commands.length, all, line.join(" "));
  }
  assert(all > 5);
});

Deno.test("syft --help lists every command as the whole program does, without loading one", async () => {
  const index = await programFor(["--help"], quiet);
  assertEquals(index.helpInformation(), buildProgram(quiet).helpInformation());
  assertEquals((await programFor([], quiet)).helpInformation(), index.helpInformation());
});

Deno.test("every command's --help from its own program reads as in the whole program", async () => {
  const whole = buildProgram(quiet);
  let compared = 0;
  for (const name of COMMAND_NAMES) {
    const own = (await programFor([name, "--help"], quiet)).commands[0]!;
    const theirs = whole.commands.find((c) => c.name() === name)!;
    const ownAll = allCommands(own);
    const theirAll = allCommands(theirs);
    assertEquals(ownAll.map(commandPath), theirAll.map(commandPath));
    for (const [i, cmd] of ownAll.entries()) {
      assertEquals(cmd.helpInformation(), theirAll[i]!.helpInformation(), commandPath(cmd));
      compared++;
    }
  }
  assert(compared > 40, `compared ${compared} commands`);
});
