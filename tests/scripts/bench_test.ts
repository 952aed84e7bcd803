/**
 * CI smoke test of `deno task bench`: the `--smoke` run (toy sizes) finishes and its `--json`
 * line carries every figure of issue 5, and issue 13's Drive figures (G1-G4),
 * as a finite number. Performance goals are
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

/** The fields issues 5 and 13 name for each scenario (P3 and G2 are nested, checked on their own). */
const FLAT_FIELDS: Record<string, string[]> = {
  P1: ["syft_s", "baseline_s", "ratio"],
  P2: ["syft_s", "baseline_s", "ratio", "peak_rss_mib"],
  P4: ["p50_s", "p95_s"],
  P5: ["syft_s", "baseline_s"],
  P6: ["checks_per_s"],
  G1: ["idle_round_calls"],
  G3: ["files", "calls"],
  G4: ["syft_s", "baseline_s", "ratio"],
};

Deno.test("deno task bench --smoke --json: the last stdout line holds P1-P6 and G1-G4 as finite numbers", async () => {
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
  // The table for people comes first, goals beside the figures.
  assert(stdout.includes("goal"), `a table with goals:\n${stdout}`);
});
