/**
 * The deterministic simulation in CI (issue 16, item 1): a fixed block of
 * seeds, each 1,000 random operations with faults, must keep every
 * invariant. `SYFT_SIM_SEEDS`, `SYFT_SIM_OPS` and `SYFT_SIM_FIRST` size the
 * block, `SYFT_SIM_WORKERS` spreads it over Workers (default 1: the suite
 * runs files side by side); 4 seeds run interleaved in each isolate. A seed
 * costs ~0.33 s of one core at 100 operations, ~0.75 s at 300 and ~3 s at
 * 1,000 (the default block, 10 seeds, ~30 s of one core); `deno task sim`
 * runs more. A failure prints its seed, the shrunk operations and the
 * command that replays them.
 */
import { assert, assertEquals } from "../assert.ts";
import { recordCount } from "../_counts.ts";
import { describeBlock, runBlock } from "./batch.ts";
import { runSeed } from "./run.ts";

function sized(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a count, not ${raw}`);
  return n;
}

const SEEDS = sized("SYFT_SIM_SEEDS", 10);
const OPS = sized("SYFT_SIM_OPS", 1000);
const FIRST = sized("SYFT_SIM_FIRST", 1);
const WORKERS = Math.max(1, sized("SYFT_SIM_WORKERS", 1));

Deno.test(`${SEEDS} simulation seeds of ${OPS} operations keep every invariant`, async () => {
  const report = await runBlock({ first: FIRST, seeds: SEEDS, ops: OPS, workers: WORKERS });
  const lines = describeBlock(report);
  if (Deno.env.get("SYFT_TEST_VERBOSE")) console.log(lines.map((l) => `  ${l}`).join("\n"));
  await recordCount("sim seeds", report.ran);
  assert(report.failures.length === 0, lines.join("\n"));
});

Deno.test("a seed replays the same: the same operations, rounds, objects and final trees", async () => {
  const run = async () => {
    const r = await runSeed({ seed: 42, ops: 200 });
    return { ...r, ops: r.ops.length };
  };
  const first = await run();
  assert(first.rounds > 50, `only ${first.rounds} rounds`);
  assertEquals(await run(), first);
});

Deno.test("a block reports the same seeds in the same order, one at a time, interleaved or in workers", async () => {
  const block = async (interleave: number, workers: number) => {
    const seen: string[] = [];
    const report = await runBlock(
      { first: 500, seeds: 2, ops: 20, interleave, workers },
      (r) => seen.push(`${r.seed} ${r.digest} ${r.rounds} ${r.objects} ${r.failure?.invariant}`),
    );
    return { seen, ran: report.ran, rounds: report.rounds, failures: report.failures.length };
  };
  const alone = await block(1, 1);
  assertEquals(alone.seen.map((line) => Number(line.split(" ")[0])), [500, 501]);
  assertEquals(await block(2, 1), alone);
  assertEquals(await block(2, 2), alone);
});
