/**
 * Start-up pays for the line it runs (issue 17 item 6). `deno run` loads,
 * before the first line, every module main.ts reaches through code imports
 * (string-literal `import()`s included): that graph must stay main.ts's few
 * modules, and each command's must leave the cloud SDKs to the plugin
 * Workers. The commands are then reached through computed specifiers, which
 * only a fresh process proves resolve: the cold runs below.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { runSyft } from "../../scripts/syft_process.ts";
import { COMMAND_NAMES } from "../../cli/program_for.ts";
import { VERSION } from "../../core/version.ts";
import { runCli } from "../../main.ts";
import { tempDir } from "../_temp.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

/**
 * The modules `deno run root` loads up front: code edges only (type-only
 * imports are not loaded); with `evaluated`, only those it also runs before
 * the first line (static imports: a literal `import()` is fetched up front
 * but run only when called).
 */
async function upFrontGraph(root: string, evaluated = false): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(root, import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...info.roots];
  while (todo.length > 0) {
    const s = todo.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const d of bySpecifier.get(s)?.dependencies ?? []) {
      if (d.code && !(evaluated && d.isDynamic)) todo.push(d.code.specifier);
    }
  }
  return [...seen];
}

Deno.test("main.ts loads up front only its own few modules: no parser, no command, no npm package", async () => {
  const graph = await upFrontGraph("../../main.ts");
  const local = graph.filter((s) => s.startsWith("file:")).map((s) =>
    s.replace(/^.*\/(cli|core)\//, "$1/")
  );
  assertEquals(graph.filter((s) => !s.startsWith("file:")), [], "npm: and node: modules");
  assert(local.length <= 6, `main.ts loads ${local.length} modules up front: ${local.join(" ")}`);
});

Deno.test("no command loads the Google Drive, Google auth or Dropbox libraries: only the plugin Workers do", async () => {
  // cli/program.ts imports every command, so its graph is every command's at once.
  const graph = await upFrontGraph("../../cli/program.ts");
  assert(graph.some((s) => s.startsWith("npm:")), "npm modules are listed in the graph");
  assert(graph.length > 50, `deno info listed ${graph.length} modules`);
  assertEquals(
    graph.filter((s) => /^npm:\/?(@googleapis|google-auth-library|dropbox)/.test(s)),
    [],
  );
});

Deno.test("status runs neither the yaml package nor node:fs, node:module or node:crypto up front: the files syft writes need none", async () => {
  // The YAML parsers are behind computed specifiers (parse.ts, config/load.ts),
  // node:fs behind denoFs.existsSync's first call; status never makes it.
  // node:crypto (hashing, ~15 ms of node streams to load) came in through the
  // peer service's hello check until recordProblems moved out of it.
  const graph = await upFrontGraph("../../cli/status.ts", true);
  assertEquals(graph.filter((s) => /^npm:|^node:(fs|module|crypto)$/.test(s)), []);
});

Deno.test("syft sync loads, before its round has work, neither a parser nor the tar, zlib, permission or job modules", async () => {
  // The command and the engine it loads once the Worker started (cli/sync_round.ts):
  // the reader, the writer, the permission engine (which loads the yaml package),
  // discovery and the job intake each load behind a computed specifier when used.
  const graph = [
    ...await upFrontGraph("../../cli/sync.ts", true),
    ...await upFrontGraph("../../cli/sync_round.ts", true),
  ];
  const heavy =
    /^npm:|^node:(fs|module|zlib)$|\/(permissions\/parse|events\/body|channel_reader|channel_writer|peers\/service|jobs\/after_round)\.ts$/;
  assertEquals([...new Set(graph.filter((s) => heavy.test(s)))], []);
});

Deno.test("from a cold start, --version, --help and a command's --help answer, and a command runs", async () => {
  const version = await runSyft(["--version"]);
  assertEquals([version.code, version.stdout, version.stderr], [0, `${VERSION}\n`, ""]);
  const help = await runSyft(["--help"]);
  assertEquals(help.code, 0, help.stderr);
  assertMatch(help.stdout, /^Usage: syft \[options\] \[command\]\n/);
  for (const name of COMMAND_NAMES) assertMatch(help.stdout, new RegExp(`^  ${name}\\b`, "m"));
  const statusHelp = await runSyft(["status", "--help"]);
  assertEquals(statusHelp.code, 0, statusHelp.stderr);
  assertMatch(statusHelp.stdout, /^Usage: syft status /);
  // Before init: the status command's modules load and report the missing config.
  const home = await tempDir("syft-startup-");
  const status = await runSyft(["--home", home, "status"]);
  assertEquals(status.code, 2, status.stderr);
  assertStringIncludes(status.stderr, "syft init");
  await Deno.remove(home, { recursive: true });
});

Deno.test("every command's --help answers with its own usage and exits 0", async () => {
  for (const name of COMMAND_NAMES) {
    let out = "";
    const code = await runCli([name, "--help"], { out: (t) => (out += t), err: (t) => (out += t) });
    assertEquals(code, 0, name);
    assertMatch(out, new RegExp(`^Usage: syft ${name}\\b`), name);
  }
});

Deno.test("from a cold start, status reads hand-edited permission files with the YAML parser, errors as before", async () => {
  const base = await tempDir("syft-startup-perm-");
  const home = `${base}/.syft`;
  await Deno.mkdir(`${base}/shared`);
  const syft = (args: string[]) => runSyft(["--home", home, ...args], { env: { HOME: base } });
  const init = await syft([
    "init",
    "--email",
    "alice@example.org",
    "--root",
    `${base}/SyftBox`,
    "--transport",
    `local:${base}/shared`,
  ]);
  assertEquals(init.code, 0, init.stderr);
  const site = `${base}/SyftBox/alice@example.org`;
  // Valid, but not as syft writes it: only the parser can say so.
  await Deno.writeTextFile(
    `${site}/public/syft.pub.yaml`,
    "rules:\n  - pattern: '**'   # everything\n    access: {read: ['*']}\n",
  );
  await Deno.mkdir(`${site}/public/bad`);
  await Deno.writeTextFile(
    `${site}/public/bad/syft.pub.yaml`,
    "rules:\n  - pattern: '**'\n    access:\n      read: [7]\n",
  );
  const r = await syft(["status", "--json"]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(JSON.parse(r.stdout).problems, [
    "invalid permission file public/bad/syft.pub.yaml:4: rule 1: `read` must be a list of strings " +
    "(found the number 7); write read: [] for nobody (everything it governs is denied)",
  ]);
  await Deno.remove(base, { recursive: true });
});
