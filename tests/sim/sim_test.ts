/**
 * The deterministic simulation in CI (issue 16, item 1): two fixed blocks of
 * seeds, each operation list drawn with faults, must keep every invariant. A
 * long block (`SYFT_SIM_SEEDS` seeds of `SYFT_SIM_OPS` operations from
 * `SYFT_SIM_FIRST`) reaches what only a long history shows (compactions,
 * checkpoints, garbage collection, a wipe after many rounds); a short block
 * (`SYFT_SIM_SHORT_SEEDS` of `SYFT_SIM_SHORT_OPS` from `SYFT_SIM_SHORT_FIRST`)
 * spends the same time on many more set-ups, first syncs, early crashes and
 * peer changes; it starts each seed from the set-up shared by its number of
 * sites (`--shared-setup`, a fifth less CPU at 100 operations; the long block
 * builds each seed's own, under clock skew). `SYFT_SIM_WORKERS` spreads each block over Workers (default
 * 1: the suite runs files side by side); 4 seeds run interleaved in each
 * isolate. A seed costs ~65 ms of one core for set-up and quiescence plus
 * ~1.8 ms an operation: ~0.27 s at 100 operations, ~1.8 s at 1,000. The
 * defaults, 6 × 1,000 and 30 × 100, cost ~19 s of one core, no more than
 * the 10 × 1,000 they replace (~20.6 s before this change made the checker
 * and the engine's state cheaper, same machine and hour); 2,000 seeds of 100
 * operations would cost ~9 min of one core, more than the suite has to spare
 * (the report of issue 16, item 5). A short seed catches a planted reader
 * bug ~2-3× as often per second as a long one; every engine bug found so
 * far needed a few hundred operations of history.
 * `deno task sim` runs more. A failure prints its seed, the shrunk operations
 * and the command that replays them.
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

const SEEDS = sized("SYFT_SIM_SEEDS", 6);
const OPS = sized("SYFT_SIM_OPS", 1000);
const FIRST = sized("SYFT_SIM_FIRST", 1);
const SHORT_SEEDS = sized("SYFT_SIM_SHORT_SEEDS", 30);
const SHORT_OPS = sized("SYFT_SIM_SHORT_OPS", 100);
/** Far from the long block's seeds: a seed is its own run whatever its length. */
const SHORT_FIRST = sized("SYFT_SIM_SHORT_FIRST", 1_000_001);
const WORKERS = Math.max(1, sized("SYFT_SIM_WORKERS", 1));

async function block(
  first: number,
  seeds: number,
  ops: number,
  sharedSetup = false,
): Promise<void> {
  const report = await runBlock({ first, seeds, ops, workers: WORKERS, sharedSetup });
  const lines = describeBlock(report);
  if (Deno.env.get("SYFT_TEST_VERBOSE")) console.log(lines.map((l) => `  ${l}`).join("\n"));
  await recordCount("sim seeds", report.ran);
  assert(report.failures.length === 0, lines.join("\n"));
}

Deno.test(`${SEEDS} simulation seeds of ${OPS} operations keep every invariant`, async () => {
  await block(FIRST, SEEDS, OPS);
});

Deno.test(`${SHORT_SEEDS} simulation seeds of ${SHORT_OPS} operations keep every invariant`, async () => {
  await block(SHORT_FIRST, SHORT_SEEDS, SHORT_OPS, true);
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
  const block = async (interleave: number, workers: number, sharedSetup = false) => {
    const seen: string[] = [];
    const report = await runBlock(
      { first: 500, seeds: 2, ops: 20, interleave, workers, sharedSetup },
      (r) => seen.push(`${r.seed} ${r.digest} ${r.rounds} ${r.objects} ${r.failure?.invariant}`),
    );
    return { seen, ran: report.ran, rounds: report.rounds, failures: report.failures.length };
  };
  const alone = await block(1, 1);
  assertEquals(alone.seen.map((line) => Number(line.split(" ")[0])), [500, 501]);
  assertEquals(await block(2, 1), alone);
  // Each Worker builds its own shared set-ups: the same results as this isolate's.
  const shared = await block(2, 1, true);
  assertEquals(await block(2, 2, true), shared);
  // The shared set-up differs from a seed's own only in its clock skew: the
  // same rounds, objects opened and outcome (the digests differ in times).
  const counts = (lines: string[]) => lines.map((l) => l.split(" ").toSpliced(1, 1).join(" "));
  assertEquals(counts(shared.seen), counts(alone.seen));
  assertEquals({ ...shared, seen: [] }, { ...alone, seen: [] });
});
