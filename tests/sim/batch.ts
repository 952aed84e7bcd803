/**
 * A block of seeds: each run, each failure shrunk, and what to print — the
 * seeds run, the failures with their reproducer command, the seeds per second
 * and the known bugs met (shared by `deno task sim` and sim_test.ts).
 * @module
 */
import { DEFAULT_RATES, type FaultRates } from "./faults.ts";
import { describeOp } from "./ops.ts";
import { runSeed, type SeedOptions, type SeedResult } from "./run.ts";
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
  /**
   * Seeds in flight at once in one isolate (default {@linkcode DEFAULT_INTERLEAVE}):
   * while one waits on WebCrypto's thread pool, another runs. A seed's run
   * depends on nothing but its seed, so this changes no result.
   */
  interleave?: number;
  /** Workers the seeds are spread over (default 1: this isolate alone). */
  workers?: number;
  /** Each seed starts from the set-up shared by its size (see run.ts `sharedSetup`). */
  sharedSetup?: boolean | undefined;
}

/** Seeds one isolate runs at once unless told (measured: see the report of issue 16). */
export const DEFAULT_INTERLEAVE = 4;

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

/**
 * Run a block of seeds; `onSeed` hears of each as it ends, in seed order
 * (whatever order they finish in), and the report lists failures in seed
 * order too: nothing printed depends on the interleaving or the workers.
 */
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
  const base = (seed: number): SeedOptions => ({
    seed,
    ops: options.ops,
    sites: options.sites,
    rates,
    only: options.only,
    sharedSetup: options.sharedSetup,
  });
  const done = new Map<number, SeedResult>();
  let next = options.first;
  const take = (r: SeedResult) => {
    done.set(r.seed, r);
    // Reported in seed order: each result waits for the seeds before it.
    for (let r = done.get(next); r !== undefined; r = done.get(next)) {
      done.delete(next++);
      report.ran++;
      report.rounds += r.rounds;
      report.objects += r.objects;
      for (const [name, n] of Object.entries(r.known)) {
        report.known[name] = (report.known[name] ?? 0) + n;
      }
      onSeed?.(r);
      if (r.failure) report.failures.push({ original: r, shrunk: r, command: "" });
    }
  };
  const seeds = Array.from({ length: options.seeds }, (_, i) => options.first + i);
  const lanes = Math.max(1, options.interleave ?? DEFAULT_INTERLEAVE);
  const workers = Math.min(Math.max(1, options.workers ?? 1), seeds.length);
  if (workers > 1) await inWorkers(seeds, workers, lanes, base, take);
  else await interleaved(seeds, lanes, (seed) => runSeed(base(seed)), take);
  // Shrinking replays one failing seed many times: after the block, one at a time, in order.
  for (const f of report.failures) {
    if (options.shrink !== false) {
      f.shrunk = (await shrink(base(f.original.seed), f.original)).result;
    }
    f.command = reproducer(options, rates, f.shrunk);
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** Run `seeds` with `lanes` of them in flight at once, each result handed to `take`. */
export async function interleaved(
  seeds: readonly number[],
  lanes: number,
  run: (seed: number) => Promise<SeedResult>,
  take: (r: SeedResult) => void,
): Promise<void> {
  let i = 0;
  const lane = async () => {
    while (i < seeds.length) take(await run(seeds[i++]!));
  };
  await Promise.all(Array.from({ length: Math.min(lanes, seeds.length) }, lane));
}

/**
 * Spread `seeds` over `count` Workers (worker.ts), each kept `lanes` seeds
 * busy: a Worker asks for the next seed as one ends, so a slow seed holds
 * up nothing. The others start once the first has loaded its module: under
 * `deno test` each Worker type-checks its module graph unless deno's cache
 * holds that check (~4.5 s of one core), and Workers started together all
 * check it.
 */
async function inWorkers(
  seeds: readonly number[],
  count: number,
  lanes: number,
  base: (seed: number) => SeedOptions,
  take: (r: SeedResult) => void,
): Promise<void> {
  let i = 0;
  const url = new URL("./worker.ts", import.meta.url);
  const all: Worker[] = [];
  const run = (onReady: () => void) =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(url, { type: "module" });
      all.push(worker);
      let busy = 0;
      const feed = () => {
        while (busy < lanes && i < seeds.length) {
          busy++;
          worker.postMessage(base(seeds[i++]!) satisfies SeedOptions);
        }
        if (busy === 0) resolve();
      };
      worker.onmessage = (e: MessageEvent<WorkerReply>) => {
        if ("ready" in e.data) {
          onReady();
          feed();
          return;
        }
        if ("error" in e.data) {
          reject(new Error(`seed ${e.data.seed} threw in a worker: ${e.data.error}`));
          return;
        }
        busy--;
        take(e.data.result);
        feed();
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`a simulation worker died: ${e.message}`));
      };
    });
  try {
    let loaded!: () => void;
    const ready = new Promise<void>((resolve) => loaded = resolve);
    const first = run(loaded);
    await Promise.race([ready, first]);
    const rest = Array.from({ length: count - 1 }, () => run(() => {}));
    await Promise.all([first, ...rest]);
  } finally {
    for (const worker of all) worker.terminate();
  }
}

/** What worker.ts answers for one seed. */
export type WorkerReply =
  | { ready: true }
  | { result: SeedResult }
  | { seed: number; error: string };

function reproducer(options: BlockOptions, rates: FaultRates, r: SeedResult): string {
  const parts = [`deno task sim --seed ${r.seed} --seeds 1 --ops ${options.ops}`];
  if (options.sites !== undefined) parts.push(`--sites ${options.sites}`);
  if (options.sharedSetup) parts.push("--shared-setup");
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
