/**
 * Help, hints and errors name only the transports this build carries
 * (core/transport/kinds.ts): a planned kind is refused plainly and appears in no
 * help text; Dropbox, once planned, is built now.
 */
import type { Command } from "commander";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { buildProgram } from "../../cli/program.ts";
import { parseConfig } from "../../core/config/config_yaml.ts";
import { parseTransportSpec } from "../../core/config/transport_spec.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { manifestFor } from "../../plugins/registry.ts";
import {
  CLOUD_TRANSPORTS,
  isUnbuiltTransport,
  TRANSPORT_SPECS,
  UNBUILT_TRANSPORTS,
} from "../../core/transport/kinds.ts";

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

Deno.test("no help text names an unbuilt kind, and init and transport add name the built transports", () => {
  const program = buildProgram(quiet);
  const all = visible(program);
  assert(all.length > 30, "walked the whole command tree");
  for (const command of all) {
    const help = command.helpInformation();
    for (const kind of UNBUILT_TRANSPORTS) {
      assert(!help.toLowerCase().includes(kind), `syft ${command.name()} --help names ${kind}`);
    }
  }
  const auth = program.commands.find((c) => c.name() === "auth")!;
  for (const name of visible(auth).slice(1).map((c) => c.name())) {
    assert(CLOUD_TRANSPORTS.includes(name), `syft auth ${name} is a built cloud kind`);
  }
  const init = program.commands.find((c) => c.name() === "init")!.helpInformation();
  for (const spec of TRANSPORT_SPECS) assertStringIncludes(init, spec);
  assertEquals(TRANSPORT_SPECS, ["local:<folder>", "gdrive", "dropbox"]);
});

Deno.test("dropbox is a built transport: its spec parses and names the Dropbox plugin", () => {
  assertEquals(isUnbuiltTransport("dropbox"), false);
  parseTransportSpec("dropbox", {}, "/"); // accepted: it throws for an unbuilt kind
  assertEquals(manifestFor("dropbox", { identity: "a@b.org", home: "/h" }).name, "dropbox");
  const err = refusal(() => manifestFor("s3", { identity: "a@b.org", home: "/h" }));
  assertEquals(err.exitCode, 2);
  assertEquals(err.hint, "valid transports: local:<folder>, gdrive, dropbox");
});

Deno.test("a config.yaml with a bad transports entry names only the built kinds", () => {
  const err = refusal(() =>
    parseConfig(
      "version: 1\nemail: a@b.org\nroot: /r\ntransport: local:/s\ncreated_at: 1\ntransports:\n  x: 7\n",
      "/h/config.yaml",
    )
  );
  assertStringIncludes(err.message, "(local:<folder>, gdrive or dropbox)");
});
