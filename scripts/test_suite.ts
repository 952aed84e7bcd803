/**
 * `deno task test`: the whole suite, in two passes (the parallel bulk, then the
 * files that time wall-clock latency or share machine-wide resources, one at a
 * time), with a TMPDIR of its own that must be empty at the end: a test that
 * leaves a folder behind fails the run, naming it. Extra arguments go to both
 * `deno test` runs (e.g. `--filter`).
 * @module
 */
import { posix } from "node:path";
import { sumCounts } from "../tests/_counts.ts";

/** Files that must not share the machine with other tests while they run. */
export const SERIAL = [
  "tests/e2e/watch_test.ts",
  "tests/e2e/crash_test.ts",
  "tests/e2e/concurrency_test.ts",
  "tests/plugins/local/local_test.ts",
  "tests/plugins/gdrive/contract_test.ts",
  "tests/plugins/dropbox/contract_test.ts",
  "tests/core/events/envelope_test.ts",
];

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
  tmp: string,
  counts: string,
  jobs?: number,
): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", ...args],
    env: {
      TMPDIR: tmp,
      SYFT_TEST_COUNTS: counts,
      ...(jobs === undefined ? {} : { DENO_JOBS: String(jobs) }),
    },
    stdin: "null",
  }).spawn();
  return (await child.status).code;
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
  const started = performance.now();
  let code = await denoTest(
    ["--parallel", ...PERMISSIONS, `--ignore=${SERIAL.join(",")}`, ...extra, "tests/"],
    tmp,
    counts,
    parallelJobs(),
  );
  if (code === 0) code = await denoTest([...PERMISSIONS, ...extra, ...SERIAL], tmp, counts);
  const ran = sumCounts(await Deno.readTextFile(counts));
  await Deno.remove(counts);
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
