/**
 * `deno task install` puts a `syft` command on the PATH that runs this clone
 * with exactly the `syft` task's permissions and no global `deno`, from any
 * folder; again it replaces the install, `--uninstall` removes it.
 * @module
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import {
  CLONE,
  installPaths,
  parseArgs,
  pathLine,
  taskPermissions,
  WRAPPER_MARK,
  wrapperScript,
} from "../../scripts/install.ts";
import { CONFIG, denoDir, SYFT_PERMISSIONS } from "../../scripts/syft_process.ts";
import { tempDir } from "../_temp.ts";

Deno.test("the wrapper carries exactly the syft task's permission flags, read from deno.json", async () => {
  const flags = taskPermissions(await Deno.readTextFile(CONFIG));
  assertEquals(flags, SYFT_PERMISSIONS, "tests' child processes run with the task's flags too");
  const script = wrapperScript({
    deno: "/h/.local/share/syft/deno",
    clone: "/src/my syft",
    permissions: flags,
  });
  const lines = script.split("\n");
  assertEquals(lines[0], "#!/bin/sh");
  assert(lines[1]!.startsWith(WRAPPER_MARK));
  assertEquals(
    lines[2],
    `unset INIT_CWD; DENO_NO_UPDATE_CHECK=1 exec /h/.local/share/syft/deno run ${
      flags.join(" ")
    } --config '/src/my syft/deno.json' '/src/my syft/main.ts' "$@"`,
  );
  const task = (t: string) => JSON.stringify({ tasks: { syft: t } });
  assertEquals(taskPermissions(task("deno run --allow-net=127.0.0.1 main.ts")), [
    "--allow-net=127.0.0.1",
  ]);
  for (
    const bad of ["deno run --watch main.ts", "deno run --allow-read other.ts", "node main.ts"]
  ) {
    let threw = false;
    try {
      taskPermissions(task(bad));
    } catch {
      threw = true;
    }
    assert(threw, bad);
  }
});

Deno.test("install paths default to ~/.local/bin and ~/.local/share/syft; the PATH line is said only when needed", () => {
  assertEquals(installPaths({ HOME: "/home/u" }, undefined), {
    binDir: "/home/u/.local/bin",
    wrapper: "/home/u/.local/bin/syft",
    deno: "/home/u/.local/share/syft/deno",
  });
  assertEquals(
    installPaths({ HOME: "/home/u", XDG_DATA_HOME: "/d" }, "/opt/bin").deno,
    "/d/syft/deno",
  );
  assertEquals(pathLine("/home/u/.local/bin", "/usr/bin:/home/u/.local/bin/", "/home/u"), null);
  assertEquals(
    pathLine("/home/u/.local/bin", "/usr/bin:/bin", "/home/u"),
    'export PATH="$HOME/.local/bin:$PATH"',
  );
  assertEquals(pathLine("/opt/bin", "/usr/bin", "/home/u"), 'export PATH="/opt/bin:$PATH"');
  assertEquals(parseArgs(["--bin-dir", "bin"], "/home/u/work"), {
    binDir: "/home/u/work/bin",
    uninstall: false,
  });
  assertEquals(parseArgs(["--uninstall"], "/x"), { uninstall: true });
});

Deno.test("from an empty HOME with only the system and Node on PATH, the installed syft runs from any folder", async () => {
  const home = await tempDir("syft-install-test-");
  const elsewhere = posix.join(home, "elsewhere");
  await Deno.mkdir(elsewhere);
  const node = await new Deno.Command("sh", { args: ["-c", "command -v node"], stdout: "piped" })
    .output();
  const nodeDir = posix.dirname(new TextDecoder().decode(node.stdout).trim() || "/usr/bin/node");
  // A fresh machine: nothing but HOME and PATH, plus the CA settings this host's network
  // needs and Deno's module cache (so the test does not download; a run without it
  // downloads the npm packages once into the empty HOME, and works the same).
  const keep = ["SSL_CERT_FILE", "SSL_CERT_DIR", "DENO_CERT"];
  const base: Record<string, string> = { HOME: home };
  for (const k of keep) if (Deno.env.get(k)) base[k] = Deno.env.get(k)!;
  const cache = denoDir();
  if (cache) base.DENO_DIR = cache;
  const run = async (argv: string[], path: string) => {
    const out = await new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd: elsewhere,
      clearEnv: true,
      env: { ...base, PATH: path },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  };
  const systemPath = [...new Set(["/usr/bin", "/bin", nodeDir])].join(":");
  const install = [Deno.execPath(), "task", "--quiet", "--config", CONFIG, "install"];
  try {
    const first = await run(install, systemPath);
    assertEquals(first.code, 0, first.stderr);
    const wrapper = posix.join(home, ".local/bin/syft");
    const deno = posix.join(home, ".local/share/syft/deno");
    assertStringIncludes(first.stdout, `installed ${wrapper} (runs ${CLONE}`);
    assertStringIncludes(first.stdout, 'export PATH="$HOME/.local/bin:$PATH"');
    const withSyft = `${home}/.local/bin:${systemPath}`;
    assertEquals(
      (await run(["sh", "-c", "command -v deno || echo none"], withSyft)).stdout.trim(),
      "none",
    );

    const version = await run(["sh", "-c", "syft --version"], withSyft);
    assertEquals(version.code, 0, version.stderr);
    assertMatch(version.stdout, /^\d+\.\d+\.\d+\n$/);
    assertEquals(version.stderr, "", "no Task line, no notices");
    const shared = posix.join(home, "shared");
    await Deno.mkdir(shared);
    const init = await run([
      "sh",
      "-c",
      `syft init --email new@example.org --transport local:${shared}`,
    ], withSyft);
    assertEquals(init.code, 0, init.stderr);
    assertMatch(init.stdout, /^Initialised new@example\.org$/m);
    await Deno.stat(posix.join(home, ".syft/config.yaml"));
    await Deno.stat(posix.join(home, "SyftBox/new@example.org"));

    // Again: replaced in place, one binary.
    const before = await Deno.stat(deno);
    const again = await run([...install, "--bin-dir", "bin"], systemPath);
    assertEquals(again.code, 0, again.stderr);
    assertEquals((await Deno.stat(deno)).ino, before.ino);
    assertEquals(
      await Deno.readTextFile(posix.join(elsewhere, "bin/syft")),
      await Deno.readTextFile(wrapper),
    );
    const gone = await run([...install, "--uninstall"], systemPath);
    assertEquals(gone.code, 0, gone.stderr);
    for (const p of [wrapper, deno]) {
      assertEquals(await Deno.lstat(p).then(() => true, () => false), false, `${p} removed`);
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
