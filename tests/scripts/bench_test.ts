/**
 * CI smoke test of `deno task bench`: the `--smoke` run (toy sizes) finishes and its `--json`
 * line carries every figure of issue 5, issue 13's Drive figures (G1-G4), issue 18's Dropbox
 * figures (DB1-DB5) and the keys
 * issue 17 names (`P1.ratio`, `P2.ratio`, `P2.peak_rss_mib`, `P8.time_ratio`,
 * `P8.bytes_ratio`, `P9.bytes_written`, `P9.ratio`, `P5.ratio`) as a finite number. Performance goals are
 * not asserted here (CI machines vary); only that each figure was measured.
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { assert, assertEquals } from "../assert.ts";
import { childEnv, CONFIG } from "../../scripts/syft_process.ts";

const BENCH = fromFileUrl(new URL("../../scripts/bench.ts", import.meta.url));

/** The `--allow-*` flags of the bench task, read from deno.json so they cannot drift. */
async function benchTaskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(CONFIG));
  const task: unknown = config.tasks?.bench;
  assert(typeof task === "string", "deno.json has a bench task");
  const flags = task.split(/\s+/).filter((w) => w.startsWith("--allow-"));
  assert(flags.length > 0, `no permission flags in the bench task: ${task}`);
  return flags;
}

async function runQuickBench(): Promise<{ stdout: string; stderr: string }> {
  const home = await Deno.makeTempDir({ prefix: "syft-bench-test-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--config",
        CONFIG,
        ...await benchTaskFlags(),
        BENCH,
        "--smoke",
        "--json",
      ],
      // A HOME of its own like every test child; childEnv keeps the deno cache.
      env: childEnv({ HOME: home }),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    const result = { stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
    assertEquals(out.code, 0, `bench failed:\n${result.stdout}\n${result.stderr}`);
    return result;
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function section(figures: Obj, key: string): Obj {
  const value = figures[key];
  assert(isObj(value), `${key} is an object: ${JSON.stringify(value)}`);
  return value;
}

function assertFigure(obj: Obj, where: string, field: string): number {
  const value = obj[field];
  assert(
    typeof value === "number" && Number.isFinite(value) && value >= 0,
    `${where}.${field} is a finite number >= 0: ${JSON.stringify(value)}`,
  );
  return value;
}

function assertCalls(value: unknown, where: string, min: number): void {
  assert(
    typeof value === "number" && Number.isInteger(value) && value >= min,
    `${where} is an integer >= ${min}: ${JSON.stringify(value)}`,
  );
}

/** The fields issues 5, 13 and 17 name for each scenario (P3 and G2 are nested, checked on their own). */
const FLAT_FIELDS: Record<string, string[]> = {
  P1: ["syft_s", "baseline_s", "ratio"],
  P2: ["syft_s", "baseline_s", "ratio", "peak_rss_mib"],
  P4: ["p50_s", "p95_s"],
  P5: ["syft_s", "baseline_s", "ratio", "version_s", "version_ratio"],
  P6: ["checks_per_s"],
  P8: ["time_ratio", "bytes_ratio"],
  P9: ["bytes_written", "ratio"],
  G1: ["idle_round_calls"],
  G3: ["files", "calls"],
  G4: ["syft_s", "baseline_s", "ratio"],
  DB1: ["idle_round_calls", "peers"],
  DB3: ["files", "calls", "owner_calls", "peer_calls", "seconds"],
  DB4: ["samples", "lost"],
  DB5: ["syft_s", "baseline_s", "ratio", "mib"],
};

Deno.test("deno task bench --smoke --json: the last stdout line holds P1-P9, G1-G4 and DB1-DB5 as finite numbers", async () => {
  const { stdout } = await runQuickBench();
  const line = lastLine(stdout);
  let figures: unknown;
  try {
    figures = JSON.parse(line);
  } catch {
    throw new Error(`the last stdout line is not JSON: ${line}\n${stdout}`);
  }
  assert(isObj(figures), `one JSON object: ${line}`);
  for (const [key, fields] of Object.entries(FLAT_FIELDS)) {
    const s = section(figures, key);
    for (const field of fields) assertFigure(s, key, field);
  }
  const p3 = section(figures, "P3");
  const perRound = p3.calls_per_round;
  assert(isObj(perRound), `P3.calls_per_round is an object: ${JSON.stringify(perRound)}`);
  for (const k of ["1", "10", "100"]) assertCalls(perRound[k], `P3.calls_per_round.${k}`, 1);
  assertCalls(p3.idle_poll_calls, "P3.idle_poll_calls", 0);
  const g2 = section(section(figures, "G2"), "calls_per_round");
  // --smoke, like --quick, leaves out k=10 (a full run measures it).
  for (const k of ["1", "100"]) assertCalls(g2[k], `G2.calls_per_round.${k}`, 1);
  assertCalls(section(figures, "G1").idle_round_calls, "G1.idle_round_calls", 1);
  // --smoke, like --quick, shrinks the first sync and says so beside the figure.
  assert(stdout.includes("--quick: 10,000 in a full run"), `G3 says it is shrunk:\n${stdout}`);
  // P8's ratios compare two measured runs: both sides of each were measured.
  const p8 = section(figures, "P8");
  for (const key of ["owner_s", "storage_bytes"]) {
    const byK = section(p8, key);
    assertEquals(Object.keys(byK).sort(), ["1", "3"], `P8.${key}: K=1 and K=3 with --smoke`);
    for (const k of ["1", "3"]) assert(assertFigure(byK, `P8.${key}`, k) > 0, `P8.${key}.${k} > 0`);
  }
  // Dropbox: calls per round for each k (publishing and receiving sides too), as for Drive.
  const db2 = section(figures, "DB2");
  for (const key of ["calls_per_round", "publish_calls", "receive_calls"]) {
    const byK = section(db2, key);
    for (const k of ["1", "100"]) assertCalls(byK[k], `DB2.${key}.${k}`, 1);
  }
  assertCalls(section(figures, "DB1").idle_round_calls, "DB1.idle_round_calls", 1);
  // No latency figure when no edit arrived (a 0 would read as instant); with samples, both.
  const db4 = section(figures, "DB4");
  if ((db4.samples as number) > 0) {
    for (const f of ["p50_s", "p95_s"]) {
      assertFigure(db4, "DB4", f);
    }
  }
  assert(stdout.includes("--smoke: 10,000 in a full run"), `DB3 says it is shrunk:\n${stdout}`);
  // The table for people comes first, goals beside the figures, and a line saying what missed.
  assert(stdout.includes("goal"), `a table with goals:\n${stdout}`);
  assert(/every goal met|goals missed \(\d+\)/.test(stdout), `a line on goals:\n${stdout}`);
});
