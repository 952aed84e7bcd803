/**
 * `deno task sim --seeds N [--seed S] [--ops K] [--sites M]`: the deterministic
 * simulation of tests/sim/ (issue 16, item 1). Runs seeds S, S+1, ...; prints
 * how many ran, the failures (each with its shrunk operation list and the
 * command that replays it) and the seeds per second; exits 1 on any failure.
 * `--only 3,17,45` replays only those operations (a shrunk reproducer);
 * `--transport`, `--listing`, `--crash` (rates) and `--skew-min` set the faults;
 * `--trace` prints every operation and round of a single seed; `--no-shrink`
 * reports failures unshrunk (faster). `--shared-setup` starts every seed from
 * one set-up per number of sites, built once per Worker (peering and first
 * syncs without clock skew; the skew applies from the first operation on):
 * ~30 % faster at 100 operations, other results. `--workers N` spreads the seeds over N
 * Workers (default: the machine's cores) and `--interleave K` runs K seeds at
 * once in each (default 4); neither changes a result or the order of the report.
 * @module
 */
import { DEFAULT_RATES, type FaultRates } from "../tests/sim/faults.ts";
import { DEFAULT_INTERLEAVE, describeBlock, runBlock } from "../tests/sim/batch.ts";
import { runSeed } from "../tests/sim/run.ts";

const USAGE = "deno task sim --seeds 100 --seed 1 --ops 1000";

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  console.error(`hint: ${USAGE}`);
  Deno.exit(2);
}

function count(raw: string | undefined, name: string, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    fail(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function rate(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    fail(`${name} must be a rate between 0 and 1, got ${JSON.stringify(raw)}`);
  }
  return n;
}

if (import.meta.main) {
  const args = Deno.args;
  const seeds = count(flag(args, "--seeds"), "--seeds", 10);
  const first = count(flag(args, "--seed"), "--seed", Date.now() % 1_000_000_000);
  const ops = count(flag(args, "--ops"), "--ops", 1000);
  const sitesRaw = flag(args, "--sites");
  const sites = sitesRaw === undefined ? undefined : count(sitesRaw, "--sites", 3, 2);
  const onlyRaw = flag(args, "--only");
  const only = onlyRaw === undefined ? undefined : new Set(
    onlyRaw.split(",").filter((s) => s !== "").map((s) => count(s, "--only", 0)),
  );
  const skew = flag(args, "--skew-min");
  const rates: FaultRates = {
    transport: rate(flag(args, "--transport"), "--transport", DEFAULT_RATES.transport),
    listing: rate(flag(args, "--listing"), "--listing", DEFAULT_RATES.listing),
    crash: rate(flag(args, "--crash"), "--crash", DEFAULT_RATES.crash),
    skewMs: skew === undefined ? DEFAULT_RATES.skewMs : count(skew, "--skew-min", 10) * 60_000,
  };
  const sharedSetup = args.includes("--shared-setup");
  if (args.includes("--trace")) {
    const trace = (l: string) => console.log(l);
    const r = await runSeed({ seed: first, ops, sites, rates, only, sharedSetup, trace });
    console.log(r.failure ? `FAILED: invariant ${r.failure.invariant}: ${r.failure.detail}` : "ok");
    Deno.exit(r.failure ? 1 : 0);
  }
  const cores = navigator.hardwareConcurrency || 1;
  const workers = count(flag(args, "--workers"), "--workers", cores, 1);
  const interleave = count(flag(args, "--interleave"), "--interleave", DEFAULT_INTERLEAVE, 1);
  console.log(
    `sim: seeds ${first}..${
      first + seeds - 1
    }, ${ops} operations each (${workers} workers × ${interleave} at once)`,
  );
  const shrinking = !args.includes("--no-shrink");
  const report = await runBlock({
    first,
    seeds,
    ops,
    sites,
    rates,
    only,
    shrink: shrinking,
    sharedSetup,
    workers,
    interleave,
  });
  for (const line of describeBlock(report)) console.log(line);
  Deno.exit(report.failures.length === 0 ? 0 : 1);
}
