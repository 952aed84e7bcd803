/**
 * A block of seeds: each run, each failure shrunk, and what to print — the
 * seeds run, the failures with their reproducer command, the seeds per second
 * and the known bugs met (shared by `deno task sim` and sim_test.ts).
 * @module
 */
import { DEFAULT_RATES, type FaultRates } from "./faults.ts";
import { describeOp } from "./ops.ts";
import { runSeed, type SeedResult } from "./run.ts";
import { shrink } from "./shrink.ts";

/** What a block runs. */
export interface BlockOptions {
  /** The first seed; the block runs first, first + 1, ... */
  first: number;
  seeds: number;
  ops: number;
  sites?: number | undefined;
  rates?: FaultRates;
  /** Only these operation ids (a reproducer). */
  only?: ReadonlySet<number> | undefined;
  /** Shrink failures (default true); each shrink replays its seed up to a few hundred times. */
  shrink?: boolean;
}

/** One failing seed, shrunk. */
export interface BlockFailure {
  original: SeedResult;
  shrunk: SeedResult;
  /** `deno task sim ...` that replays the shrunk run. */
  command: string;
}

/** What a block did. */
export interface BlockReport {
  ran: number;
  failures: BlockFailure[];
  seconds: number;
  /** Known bugs met, by name, summed over the seeds. */
  known: Record<string, number>;
  rounds: number;
  objects: number;
}

/** Run a block of seeds; `onSeed` hears of each as it ends. */
export async function runBlock(
  options: BlockOptions,
  onSeed?: (r: SeedResult) => void,
): Promise<BlockReport> {
  const rates = options.rates ?? DEFAULT_RATES;
  const started = performance.now();
  const report: BlockReport = {
    ran: 0,
    failures: [],
    seconds: 0,
    known: {},
    rounds: 0,
    objects: 0,
  };
  for (let seed = options.first; seed < options.first + options.seeds; seed++) {
    const base = { seed, ops: options.ops, sites: options.sites, rates, only: options.only };
    const r = await runSeed(base);
    report.ran++;
    report.rounds += r.rounds;
    report.objects += r.objects;
    for (const [name, n] of Object.entries(r.known)) {
      report.known[name] = (report.known[name] ?? 0) + n;
    }
    onSeed?.(r);
    if (!r.failure) continue;
    const shrunk = options.shrink === false ? r : (await shrink(base, r)).result;
    report.failures.push({ original: r, shrunk, command: reproducer(options, rates, shrunk) });
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

function reproducer(options: BlockOptions, rates: FaultRates, r: SeedResult): string {
  const parts = [`deno task sim --seed ${r.seed} --seeds 1 --ops ${options.ops}`];
  if (options.sites !== undefined) parts.push(`--sites ${options.sites}`);
  if (rates.transport !== DEFAULT_RATES.transport) parts.push(`--transport ${rates.transport}`);
  if (rates.listing !== DEFAULT_RATES.listing) parts.push(`--listing ${rates.listing}`);
  if (rates.crash !== DEFAULT_RATES.crash) parts.push(`--crash ${rates.crash}`);
  if (rates.skewMs !== DEFAULT_RATES.skewMs) parts.push(`--skew-min ${rates.skewMs / 60_000}`);
  if (r.ops.length < options.ops) parts.push(`--only ${r.ops.map((op) => op.id).join(",")}`);
  return parts.join(" ");
}

/** The lines a block prints: counts, throughput, known bugs, and each failure shrunk. */
export function describeBlock(report: BlockReport): string[] {
  const rate = report.ran / Math.max(report.seconds, 1e-9);
  const lines = [
    `sim: ${report.ran} seeds ran, ${report.failures.length} failed, ${rate.toFixed(2)} seeds/s (${
      report.seconds.toFixed(1)
    } s, ${report.rounds} rounds, ${report.objects} objects opened)`,
  ];
  const known = Object.entries(report.known);
  if (known.length > 0) {
    lines.push(
      `known bugs let pass (tests/sim/run.ts KNOWN_BUGS): ${
        known.map(([name, n]) => `${name} ×${n}`).join(", ")
      }`,
    );
  }
  for (const f of report.failures) {
    const { invariant, detail } = f.shrunk.failure ?? f.original.failure!;
    lines.push(`FAILED seed ${f.original.seed}: invariant ${invariant}: ${detail}`);
    if (f.shrunk === f.original) {
      lines.push(`  not shrunk (run it again without --no-shrink to shrink it)`);
    } else {
      lines.push(
        `  shrunk from ${f.original.ops.length} to ${f.shrunk.ops.length} operations:`,
        ...f.shrunk.ops.map((op) => `    ${describeOp(op, f.shrunk.emails)}`),
      );
    }
    lines.push(`  reproduce: ${f.command}`);
  }
  return lines;
}
