/**
 * The mutation fuzzer's CI budget: a fixed seed and a case count that fits in
 * ~20 s on 2 cores; `SYFT_FUZZ_CASES=1000000` (and `SYFT_FUZZ_SEED`) run more.
 * A failure names its seed and target; `deno task fuzz --seed S --cases 1`
 * replays it.
 * @module
 */
import { assertEquals } from "../assert.ts";
import { describe, runFuzz } from "./run.ts";

/** Cases the default budget runs (~20 s at the throughput measured on 2 cores). */
const DEFAULT_CASES = 12_000;

function envNumber(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

Deno.test("mutated peer inputs never crash a parser, open unverified, escape the datasite or grow memory", async () => {
  const cases = envNumber("SYFT_FUZZ_CASES", DEFAULT_CASES);
  const seed = envNumber("SYFT_FUZZ_SEED", 1);
  const report = await runFuzz({ cases, seed });
  const lines = describe(report);
  console.log(lines.join("\n"));
  assertEquals(report.failures.map((f) => `seed ${f.seed} target ${f.target}: ${f.problem}`), []);
});
