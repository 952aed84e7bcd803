/**
 * The sandbox battery: hostile jobs run through the real runner and bubblewrap,
 * each asserting that the owner's machine is untouched and nothing private leaks.
 * Skipped as a whole (with the reason) only when bubblewrap cannot run here.
 */
import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import {
  installPythonDeps,
  type JobRunResult,
  type JobRunSpec,
  probeBubblewrap,
  runJob,
} from "../../../core/sandbox/mod.ts";
import { buildWheel } from "./_wheel.ts";
import { RUN_UID_MAX, RUN_UID_MIN } from "../../../core/sandbox/run_uid.ts";

const probe = await probeBubblewrap();
const ignore = !probe.available;
if (!probe.available) {
  console.warn(`sandbox battery skipped: ${probe.reason} (${probe.hint})`);
}

const KEY_SECRET = "KEY-SECRET-7f3a9c";
const CANARY_SECRET = "CANARY-SECRET-51d2e8";
const GRANTED_SECRET = "granted-row-42";
const OTHER_SECRET = "OTHER-DATASET-SECRET-9b8e";

/** An owner's machine in a temp folder: keys, a canary, a datasite with two datasets. */
interface World {
  root: string;
  keyFile: string;
  canary: string;
  datasite: string;
  granted: string;
  other: string;
  scratch: string;
  n: number;
}

async function makeWorld(): Promise<World> {
  const root = await Deno.makeTempDir({ prefix: "syft-battery-" });
  const home = join(root, "home");
  const keys = join(home, ".syft", "keys");
  await Deno.mkdir(keys, { recursive: true, mode: 0o700 });
  const keyFile = join(keys, "identity.key");
  await Deno.writeTextFile(keyFile, KEY_SECRET, { mode: 0o600 });
  const canary = join(home, "canary.txt");
  await Deno.writeTextFile(canary, CANARY_SECRET);
  const datasite = join(home, "SyftBox", "owner@example.org");
  const granted = join(datasite, "private", "syft_datasets", "granted");
  const other = join(datasite, "private", "syft_datasets", "other");
  await Deno.mkdir(granted, { recursive: true });
  await Deno.mkdir(other, { recursive: true });
  await Deno.writeTextFile(join(granted, "data.csv"), `id,value\n1,${GRANTED_SECRET}\n`);
  await Deno.writeTextFile(join(other, "data.csv"), OTHER_SECRET);
  const scratch = join(root, "scratch");
  await Deno.mkdir(scratch);
  return { root, keyFile, canary, datasite, granted, other, scratch, n: 0 };
}

const world = ignore ? undefined : await makeWorld();

function w(): World {
  if (world === undefined) throw new Error("no world");
  return world;
}

/** Run a job script (as run.sh) with sensible battery defaults. */
async function job(
  script: string,
  overrides: Partial<JobRunSpec> = {},
): Promise<{ r: JobRunResult; outDir: string; stdout: string; stderr: string; all: string }> {
  const world = w();
  const n = ++world.n;
  const codeDir = join(world.root, `code-${n}`);
  await Deno.mkdir(codeDir);
  await Deno.writeTextFile(join(codeDir, "run.sh"), script);
  const outDir = join(world.root, `out-${n}`);
  const r = await runJob({
    jobId: `job-${n}`,
    codeDir,
    entrypoint: "run.sh",
    datasets: [{ name: "granted", dir: world.granted }],
    network: false,
    timeoutMs: 5000,
    maxOutputBytes: 1 << 20,
    maxLogBytes: 1 << 20,
    mode: "bwrap",
    outDir,
    scratchDir: world.scratch,
    ...overrides,
  });
  const stdout = await Deno.readTextFile(join(outDir, "stdout.txt"));
  const stderr = await Deno.readTextFile(join(outDir, "stderr.txt"));
  const all = stdout + stderr + (await readTree(join(outDir, "outputs")));
  return { r, outDir, stdout, stderr, all };
}

/** Every regular file under a folder, concatenated (links are never followed). */
async function readTree(dir: string): Promise<string> {
  let text = "";
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    const st = await Deno.lstat(p);
    if (st.isDirectory) text += await readTree(p);
    else if (st.isFile) text += await Deno.readTextFile(p);
  }
  return text;
}

function noSecrets(all: string): void {
  for (const s of [KEY_SECRET, CANARY_SECRET, OTHER_SECRET]) {
    assert(!all.includes(s), `the secret ${s} leaked`);
  }
}

const opts = { ignore, sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "a job reads its granted dataset through SYFT_DATASET_<NAME> and writes outputs/result.txt",
  ...opts,
  fn: async () => {
    const { r, outDir, stdout } = await job(`
      set -e
      echo "dataset at $SYFT_DATASET_GRANTED"
      wc -l < "$SYFT_DATASET_GRANTED/data.csv" > "$SYFT_OUTPUT_DIR/result.txt"
      grep -o 'granted-row-[0-9]*' "$SYFT_DATASET_GRANTED/data.csv" >> "$SYFT_OUTPUT_DIR/result.txt"
      echo "uid $(id -u) home $HOME"
    `);
    assertEquals(r.returncode, 0, JSON.stringify(r));
    assertEquals(r.error, undefined);
    // As root a fresh uid of the dynamic range per run; otherwise the owner's own.
    if (Deno.uid() === 0) assert(r.uid >= RUN_UID_MIN && r.uid <= RUN_UID_MAX, `uid ${r.uid}`);
    else assertEquals(r.uid, Deno.uid());
    assertEquals(
      await Deno.readTextFile(join(outDir, "outputs", "result.txt")),
      `2\n${GRANTED_SECRET}\n`,
    );
    assertStringIncludes(stdout, "dataset at /datasets/granted");
    assertEquals(r.outputs.files, 1);
  },
});

Deno.test({
  name: "1. a job cannot read the owner's key file or a canary by absolute path",
  ...opts,
  fn: async () => {
    const { keyFile, canary, root } = w();
    const { r, all } = await job(`
      cat ${keyFile} ${canary}
      cat /root/.syft/keys/* 2>&1
      cp ${keyFile} "$SYFT_OUTPUT_DIR/" 2>&1
      grep -rs --exclude-dir=proc --exclude-dir=usr --exclude-dir=dev 'KEY-SECRET-7f3a9[c]' / | head -n 5
      ls -la ${root} 2>&1
      exit 0
    `);
    assertEquals(r.returncode, 0);
    noSecrets(all);
  },
});

Deno.test({
  name: "2. a job cannot read a dataset it was not granted, by host path or under /datasets",
  ...opts,
  fn: async () => {
    const { other } = w();
    const { r, all, stdout } = await job(`
      cat ${other}/data.csv /datasets/other/data.csv 2>&1
      ls /datasets
      cat /datasets/*/data.csv
    `);
    assertEquals(r.error, undefined);
    noSecrets(all);
    assertEquals(stdout.split("\n").filter((l) => l === "granted"), ["granted"]);
  },
});

Deno.test({
  name: "3. a job cannot write to /etc, /root or the owner's datasite",
  ...opts,
  fn: async () => {
    const { datasite, granted } = w();
    const before = await Deno.readTextFile(join(granted, "data.csv"));
    const { r, stdout } = await job(`
      for f in /etc/syft-pwned /root/syft-pwned ${datasite}/pwned.txt ${granted}/data.csv /job/run.sh; do
        (echo pwned > "$f") 2>/dev/null && echo "WROTE $f" || echo "DENIED $f"
      done
    `);
    assertEquals(r.returncode, 0);
    assert(!stdout.includes("WROTE"), stdout);
    for (const p of ["/etc/syft-pwned", "/root/syft-pwned", join(datasite, "pwned.txt")]) {
      assert(!(await exists(p)), `${p} was created`);
    }
    assertEquals(await Deno.readTextFile(join(granted, "data.csv")), before);
  },
});

Deno.test({
  name: "4. a job cannot remount its dataset read-write and change a private file",
  ...opts,
  fn: async () => {
    const { granted } = w();
    const before = await Deno.readTextFile(join(granted, "data.csv"));
    const { r, stdout } = await job(`
      mount -o remount,rw,bind /datasets/granted 2>&1
      unshare -rm sh -c 'mount -o remount,rw /datasets/granted' 2>&1
      (echo pwned > /datasets/granted/data.csv) 2>/dev/null && echo WROTE || echo DENIED
    `);
    assertEquals(r.error, undefined);
    assertStringIncludes(stdout, "DENIED");
    assertEquals(await Deno.readTextFile(join(granted, "data.csv")), before);
  },
});

Deno.test({
  name: "5. a job cannot create device nodes with mknod",
  ...opts,
  fn: async () => {
    const { r, stdout, outDir } = await job(`
      mknod "$SYFT_OUTPUT_DIR/mem" c 1 1 2>/dev/null && echo MKNOD_OK || echo MKNOD_FAILED
      mknod /tmp/null c 1 3 2>/dev/null && echo MKNOD_OK || echo MKNOD_FAILED
    `);
    assertEquals(r.error, undefined);
    assertEquals(stdout, "MKNOD_FAILED\nMKNOD_FAILED\n");
    assert(!(await exists(join(outDir, "outputs", "mem"))));
  },
});

/** A TCP server on 127.0.0.1 that counts connections. */
function tcpServer(): { port: number; count: () => number; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let n = 0;
  (async () => {
    try {
      for await (const conn of listener) {
        n++;
        conn.close();
      }
    } catch { /* closed */ }
  })();
  return { port: listener.addr.port, count: () => n, close: () => listener.close() };
}

Deno.test({
  name: "6. a job without network cannot connect to a server on the host's 127.0.0.1",
  ...opts,
  fn: async () => {
    const server = tcpServer();
    try {
      const { r, stdout } = await job(`
        (exec 3<>/dev/tcp/127.0.0.1/${server.port} && echo CONNECTED) 2>/dev/null || echo NO_CONNECTION
      `);
      assertEquals(r.returncode, 0);
      assertEquals(stdout, "NO_CONNECTION\n");
      await new Promise((res) => setTimeout(res, 100));
      assertEquals(server.count(), 0);
    } finally {
      server.close();
    }
  },
});

Deno.test({
  name: "a job with network:true can reach a server on 127.0.0.1",
  ...opts,
  fn: async () => {
    const server = tcpServer();
    try {
      const { r, stdout } = await job(
        `(exec 3<>/dev/tcp/127.0.0.1/${server.port} && echo CONNECTED) || echo NO_CONNECTION`,
        { network: true },
      );
      assertEquals(r.returncode, 0);
      assertEquals(stdout, "CONNECTED\n");
      await new Promise((res) => setTimeout(res, 100));
      assert(server.count() >= 1);
    } finally {
      server.close();
    }
  },
});

Deno.test({
  name:
    "7. a fork bomb is contained by the process limit and the run ends while the host stays responsive",
  ...opts,
  fn: async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 100);
    const started = Date.now();
    try {
      const { r } = await job(`bomb() { bomb | bomb & }; bomb; sleep 10`, { timeoutMs: 3000 });
      const took = Date.now() - started;
      assert(took < 12000, `took ${took} ms`);
      assert(r.timedOut || r.returncode !== 0, JSON.stringify(r));
      // The event loop kept running during the bomb: most 100 ms ticks happened.
      assert(ticks >= Math.floor(took / 100 / 3), `only ${ticks} ticks in ${took} ms`);
    } finally {
      clearInterval(timer);
    }
    const p = new Deno.Command("true").spawn();
    assertEquals((await p.status).code, 0);
  },
});

Deno.test({
  name: "8. a job printing 1 GiB is capped at maxLogBytes, marked truncated, and ends quickly",
  ...opts,
  fn: async () => {
    const cap = 64 * 1024;
    const started = Date.now();
    const { r, stdout, outDir } = await job(
      `head -c 1073741824 /dev/zero | tr '\\0' 'a'; head -c 1073741824 /dev/zero | tr '\\0' 'b' >&2`,
      { maxLogBytes: cap },
    );
    const took = Date.now() - started;
    assert(took < 5000, `took ${took} ms`);
    assert(r.stdoutTruncated && r.stderrTruncated, JSON.stringify(r));
    assert(stdout.startsWith("a".repeat(cap)));
    assert(stdout.endsWith(`\n[syft: output truncated at ${cap} bytes]\n`), stdout.slice(-80));
    const size = (await Deno.stat(join(outDir, "stdout.txt"))).size;
    assert(size < cap + 100, `stdout.txt is ${size} bytes`);
  },
});

Deno.test({
  name: "8b. /tmp, HOME and /dev/shm share the scratch cap, and /dev takes no file",
  ...opts,
  fn: async () => {
    const cap = 8 * 1024 * 1024;
    const { r, stdout } = await job(
      `for p in /tmp "$HOME" /dev/shm /dev; do
         for i in 1 2 3 4; do head -c 4194304 /dev/zero > "$p/f$RANDOM$i" 2>/dev/null; done
       done
       echo "used $(du -sbL /tmp | cut -f1)"
       ls -A /dev | tr '\\n' ' '`,
      { scratchBytes: cap, maxOutputBytes: 64 * 1024 * 1024 },
    );
    assertEquals(r.returncode, 0, JSON.stringify(r));
    const used = Number(stdout.match(/used (\d+)/)?.[1]);
    assert(used <= cap + 65536, `scratch holds ${used} bytes: ${stdout}`);
    assertStringIncludes(stdout, "full null random shm tty urandom zero");
  },
});

Deno.test({
  name: "8c. a job holding more memory than its cap fails inside the sandbox",
  ...opts,
  fn: async () => {
    const { r, stdout } = await job(
      `x=$(head -c 268435456 /dev/zero | tr '\\0' a); echo "held \${#x}"`,
      { memoryBytes: 64 * 1024 * 1024 },
    );
    assertEquals(r.error, undefined, JSON.stringify(r));
    assert(r.memoryCap === "cgroup" || r.memoryCap === "rlimit", JSON.stringify(r));
    assert(!stdout.includes("held 268435456"), stdout);
  },
});

Deno.test({
  name:
    "9. a job filling outputs past the cap is recorded truncated and the host copy stays under the cap",
  ...opts,
  fn: async () => {
    const cap = 256 * 1024;
    const { r, outDir } = await job(
      `echo small > "$SYFT_OUTPUT_DIR/a-small.txt"
       head -c 10485760 /dev/zero > "$SYFT_OUTPUT_DIR/big.bin"
       truncate -s 100M "$SYFT_OUTPUT_DIR/sparse.bin"; echo done`,
      { maxOutputBytes: cap },
    );
    assert(r.outputs.truncated || r.returncode !== 0, JSON.stringify(r));
    assert(r.outputs.truncated);
    assert(r.outputs.bytes <= cap);
    let total = 0;
    for await (const e of Deno.readDir(join(outDir, "outputs"))) {
      total += (await Deno.lstat(join(outDir, "outputs", e.name))).size;
    }
    assert(total <= cap, `host copy is ${total} bytes`);
  },
});

Deno.test({
  name: "10. a job sleeping past its timeout is killed near the timeout and marked timed out",
  ...opts,
  fn: async () => {
    const started = Date.now();
    const { r, stdout } = await job(`echo started; sleep 60; echo never`, { timeoutMs: 1500 });
    const took = Date.now() - started;
    assertEquals(r.timedOut, true);
    assertEquals(r.returncode, null);
    assertEquals(r.error, undefined);
    assertEquals(stdout, "started\n");
    assert(took >= 1500 && took < 4000, `took ${took} ms`);
  },
});

/** Host processes whose command line contains `marker` (pgrep: Deno tests may not list /proc). */
async function processesWith(marker: string): Promise<number> {
  const out = await new Deno.Command("pgrep", { args: ["-f", "--", marker], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim() !== "").length;
}

Deno.test({
  name: "11. no process of a job survives it, even one in the background or in a new session",
  ...opts,
  fn: async () => {
    const marker = `1000.${Math.floor(Math.random() * 1e6)}`;
    const { r } = await job(`
      sleep ${marker} &
      setsid sleep ${marker} &
      nohup sleep ${marker} >/dev/null 2>&1 &
      disown -a
      exit 0
    `);
    assertEquals(r.returncode, 0);
    // A kill is delivered at once, but give the kernel a moment to reap.
    await new Promise((res) => setTimeout(res, 200));
    assertEquals(await processesWith(marker), 0);
  },
});

Deno.test({
  name: "12. a symlink to a key file in outputs is skipped and no key content is released",
  ...opts,
  fn: async () => {
    const { keyFile } = w();
    const { r, outDir, all } = await job(`
      ln -s ${keyFile} "$SYFT_OUTPUT_DIR/key.txt"
      ln -s /etc/passwd "$SYFT_OUTPUT_DIR/passwd"
      mkdir "$SYFT_OUTPUT_DIR/d" && ln -s / "$SYFT_OUTPUT_DIR/d/root"
      echo fine > "$SYFT_OUTPUT_DIR/ok.txt"
    `);
    assertEquals(r.returncode, 0);
    const skipped = r.outputs.skipped.map((s) => `${s.path}:${s.reason}`).sort();
    assertEquals(skipped, ["d/root:symlink", "key.txt:symlink", "passwd:symlink"]);
    assert(!(await exists(join(outDir, "outputs", "key.txt"))));
    assertEquals(r.outputs.files, 1);
    noSecrets(all);
  },
});

Deno.test({
  name: "mode none runs the job with the scrubbed env and copies outputs without symlinks",
  ...opts,
  fn: async () => {
    const { keyFile } = w();
    Deno.env.set("SYFT_BATTERY_HOST_SECRET", "host-env-secret");
    const { r, outDir, stdout } = await job(
      `echo "id=$SYFT_JOB_ID"; env | grep -c HOST_SECRET
       cat "$SYFT_DATASET_GRANTED/data.csv" | tail -n 1 > "$SYFT_OUTPUT_DIR/result.txt"
       ln -s ${keyFile} "$SYFT_OUTPUT_DIR/key.txt"
       exit 4`,
      { mode: "none" },
    );
    Deno.env.delete("SYFT_BATTERY_HOST_SECRET");
    assertEquals(r.mode, "none");
    assertEquals(r.returncode, 4);
    assertStringIncludes(stdout, "id=job-");
    assertStringIncludes(stdout, "\n0\n");
    assertEquals(
      await Deno.readTextFile(join(outDir, "outputs", "result.txt")),
      `1,${GRANTED_SECRET}\n`,
    );
    assertEquals(r.outputs.skipped, [{ path: "key.txt", reason: "symlink" }]);
  },
});

Deno.test({
  name: "mode none kills the job's process group at the timeout",
  ...opts,
  fn: async () => {
    const marker = `1001.${Math.floor(Math.random() * 1e6)}`;
    const started = Date.now();
    const { r } = await job(`sleep ${marker} & sleep 60`, { mode: "none", timeoutMs: 1000 });
    // Killed at the timeout, not when the 60 s sleep ends: the bound leaves
    // room for a loaded machine (4 s failed in a parallel suite pass).
    const took = Date.now() - started;
    assert(took < 20_000, `took ${took} ms: the job was not killed at its 1 s timeout`);
    assertEquals(r.timedOut, true);
    assertEquals(r.returncode, null);
    await new Promise((res) => setTimeout(res, 200));
    assertEquals(await processesWith(marker), 0);
  },
});

Deno.test({
  name: "a python job imports a locally built wheel installed with installPythonDeps",
  ...opts,
  fn: async () => {
    const { root, scratch } = w();
    const wheels = join(root, "wheels");
    await Deno.mkdir(wheels);
    await buildWheel(
      wheels,
      "syfttiny",
      "0.1.0",
      'ANSWER = 42\ndef hello():\n    return "tiny says hi"\n',
    );
    const venvDir = join(root, "venv");
    const install = await installPythonDeps({
      venvDir,
      dependencies: ["syfttiny==0.1.0"],
      findLinks: [wheels],
      mode: "bwrap",
      timeoutMs: 60_000,
      scratchDir: scratch,
    });
    assert(install.ok, install.log);
    const { r, stdout, stderr } = await job(
      `python -c 'import syfttiny, sys; print(syfttiny.hello(), syfttiny.ANSWER, sys.prefix)'`,
      { venvDir },
    );
    assertEquals(r.returncode, 0, stderr);
    assertEquals(stdout, "tiny says hi 42 /venv\n");
  },
});

Deno.test({
  name: "installPythonDeps() refuses a dependency that looks like a pip option",
  ...opts,
  fn: async () => {
    const { root, scratch } = w();
    const res = await installPythonDeps({
      venvDir: join(root, "venv-bad"),
      dependencies: ["--index-url=http://evil.example/"],
      mode: "bwrap",
      timeoutMs: 5000,
      scratchDir: scratch,
    });
    assertEquals(res.ok, false);
  },
});

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
}

if (world !== undefined) {
  // Top-level cleanup once every test of this file has run.
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(world.root, { recursive: true });
    } catch { /* best effort */ }
  });
}
