/**
 * Help, hints and errors name only the transports this build carries
 * (core/transport/kinds.ts): Dropbox is planned, so it is refused plainly and appears
 * in no help text.
 */
import type { Command } from "commander";
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { buildProgram } from "../../cli/program.ts";
import { runCli } from "../../main.ts";
import { parseConfig } from "../../core/config/config.ts";
import { parseTransportSpec } from "../../core/config/transport_spec.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { manifestFor } from "../../plugins/registry.ts";
import { TRANSPORT_SPECS } from "../../core/transport/kinds.ts";
import { tempDir } from "../_temp.ts";

const quiet = { out: () => {}, err: () => {} };

function visible(command: Command): Command[] {
  const children = command.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
  return [command, ...children.flatMap(visible)];
}

function refusal(fn: () => unknown): SyftError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SyftError) return err;
    throw err;
  }
  throw new Error("expected a SyftError");
}

Deno.test("no help text names dropbox, and init and transport add name the built transports", () => {
  const program = buildProgram(quiet);
  const all = visible(program);
  assert(all.length > 30, "walked the whole command tree");
  for (const command of all) {
    const help = command.helpInformation();
    assert(!/dropbox/i.test(help), `syft ${command.name()} --help names dropbox:\n${help}`);
  }
  const auth = program.commands.find((c) => c.name() === "auth")!;
  assertEquals(visible(auth).slice(1).map((c) => c.name()), ["gdrive"]);
  const init = program.commands.find((c) => c.name() === "init")!.helpInformation();
  for (const spec of TRANSPORT_SPECS) assertStringIncludes(init, spec);
  assertEquals(TRANSPORT_SPECS, ["local:<folder>", "gdrive"]);
});

Deno.test("dropbox is refused as not available in this build (exit 2), naming the choices", async () => {
  for (
    const err of [
      refusal(() => parseTransportSpec("dropbox", {}, "/")),
      refusal(() => manifestFor("dropbox", { identity: "a@b.org", home: "/h" })),
    ]
  ) {
    assertEquals(err.exitCode, 2);
    assertMatch(err.message, /^the dropbox transport is not available in this build$/);
    assertEquals(err.hint, "use local:<folder> or gdrive");
  }
  const base = await tempDir("syft-kinds-");
  const said: string[] = [];
  const sink = { out: (t: string) => said.push(t), err: (t: string) => said.push(t) };
  const home = posix.join(base, ".syft");
  const init = ["--home", home, "init", "--email", "a@b.org", "--transport", "dropbox"];
  assertEquals(await runCli([...init, "--root", posix.join(base, "r")], sink), 2);
  assertEquals(
    said.join(""),
    [
      "error: the dropbox transport is not available in this build",
      "hint: use local:<folder> or gdrive",
      "",
    ].join("\n"),
  );
  said.length = 0;
  assertEquals(await runCli(["--home", home, "auth", "dropbox"], sink), 2);
  assertMatch(
    said.join(""),
    /^error: dropbox is not available in this build\nhint: .*syft auth gdrive/,
  );
  await Deno.remove(base, { recursive: true });
});

Deno.test("a config.yaml with a bad transports entry names only the built kinds", () => {
  const err = refusal(() =>
    parseConfig(
      "version: 1\nemail: a@b.org\nroot: /r\ntransport: local:/s\ncreated_at: 1\ntransports:\n  x: 7\n",
      "/h/config.yaml",
    )
  );
  assertStringIncludes(err.message, "(local:<folder> or gdrive)");
});
