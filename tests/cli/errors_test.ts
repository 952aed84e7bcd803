import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { runSyft } from "../../scripts/syft_process.ts";
import { tempDir } from "../_temp.ts";

async function home(): Promise<{ base: string; home: string; syft: typeof runSyft }> {
  const base = await tempDir("syft-cli-test-");
  const h = posix.join(base, ".syft");
  return {
    base,
    home: h,
    syft: (args, o) => runSyft(["--home", h, ...args], { env: { HOME: base }, ...o }),
  };
}

Deno.test("syft --help lists every command group of docs/cli.md", async () => {
  const r = await runSyft(["--help"]);
  assertEquals(r.code, 0);
  for (
    const group of ["init", "auth", "status", "doctor", "sync", "peer", "perm", "dataset", "job"]
  ) {
    assertMatch(r.stdout, new RegExp(`^  ${group}\\b`, "m"), `${group} listed`);
  }
  for (const flag of ["--home", "--json", "--quiet", "--debug", "--version"]) {
    assertStringIncludes(r.stdout, flag);
  }
});

Deno.test("syft --version prints the version and exits 0", async () => {
  const r = await runSyft(["--version"]);
  assertEquals(r.code, 0);
  assertMatch(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
});

Deno.test("parser errors exit 2 with an error line and a hint", async (t) => {
  for (
    const args of [["--bogus"], ["status", "--bogus"], ["frobnicate"], ["init", "--email"], []]
  ) {
    await t.step(args.join(" ") || "(no arguments)", async () => {
      const r = await runSyft(args);
      assertEquals(r.code, 2, r.stderr);
      if (args.length) assertMatch(r.stderr, /^error: /m);
    });
  }
});

Deno.test("a sign-in to a kind syft does not know says so plainly and exits 2", async () => {
  const r = await runSyft(["auth", "s3", "--json"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /^error: /m);
});

Deno.test("status before init exits 2 and says to run syft init", async () => {
  const h = await home();
  const r = await h.syft(["status"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /^error: syft is not initialised in /m);
  assertStringIncludes(r.stderr, "hint: run `syft init");
});

Deno.test("a malformed config.yaml is one error line naming the file, exit 2", async () => {
  const h = await home();
  await Deno.mkdir(h.home, { recursive: true });
  await Deno.writeTextFile(posix.join(h.home, "config.yaml"), "version: 1\nemail: [oops\n");
  const r = await h.syft(["status"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /^error: .*config\.yaml is not valid YAML \(line \d+\)/);
  assert(!r.stderr.includes("    at "), "no stack trace");
});

Deno.test("an unreadable key file is one error line naming the file, exit 2", async () => {
  const h = await home();
  const shared = posix.join(h.base, "shared");
  await Deno.mkdir(shared);
  const init = await h.syft([
    "init",
    "--email",
    "a@b.org",
    "--root",
    `${h.base}/r`,
    "--transport",
    `local:${shared}`,
  ]);
  assertEquals(init.code, 0, init.stderr);
  await Deno.writeTextFile(posix.join(h.home, "keys", "sign.key"), "garbage");
  const r = await h.syft(["status"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /^error: key file .*sign\.key is unusable: not JSON$/m);
});

Deno.test("--debug adds a stack trace to an error", async () => {
  const h = await home();
  const r = await h.syft(["status", "--debug"]);
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, "    at ");
});
