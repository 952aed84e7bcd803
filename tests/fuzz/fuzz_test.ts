/**
 * The mutation fuzzer's CI budget: a fixed seed and 100,000 cases; `SYFT_FUZZ_CASES=1000000` (and `SYFT_FUZZ_SEED`) run more.
 * A failure names its seed and target; `deno task fuzz --seed S --cases 1`
 * replays it.
 * @module
 */
import { assertEquals } from "../assert.ts";
import { describe, runFuzz } from "./run.ts";
import { recordCount } from "../_counts.ts";

/** Cases the default budget runs (issue 16: 100,000 in CI; ~70 s of one core). */
const DEFAULT_CASES = 100_000;

function envNumber(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

Deno.test("mutated peer inputs never crash a parser, open unverified, escape the datasite or grow memory", async () => {
  const cases = envNumber("SYFT_FUZZ_CASES", DEFAULT_CASES);
  const seed = envNumber("SYFT_FUZZ_SEED", 1);
  const report = await runFuzz({ cases, seed });
  await recordCount("fuzz cases", report.cases);
  const lines = describe(report);
  console.log(lines.join("\n"));
  assertEquals(report.failures.map((f) => `seed ${f.seed} target ${f.target}: ${f.problem}`), []);
});
