/**
 * Start-up loads only the command a line names (issue 17 item 6): the lazy
 * table knows every command the whole program has, and a line is routed to
 * the whole program whenever it cannot tell.
 */
import { assert, assertEquals } from "../assert.ts";
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

Deno.test("a line naming a command gets only that command; help and unknown words get them all", async () => {
  const status = await programFor(["status", "--json"], quiet);
  assertEquals(status.commands.map((c) => c.name()), ["status"]);
  const version = await programFor(["--version"], quiet);
  assertEquals(version.commands.length, 0);
  assertEquals(version.version(), buildProgram(quiet).version());
  const all = buildProgram(quiet).commands.length;
  for (const line of [[], ["--help"], ["job", "--help"], ["jbo"], ["help", "job"]]) {
    assertEquals((await programFor(line, quiet)).commands.length, all, line.join(" "));
  }
  assert(all > 5);
});
