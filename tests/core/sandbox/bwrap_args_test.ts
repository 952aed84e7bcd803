import { assert, assertEquals, assertThrows } from "../../assert.ts";
import {
  buildBwrapArgs,
  type BwrapPlan,
  datasetEnvName,
  DEV_NODES,
  ETC_NETWORK_FILES,
  jobEnv,
  tmpfsSize,
  wrapperCommand,
} from "../../../core/sandbox/bwrap_args.ts";
import { jobLimits, limitPrefix, NOBODY, preludePrefix } from "../../../core/sandbox/limits.ts";
import { memoryCapLine, ownMemoryCgroup } from "../../../core/sandbox/memory_cap.ts";
import { accountIds } from "../../../core/sandbox/run_uid.ts";
import { pipArgs } from "../../../core/sandbox/python_env.ts";

function plan(overrides: Partial<BwrapPlan> = {}): BwrapPlan {
  return {
    system: [
      { path: "/usr", kind: "dir" },
      { path: "/bin", kind: "symlink", target: "usr/bin" },
    ],
    network: false,
    codeDir: "/stage/code",
    datasets: [{ name: "census", dir: "/stage/datasets/census" }],
    sizes: { tmp: 1 << 20, outputs: 1000, logs: 5000, meta: 100 },
    env: { PATH: "/usr/bin", SYFT_JOB_ID: "j1" },
    cwd: "/job",
    ...overrides,
  };
}

/** The argument triples `op src dest` (or pairs) in order, for readable assertions. */
function has(args: string[], ...seq: string[]): boolean {
  for (let i = 0; i + seq.length <= args.length; i++) {
    if (seq.every((s, j) => args[i + j] === s)) return true;
  }
  return false;
}

Deno.test("datasetEnvName() upper-cases the name and turns dashes into underscores", () => {
  assertEquals(datasetEnvName("my-data"), "SYFT_DATASET_MY_DATA");
  assertEquals(datasetEnvName("Census_2020"), "SYFT_DATASET_CENSUS_2020");
});

Deno.test("datasetEnvName() refuses names that could become paths or odd variables", () => {
  for (const bad of ["", "../x", "a/b", "-x", "a b", "x".repeat(65)]) {
    assertThrows(() => datasetEnvName(bad));
  }
});

Deno.test("buildBwrapArgs() unshares everything, drops capabilities and forbids nested user namespaces", () => {
  const a = buildBwrapArgs(plan());
  for (const flag of ["--unshare-all", "--new-session", "--die-with-parent"]) {
    assert(a.includes(flag));
  }
  assert(has(a, "--cap-drop", "ALL"));
  // --disable-userns only works together with (and after) --unshare-user.
  assert(a.indexOf("--unshare-user") < a.indexOf("--disable-userns"));
  assert(!a.includes("--share-net"));
});

Deno.test("buildBwrapArgs() shares the network and name resolution files only when asked", () => {
  const off = buildBwrapArgs(plan());
  const on = buildBwrapArgs(plan({ network: true }));
  assert(on.includes("--share-net"));
  for (const f of ETC_NETWORK_FILES) {
    assert(!off.includes(f), `${f} without network`);
    assert(has(on, "--ro-bind-try", f, f));
  }
});

Deno.test("buildBwrapArgs() never binds the whole /etc, the root or a home folder", () => {
  const a = buildBwrapArgs(plan({ network: true }));
  for (let i = 0; i < a.length; i++) {
    if (["--bind", "--ro-bind", "--ro-bind-try", "--dev-bind"].includes(a[i] ?? "")) {
      const src = a[i + 1] ?? "";
      assert(!["/", "/etc", "/root", "/home"].includes(src), `binds ${src}`);
    }
  }
  assert(has(a, "--ro-bind-try", "/etc/passwd", "/etc/passwd"));
});

Deno.test("buildBwrapArgs() mounts code and datasets read-only at fixed places", () => {
  const a = buildBwrapArgs(plan());
  assert(has(a, "--ro-bind", "/stage/code", "/job"));
  assert(has(a, "--ro-bind", "/stage/datasets/census", "/datasets/census"));
  assert(!a.includes("--bind"));
});

Deno.test("buildBwrapArgs() mirrors merged-/usr symlinks and binds real system folders read-only", () => {
  const a = buildBwrapArgs(plan());
  assert(has(a, "--ro-bind", "/usr", "/usr"));
  assert(has(a, "--symlink", "usr/bin", "/bin"));
});

Deno.test("buildBwrapArgs() caps every tmpfs with --size placed right before it", () => {
  const a = buildBwrapArgs(plan());
  for (const dest of ["/tmp", "/outputs", "/syft/stdout", "/syft/stderr", "/syft/meta"]) {
    const i = a.findIndex((x, j) => x === "--tmpfs" && a[j + 1] === dest);
    assert(i >= 2, `tmpfs ${dest}`);
    assertEquals(a[i - 2], "--size");
    assert(Number(a[i - 1]) > 0);
  }
  // The outputs tmpfs is one page over the cap so a full tmpfs reads as "over the cap".
  assert(has(a, "--size", String(tmpfsSize(1001)), "--tmpfs", "/outputs"));
});

Deno.test("buildBwrapArgs() clears the environment before setting the allowed variables", () => {
  const a = buildBwrapArgs(plan());
  const clear = a.indexOf("--clearenv");
  assert(clear > 0);
  a.forEach((x, i) => {
    if (x === "--setenv") assert(i > clear);
  });
  assert(has(a, "--setenv", "SYFT_JOB_ID", "j1"));
});

Deno.test("buildBwrapArgs() makes the root read-only after every mount", () => {
  const a = buildBwrapArgs(plan());
  const ro = a.indexOf("--remount-ro");
  assertEquals(a[ro + 1], "/");
  const lastMount = Math.max(...a.map((x, i) => (x.includes("bind") || x === "--tmpfs" ? i : -1)));
  assert(ro > lastMount);
});

Deno.test("buildBwrapArgs() binds the venv writable only for the installer", () => {
  const run = buildBwrapArgs(plan({ venv: { dir: "/v", writable: false } }));
  const install = buildBwrapArgs(plan({ venv: { dir: "/v", writable: true } }));
  assert(has(run, "--ro-bind", "/v", "/venv"));
  assert(has(install, "--bind", "/v", "/venv"));
});

Deno.test("tmpfsSize() rounds up to pages and never returns 0, which tmpfs reads as unlimited", () => {
  assertEquals(tmpfsSize(0), 4096);
  assertEquals(tmpfsSize(1), 4096);
  assertEquals(tmpfsSize(4097), 8192);
});

Deno.test("jobEnv() is a short allow-list plus the SYFT_* variables", () => {
  const env = jobEnv({
    jobId: "j",
    home: "/tmp/home",
    tmp: "/tmp",
    outputDir: "/outputs",
    datasets: [{ name: "a-b", dir: "/datasets/a-b" }],
    venvBin: "/venv/bin",
  });
  assertEquals(Object.keys(env).sort(), [
    "HOME",
    "LANG",
    "PATH",
    "SYFT_DATASET_A_B",
    "SYFT_JOB_ID",
    "SYFT_OUTPUT_DIR",
    "TMPDIR",
    "VIRTUAL_ENV",
  ]);
  assert(env.PATH?.startsWith("/venv/bin:"));
  assertEquals(env.LANG, "C.UTF-8");
});

Deno.test("wrapperCommand() passes the entrypoint as an argument, never inside the script", () => {
  const cmd = wrapperCommand("run.sh; rm -rf /", 1500);
  assertEquals(cmd.slice(0, 3), ["--", "bash", "-c"]);
  assert(!(cmd[3] ?? "").includes("rm -rf"));
  assertEquals(cmd.slice(4), ["syft-wrapper", "run.sh; rm -rf /", "1.500", "1500000"]);
});

Deno.test("limitPrefix() drops root with setpriv before prlimit, and ends each with --", () => {
  const argv = limitPrefix(
    jobLimits({
      timeoutMs: 4500,
      maxOutputBytes: 1 << 20,
      maxLogBytes: 1 << 10,
      dropTo: NOBODY,
      existingProcesses: 3,
    }),
  );
  assertEquals(argv.slice(0, 6), [
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--no-new-privs",
    "--",
  ]);
  assertEquals(argv[6], "prlimit");
  assert(argv.includes("--nproc=259"));
  assert(argv.includes("--cpu=7"));
  assert(argv.includes(`--fsize=${1 << 20}`));
  assertEquals(argv.at(-1), "--");
});

Deno.test("limitPrefix() keeps the current user when not root", () => {
  const argv = limitPrefix(
    jobLimits({ timeoutMs: 1000, maxOutputBytes: 10, maxLogBytes: 10, existingProcesses: 0 }),
  );
  assertEquals(argv[0], "prlimit");
  assert(!argv.includes("setpriv"));
});

Deno.test("pipArgs() installs offline from find-links, or from one index, and ends options before deps", () => {
  assertEquals(pipArgs("/venv", ["tinypkg"], { findLinks: ["/find-links/0"] }), [
    "/venv/bin/pip",
    "install",
    "--no-input",
    "--disable-pip-version-check",
    "--no-index",
    "--find-links",
    "/find-links/0",
    "--",
    "tinypkg",
  ]);
  const idx = pipArgs("/venv", ["a"], { index: "https://pypi.example/simple", findLinks: [] });
  assert(has(idx, "--index-url", "https://pypi.example/simple"));
  assert(!idx.includes("--no-index"));
});

Deno.test("buildBwrapArgs() gives /dev six host nodes and no tmpfs, with /dev/shm inside the capped /tmp", () => {
  const a = buildBwrapArgs(plan());
  assert(!a.includes("--dev"), "--dev mounts an uncapped tmpfs");
  for (const node of DEV_NODES) assert(has(a, "--dev-bind-try", node, node));
  assertEquals(a.filter((x) => x === "--dev-bind-try").length, 6);
  assert(has(a, "--size", String(1 << 20), "--tmpfs", "/tmp"));
  assert(has(a, "--symlink", "/tmp", "/dev/shm"));
  // Every tmpfs has a size, so no writable place is uncapped.
  a.forEach((x, i) => {
    if (x === "--tmpfs") assertEquals(a[i - 2], "--size");
  });
  assertEquals(a.indexOf("--remount-ro") < a.indexOf("--clearenv"), true);
});

Deno.test("limitPrefix() adds RLIMIT_AS only when the memory cap has no cgroup", () => {
  const base = { timeoutMs: 1000, maxOutputBytes: 10, maxLogBytes: 10, existingProcesses: 0 };
  assert(limitPrefix(jobLimits({ ...base, asBytes: 64 << 20 })).includes(`--as=${64 << 20}`));
  assert(!limitPrefix(jobLimits(base)).some((x) => x.startsWith("--as")));
});

Deno.test("preludePrefix() joins the cgroup, and binds the stage over /tmp only in a private mount namespace", () => {
  assertEquals(preludePrefix({}), []);
  const cg = preludePrefix({ cgroup: "/sys/fs/cgroup/memory/x" });
  assertEquals(cg[0], "bash");
  assert(!cg.includes("unshare"));
  const staged = preludePrefix({ stage: "/h/stage", binds: [{ src: "/h/venv", rel: "venv" }] });
  assertEquals(staged.slice(0, 5), ["unshare", "--mount", "--propagation", "private", "--"]);
  assertEquals(staged.slice(-5), ["", "/h/stage", "/h/venv", "venv", "--"]);
});

Deno.test("ownMemoryCgroup() finds a v1 memory hierarchy, else a v2 one with memory, else none", () => {
  assertEquals(ownMemoryCgroup("4:memory:/process_api/ab\n0::/\n", false), {
    version: 1,
    dir: "/sys/fs/cgroup/memory/process_api/ab",
  });
  assertEquals(ownMemoryCgroup("0::/user.slice/u.scope\n", true), {
    version: 2,
    dir: "/sys/fs/cgroup/user.slice/u.scope",
  });
  assertEquals(ownMemoryCgroup("0::/\n", false), null);
  assertEquals(memoryCapLine("rlimit", 64), "memory cap 64 MiB (RLIMIT_AS)");
  assertEquals(memoryCapLine("cgroup", 4096), "memory cap 4096 MiB (cgroup)");
});

Deno.test("accountIds() reads the ids of passwd and group lines", () => {
  assertEquals([...accountIds("root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/x\n\n")], [
    0,
    65534,
  ]);
});
