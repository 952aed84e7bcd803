import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { childEnv, runSyft, syftArgv, type SyftRun } from "../../scripts/syft_process.ts";
import { tempDir } from "../_temp.ts";

interface Rig {
  base: string;
  home: string;
  root: string;
  shared: string;
  syft(args: string[]): Promise<SyftRun>;
}

async function rig(): Promise<Rig> {
  const base = await tempDir("syft-init-test-");
  const shared = posix.join(base, "shared");
  await Deno.mkdir(shared);
  const home = posix.join(base, "home", ".syft");
  return {
    base,
    home,
    root: posix.join(base, "SyftBox"),
    shared,
    syft: (args) => runSyft(["--home", home, ...args], { env: { HOME: base } }),
  };
}

function initArgs(r: Rig, email = "Alice@Example.org"): string[] {
  return ["init", "--email", email, "--root", r.root, "--transport", `local:${r.shared}`];
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string, rel: string) {
    for await (const e of Deno.readDir(d)) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      out.push(p);
      if (e.isDirectory) await walk(posix.join(d, e.name), p);
    }
  }
  await walk(dir, "");
  return out.sort();
}

function oneLineError(run: SyftRun, code: number, pattern: RegExp): void {
  assertEquals(run.code, code, run.stderr);
  const lines = run.stderr.trim().split("\n");
  assertMatch(lines[0] ?? "", /^error: /);
  assertMatch(lines[0] ?? "", pattern);
  assert(lines.every((l) => /^(error|hint): /.test(l)), `no stack trace: ${run.stderr}`);
}

Deno.test("syft init creates config, 0600 keys and the datasite with default permission files", async () => {
  const r = await rig();
  const run = await r.syft([...initArgs(r), "--json"]);
  assertEquals(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assertEquals(result.email, "alice@example.org", "lower-cased");
  assertMatch(result.fingerprint, /^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
  for (const f of ["config.yaml", "keys/sign.key", "keys/agree.key"]) {
    const mode = (await Deno.stat(posix.join(r.home, f))).mode! & 0o777;
    assertEquals(mode, 0o600, `${f} mode`);
  }
  assertEquals((await Deno.stat(posix.join(r.home, "keys"))).mode! & 0o777, 0o700);
  const tree = await listTree(posix.join(r.root, "alice@example.org"));
  assertEquals(tree, [
    "private",
    "private/syft.pub.yaml",
    "public",
    "public/syft.pub.yaml",
    "syft.pub.yaml",
  ]);
  const publicRules = await Deno.readTextFile(
    posix.join(r.root, "alice@example.org", "public/syft.pub.yaml"),
  );
  assertStringIncludes(publicRules, "read: ['*']");
});

Deno.test("syft init twice with the same values changes nothing", async () => {
  const r = await rig();
  assertEquals((await r.syft(initArgs(r))).code, 0);
  const before = await Deno.readTextFile(posix.join(r.home, "config.yaml"));
  const keyBefore = await Deno.readTextFile(posix.join(r.home, "keys/sign.key"));
  const again = await r.syft([...initArgs(r), "--json"]);
  assertEquals(again.code, 0, again.stderr);
  assertEquals(JSON.parse(again.stdout).outcome, "unchanged");
  assertEquals(await Deno.readTextFile(posix.join(r.home, "config.yaml")), before);
  assertEquals(await Deno.readTextFile(posix.join(r.home, "keys/sign.key")), keyBefore);
});

Deno.test("syft init with a different email refuses without --force and keeps keys with it", async () => {
  const r = await rig();
  const first = JSON.parse((await r.syft([...initArgs(r), "--json"])).stdout);
  const refused = await r.syft(initArgs(r, "bob@example.org"));
  oneLineError(refused, 2, /already exists with email alice@example.org/);
  assertStringIncludes(refused.stderr, "hint: ");
  const forced = await r.syft([...initArgs(r, "bob@example.org"), "--force", "--json"]);
  assertEquals(forced.code, 0, forced.stderr);
  const second = JSON.parse(forced.stdout);
  assertEquals(second.outcome, "replaced");
  assertEquals(second.email, "bob@example.org");
  assertEquals(second.fingerprint, first.fingerprint, "keys are kept");
});

Deno.test("syft init without --transport off a terminal refuses, naming the choices; again on an initialised home it keeps the transport", async () => {
  const r = await rig();
  const refused = await r.syft(initArgs(r).slice(0, 5));
  oneLineError(refused, 2, /^error: missing --transport/);
  assertMatch(refused.stderr, /^hint: pass --transport local:<folder> or --transport gdrive/m);
  assertEquals(await listTree(r.base), ["shared"], "no ~/SyftShared, nothing else made");
  assertEquals((await r.syft(initArgs(r))).code, 0);
  const again = await r.syft([...initArgs(r).slice(0, 5), "--json"]);
  assertEquals(again.code, 0, again.stderr);
  assertEquals(JSON.parse(again.stdout).outcome, "unchanged");
  assertEquals(JSON.parse(again.stdout).transport, `local:${r.shared}`);
});

const hasScript = await new Deno.Command("script", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "syft init without --transport on a terminal asks, showing the choices, with no default",
  ignore: !hasScript,
  fn: async () => {
    const r = await rig();
    // `script` gives syft a terminal; the answer arrives as typed input.
    const onTerminal = async (answer: string, home: string) => {
      const argv = [Deno.execPath(), ...syftArgv(["--home", home, "init", "--email", "a@b.org"])];
      const out = await new Deno.Command("script", {
        args: ["-qec", argv.join(" "), "/dev/null"],
        env: childEnv({ HOME: r.base }),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = out.stdin.getWriter();
      await writer.write(new TextEncoder().encode(answer + "\n"));
      await writer.close();
      const done = await out.output();
      return { code: done.code, text: new TextDecoder().decode(done.stdout) };
    };
    const asked = await onTerminal(`local:${r.shared}`, r.home);
    assertEquals(asked.code, 0, asked.text);
    assertMatch(asked.text, /^ {2}local:<folder> {2}a folder both sides can reach/m);
    assertMatch(asked.text, /^ {2}gdrive +Google Drive/m);
    assertStringIncludes(asked.text, "Transport (no default):");
    assertStringIncludes(
      await Deno.readTextFile(posix.join(r.home, "config.yaml")),
      `transport: "local:${r.shared}"`,
    );
    const empty = await onTerminal("", posix.join(r.base, "other", ".syft"));
    assertEquals(empty.code, 2, empty.text);
    assertMatch(empty.text, /error: missing --transport/);
  },
});

Deno.test("syft init recreates a deleted datasite folder when run again", async () => {
  const r = await rig();
  assertEquals((await r.syft(initArgs(r))).code, 0);
  await Deno.remove(posix.join(r.root, "alice@example.org", "public"), { recursive: true });
  const again = await r.syft([...initArgs(r), "--json"]);
  assertEquals(JSON.parse(again.stdout).outcome, "repaired");
  await Deno.stat(posix.join(r.root, "alice@example.org", "public", "syft.pub.yaml"));
});

Deno.test("syft init rejects bad input with one line, the right exit code and nothing written", async (t) => {
  const cases: { name: string; args: (r: Rig) => string[]; code: number; pattern: RegExp }[] = [
    {
      name: "an email that is not an email",
      args: (r) => initArgs(r, "not-an-email"),
      code: 2,
      pattern: /"not-an-email" is not a valid email address/,
    },
    {
      name: "a local: folder that does not exist",
      args: (r) => [...initArgs(r).slice(0, 5), "--transport", `local:${r.base}/missing`],
      code: 4,
      pattern: /local transport folder ".*missing" does not exist/,
    },
    {
      name: "a local: path that is a file",
      args: (r) => [...initArgs(r).slice(0, 5), "--transport", `local:${r.base}/afile`],
      code: 4,
      pattern: /is not a folder/,
    },
    {
      name: "an unknown transport",
      args: (r) => [...initArgs(r).slice(0, 5), "--transport", "ftp://x"],
      code: 2,
      pattern: /unknown transport "ftp:\/\/x"/,
    },
    {
      name: "no --transport, not on a terminal: no private default folder",
      args: (r) => initArgs(r).slice(0, 5),
      code: 2,
      pattern: /^error: missing --transport/,
    },
    {
      name: "a transport syft does not know",
      args: (r) => [...initArgs(r).slice(0, 5), "--transport", "s3"],
      code: 2,
      pattern: /unknown transport "s3"/,
    },
    {
      name: "a missing --email",
      args: (r) => ["init", "--root", r.root, "--transport", `local:${r.shared}`],
      code: 2,
      pattern: /missing --email/,
    },
    {
      name: "a root that is a file",
      args: (
        r,
      ) => [
        "init",
        "--email",
        "a@b.org",
        "--root",
        `${r.base}/afile`,
        "--transport",
        `local:${r.shared}`,
      ],
      code: 2,
      pattern: /afile exists and is not a folder/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const r = await rig();
      await Deno.writeTextFile(posix.join(r.base, "afile"), "x");
      oneLineError(await r.syft(c.args(r)), c.code, c.pattern);
      const left = await listTree(r.base);
      assertEquals(left, ["afile", "shared"], "no config, keys or datasite left behind");
    });
  }
});

Deno.test("syft init rolls back everything when the datasite cannot be created", async () => {
  const r = await rig();
  // The datasite name is taken by a file: keys and home are created first, then this fails.
  await Deno.mkdir(r.root, { recursive: true });
  await Deno.writeTextFile(posix.join(r.root, "alice@example.org"), "in the way");
  oneLineError(await r.syft(initArgs(r)), 2, /alice@example\.org exists and is not a folder/);
  assertEquals(await listTree(r.base), ["SyftBox", "SyftBox/alice@example.org", "shared"]);
});
