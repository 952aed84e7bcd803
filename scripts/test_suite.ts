/**
 * `deno task test`: the whole suite, in three passes (the parallel bulk; then
 * the files that kill processes beside those that measure their own process's
 * memory; then the files that time wall-clock latency, alone), with a TMPDIR of its own that must be empty at
 * the end: a test that leaves a folder behind fails the run, naming it. Extra
 * arguments go to every `deno test` run (e.g. `--filter`).
 * @module
 */
import { posix } from "node:path";
import { sumCounts } from "../tests/_counts.ts";
import { TEMPLATES_ENV } from "../tests/e2e/_rig.ts";

/**
 * Files that time wall-clock latency (edit to visible, a job's 4 s window,
 * signals during start-up): run one at a time after the rest, alone.
 */
export const TIMED = [
  "tests/e2e/watch_test.ts",
  "tests/e2e/concurrency_test.ts",
];

/**
 * Files that kill processes at random instants and check only what follows
 * (convergence, nothing lost or doubled): run after the parallel pass, beside
 * the {@linkcode OWN_PROCESS} files, never beside the {@linkcode TIMED} ones.
 */
export const KILLS = [
  "tests/e2e/crash_test.ts",
];

/**
 * Files whose bounds are on their own process's RSS: `deno test --parallel`
 * runs every file in one process, so these run in a `deno test` of their own,
 * one at a time, beside the {@linkcode KILLS} files (which leave a core idle).
 */
export const OWN_PROCESS = [
  "tests/plugins/local/local_test.ts",
  "tests/plugins/gdrive/contract_test.ts",
  "tests/plugins/dropbox/contract_test.ts",
  "tests/core/events/envelope_test.ts",
];

/** Files that must not share the machine with the parallel pass. */
export const SERIAL = [...KILLS, ...OWN_PROCESS, ...TIMED];

/**
 * The slowest files of the parallel pass (per-file times of a full run),
 * passed first. `deno test` starts deeper paths first and keeps the order it
 * was given among paths of one depth, so these start first among the
 * `tests/<folder>/` files, the pass's last and heaviest group: in path order
 * (cli, e2e, fuzz, scripts, security, sim) the pass ended on the simulation
 * and the bench with a core idle. Every other file follows in path order.
 */
export const SLOW_FIRST = [
  "tests/fuzz/fuzz_test.ts",
  "tests/e2e/identity_test.ts",
  "tests/sim/sim_test.ts",
  "tests/e2e/sync_test.ts",
  "tests/scripts/bench_test.ts",
  "tests/security/no_peer_can_stall_the_owner_test.ts",
  "tests/plugins/gdrive/contract_faults_test.ts",
  "tests/plugins/dropbox/contract_faults_test.ts",
  "tests/security/costs_are_bounded_before_bytes_are_spent_test.ts",
  "tests/e2e/gdrive_flow_test.ts",
  "tests/e2e/checkpoint_test.ts",
  "tests/cli/job_test.ts",
];

/** Whether `name` is a test module by `deno test`'s default pattern. */
function isTestFile(name: string): boolean {
  return /(^|[._])test\.(ts|tsx|mts|js|mjs|jsx)$/.test(name);
}

/** Every test module under `dir` (relative, `/`-separated), in path order. */
export function testFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(rel)) {
      const path = posix.join(rel, e.name);
      if (e.isDirectory) walk(path);
      else if (e.isFile && isTestFile(e.name)) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}

/** The parallel pass's files: those of `all` not in {@linkcode SERIAL}, the slow ones first. */
export function parallelOrder(all: string[]): string[] {
  const rest = all.filter((f) => !SERIAL.includes(f));
  const first = SLOW_FIRST.filter((f) => rest.includes(f));
  return [...first, ...rest.filter((f) => !first.includes(f))];
}

/** What the tests may do: the demo's and the CLI's permissions, network to 127.0.0.1 only. */
export const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
  "--allow-net=127.0.0.1",
];

/** What is left in `dir`, as names. */
export function leftovers(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

async function denoTest(
  args: string[],
  env: Record<string, string>,
  options: { jobs?: number; quietUntil?: Promise<unknown> } = {},
): Promise<number> {
  const { jobs, quietUntil } = options;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", ...args],
    env: {
      ...env,
      ...(jobs === undefined ? {} : { DENO_JOBS: String(jobs) }),
    },
    stdin: "null",
    // A run beside another holds its report until that one is done, so the two do not interleave.
    ...(quietUntil === undefined ? {} : { stdout: "piped", stderr: "piped" } as const),
  }).spawn();
  if (quietUntil === undefined) return (await child.status).code;
  const [out] = await Promise.all([child.output(), quietUntil]);
  await Deno.stdout.write(out.stdout);
  await Deno.stderr.write(out.stderr);
  return out.code;
}

/**
 * `deno check` of `files` as one set (the roots a `deno test` of them uses, so
 * it finds the result in deno's check cache). Its verdict is not used: a file
 * that fails is checked again, and reported, by the run of its tests.
 */
async function check(files: string[]): Promise<void> {
  await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", ...files],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
}

/**
 * Test files run at once in the parallel pass: one more than the cores (the
 * default is as many), since many files spend much of their time waiting on
 * the syft and bubblewrap processes they start. `DENO_JOBS` overrides it.
 */
export function parallelJobs(): number {
  const set = Number(Deno.env.get("DENO_JOBS"));
  if (Number.isSafeInteger(set) && set > 0) return set;
  return navigator.hardwareConcurrency + 1;
}

if (import.meta.main) {
  const extra = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
  const tmp = await Deno.makeTempDir({ prefix: "syft-suite-" });
  // Like /tmp (sticky, open to every user): a sandbox test runs as an unprivileged user.
  await Deno.chmod(tmp, 0o1777);
  // Outside TMPDIR, which must end empty: the hardening suites' counts.
  const counts = await Deno.makeTempFile({ prefix: "syft-suite-counts-" });
  // Outside TMPDIR too: the worlds test files share (tests/e2e/_rig.ts worldTemplate).
  const templates = await Deno.makeTempDir({ prefix: "syft-suite-templates-" });
  const env = { TMPDIR: tmp, SYFT_TEST_COUNTS: counts, [TEMPLATES_ENV]: templates };
  const started = performance.now();
  // The parallel pass type-checks its files on one core before it runs any:
  // the lanes' files are checked meanwhile on the other, so the lanes start
  // from deno's check cache instead of checking at the end on their own.
  // First the simulation's Worker module: deno test type-checks a Worker's
  // module when it starts, ~4.5 s of a core on a cold cache.
  const prechecked = (async () => {
    for (const lane of [["tests/sim/worker.ts"], KILLS, OWN_PROCESS, TIMED]) await check(lane);
  })();
  let code = await denoTest(
    ["--parallel", ...PERMISSIONS, ...extra, ...parallelOrder(testFiles("tests"))],
    env,
    { jobs: parallelJobs() },
  );
  await prechecked;
  if (code === 0) {
    const kills = denoTest([...PERMISSIONS, ...extra, ...KILLS], env);
    const own = denoTest([...PERMISSIONS, ...extra, ...OWN_PROCESS], env, { quietUntil: kills });
    code = Math.max(await kills, await own);
  }
  if (code === 0) code = await denoTest([...PERMISSIONS, ...extra, ...TIMED], env);
  const ran = sumCounts(await Deno.readTextFile(counts));
  await Deno.remove(counts);
  await Deno.remove(templates, { recursive: true });
  const left = leftovers(tmp);
  await Deno.remove(tmp, { recursive: true });
  const minutes = (performance.now() - started) / 60_000;
  console.log(`\nsuite: ${code === 0 ? "passed" : "FAILED"} in ${minutes.toFixed(1)} min`);
  if (ran.size > 0) {
    const parts = [...ran].map(([label, n]) => `${n.toLocaleString("en-US")} ${label}`);
    console.log(`hardening: ${parts.join(", ")}`);
  }
  if (left.length > 0) {
    console.log(
      `error: the suite left ${left.length} item(s) in its TMPDIR: ${
        left.slice(0, 10).map((n) => posix.join(tmp, n)).join(", ")
      }`,
    );
    console.log("hint: every test removes what it creates (tests/_temp.ts tempDir())");
    if (code === 0) code = 1;
  }
  Deno.exit(code);
}
