/**
 * The fuzz loop: case `i` of a run from seed `S` uses seed `S + i`, which alone
 * picks its target, its valid input and its mutation, so a failing case replays
 * with `deno task fuzz --seed <its seed> --cases 1`.
 * @module
 */
import process from "node:process";
import { SyftError } from "../../core/errors/mod.ts";
import { Rand } from "./mutate.ts";
import { Finding, makeTargets, Refused, type Target } from "./targets.ts";

/** What one run should do. */
export interface FuzzOptions {
  readonly cases: number;
  readonly seed: number;
  /** The targets to run; default {@linkcode makeTargets}'s (tests pass fakes). */
  readonly targets?: readonly Target[] | undefined;
  /** Only these targets (by name); all when absent. */
  readonly only?: readonly string[] | undefined;
  /**
   * Largest growth of this isolate's memory (V8 heap + external buffers)
   * tolerated after the warm-up, in bytes; default 384 MiB. Not RSS: under
   * `deno test --parallel` other test files share the process.
   */
  readonly maxMemoryGrowth?: number | undefined;
  /** A case taking longer than this is a hang. */
  readonly caseTimeoutMs?: number | undefined;
}

/** One broken property, with what replays it. */
export interface Failure {
  readonly seed: number;
  readonly target: string;
  readonly problem: string;
}

/** Per target: how many cases ran, how many the parser accepted, and the time they took. */
export interface TargetCount {
  cases: number;
  accepted: number;
  seconds: number;
}

/** The outcome of a run. */
export interface FuzzReport {
  readonly cases: number;
  readonly seconds: number;
  readonly perTarget: Record<string, TargetCount>;
  readonly failures: Failure[];
  /** Peak growth of this isolate's heap + external memory after the warm-up. */
  readonly memoryGrowth: number;
  /** Peak growth of the whole process's RSS after the warm-up (shared when tests run in parallel). */
  readonly rssGrowth: number;
}

/** The target a case seed selects. */
export function targetFor(seed: number, targets: readonly Target[]): Target {
  return targets[seed % targets.length]!;
}

/** Run `options.cases` cases; never throws for a finding, reports it. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const all = options.targets ?? await makeTargets();
  const targets = options.only ? all.filter((t) => options.only!.includes(t.name)) : all;
  if (targets.length === 0) throw new Error(`no target named ${options.only?.join(", ")}`);
  const perTarget: Record<string, TargetCount> = {};
  for (const t of targets) perTarget[t.name] = { cases: 0, accepted: 0, seconds: 0 };
  const failures: Failure[] = [];
  // The yaml package warns on stderr about hostile YAML (unresolved tags, odd
  // keys); a million cases would bury the report under them.
  const warn = process.emitWarning;
  process.emitWarning = () => {};
  // The yaml package reads `process.env.LOG_TOKENS` once per token: in Deno
  // each read is a call into the runtime (5 % of a run's CPU). A plain copy
  // reads the same, for the length of the run (this isolate's alone).
  const env = process.env;
  process.env = { ...env };
  try {
    return await loop(options, targets, perTarget, failures);
  } finally {
    process.emitWarning = warn;
    process.env = env;
  }
}

async function loop(
  options: FuzzOptions,
  targets: readonly Target[],
  perTarget: Record<string, TargetCount>,
  failures: Failure[],
): Promise<FuzzReport> {
  // Parsing hostile inputs allocates big strings and arrays, so the heap grows
  // to a plateau early on; the baseline is taken after that, so what the cap
  // catches is growth that keeps going (something kept alive per case).
  const maxGrowth = options.maxMemoryGrowth ?? 384 * 1024 * 1024;
  const started = performance.now();
  let baseline = sample();
  let peak = baseline;
  const warmup = Math.min(1000, Math.floor(options.cases / 5));
  for (let i = 0; i < options.cases; i++) {
    if (i === warmup) peak = baseline = sample();
    const seed = (options.seed + i) >>> 0;
    const target = targetFor(seed, targets);
    const count = perTarget[target.name]!;
    count.cases++;
    const caseStarted = performance.now();
    const problem = await runCase(target, seed, options.caseTimeoutMs ?? 10_000);
    count.seconds += (performance.now() - caseStarted) / 1000;
    if (problem === "accepted") count.accepted++;
    else if (problem !== null) failures.push({ seed, target: target.name, problem });
    if (i % 256 === 0) peak = maxSample(peak, sample());
  }
  peak = maxSample(peak, sample());
  const memoryGrowth = peak.isolate - baseline.isolate;
  const rssGrowth = peak.rss - baseline.rss;
  if (memoryGrowth > maxGrowth) {
    failures.push({
      seed: options.seed,
      target: "memory",
      problem: `memory grew by ${mib(memoryGrowth)} MiB over the run, more than ${
        mib(maxGrowth)
      } MiB`,
    });
  }
  return {
    cases: options.cases,
    seconds: (performance.now() - started) / 1000,
    perTarget,
    failures,
    memoryGrowth,
    rssGrowth,
  };
}

interface MemorySample {
  isolate: number;
  rss: number;
}

function sample(): MemorySample {
  const m = Deno.memoryUsage();
  return { isolate: m.heapTotal + m.external, rss: m.rss };
}

function maxSample(a: MemorySample, b: MemorySample): MemorySample {
  return { isolate: Math.max(a.isolate, b.isolate), rss: Math.max(a.rss, b.rss) };
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** null: refused with the parser's own error; "accepted"; else the broken property. */
async function runCase(target: Target, seed: number, timeoutMs: number): Promise<string | null> {
  const r = new Rand(seed);
  const original = r.pick(target.valid);
  let input: Uint8Array;
  try {
    input = await target.mutate(original, r);
  } catch (err) {
    return `the fuzzer's own mutator threw ${String(err).slice(0, 300)}`;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Finding(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([target.check(input, original), hang]);
    return "accepted";
  } catch (err) {
    if (err instanceof Finding) return err.message;
    if (err instanceof SyftError || err instanceof Refused) return null;
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return `crashed with ${what.split("\n")[0]!.slice(0, 300)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Lines for humans: counts per target, throughput, and each failure with its replay. */
export function describe(report: FuzzReport): string[] {
  const lines = Object.entries(report.perTarget).map(([name, c]) =>
    `  ${name.padEnd(16)} ${String(c.cases).padStart(9)} cases ${
      String(c.accepted).padStart(7)
    } accepted ${(c.cases / Math.max(c.seconds, 1e-9)).toFixed(0).padStart(7)} cases/s`
  );
  const rate = report.cases / Math.max(report.seconds, 1e-9);
  lines.push(
    `fuzz: ${report.cases} cases in ${report.seconds.toFixed(1)} s (${
      rate.toFixed(0)
    } cases/s), memory growth ${mib(report.memoryGrowth)} MiB (RSS ${
      mib(report.rssGrowth)
    } MiB), ${report.failures.length} failures`,
  );
  for (const f of report.failures) {
    lines.push(
      `FAIL seed ${f.seed} target ${f.target}: ${f.problem}\n  replay: deno task fuzz --seed ${f.seed} --cases 1`,
    );
  }
  return lines;
}
