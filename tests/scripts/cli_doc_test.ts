/**
 * docs/cli.md is generated from the commands' own `--help` and cannot drift
 * from it: a change to any help text without `deno task cli-doc` fails here.
 * @module
 */
import { Command } from "commander";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { CLI_DOC, currentCliDoc, renderCliDoc } from "../../scripts/cli_doc.ts";
import { allCommands, commandPath } from "../../cli/help.ts";
import { buildProgram } from "../../cli/program.ts";

Deno.test("docs/cli.md is exactly what the commands' --help prints today", async () => {
  const onDisk = await Deno.readTextFile(CLI_DOC);
  assert(
    onDisk === currentCliDoc(),
    "docs/cli.md is stale: run `deno task cli-doc` and commit docs/cli.md",
  );
});

Deno.test("every command of the program has its own section and a line in the contents", () => {
  const program = buildProgram({ out: () => {}, err: () => {} });
  const doc = renderCliDoc(program);
  for (const cmd of allCommands(program)) {
    const title = `syft ${commandPath(cmd)}`.trim();
    assertStringIncludes(doc, `\n## ${title}\n\n\`\`\`text\nUsage: ${title}`);
    assertStringIncludes(doc, `[${title}](#${title.replaceAll(" ", "-")})`);
  }
});

Deno.test("the reference does not depend on the terminal it was generated in", () => {
  const narrow = buildProgram({ out: () => {}, err: () => {} });
  for (const cmd of allCommands(narrow)) cmd.configureHelp({ helpWidth: 40 });
  assertEquals(renderCliDoc(narrow), currentCliDoc());
});

Deno.test("a command's help goes into the reference verbatim, in a text block", () => {
  const program = new Command("syft").description("root");
  program.command("hello").description("say <hello> & *more*").option("--loud", "shout");
  const doc = renderCliDoc(program);
  assertStringIncludes(doc, "- [syft hello](#syft-hello)");
  assertStringIncludes(
    doc,
    "## syft hello\n\n```text\nUsage: syft hello [options]\n\nsay <hello> & *more*",
  );
  assertStringIncludes(doc, "--loud");
  assert(doc.endsWith("```\n"), "ends with the last block and one newline");
});
