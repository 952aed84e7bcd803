/**
 * Shrinking a failing seed's operations by delta debugging: drop chunks of
 * operations (halves, then quarters, ... then single ones) as long as the
 * same invariant still fails, so a reproducer names only what matters.
 * @module
 */
import { runSeed, type SeedOptions, type SeedResult } from "./run.ts";

/** What shrinking found: the smallest failing run it reached, and the runs it tried. */
export interface Shrunk {
  result: SeedResult;
  tries: number;
}

/**
 * The smallest list of `failed`'s operations that still breaks the same
 * invariant, within `maxTries` runs (each run replays the seed with a subset).
 */
export async function shrink(
  options: SeedOptions,
  failed: SeedResult,
  maxTries = 300,
): Promise<Shrunk> {
  const invariant = failed.failure!.invariant;
  let best = failed;
  let ids = failed.ops.map((op) => op.id);
  let tries = 0;
  let chunk = Math.max(1, Math.floor(ids.length / 2));
  while (tries < maxTries) {
    let dropped = false;
    for (let start = 0; start < ids.length && tries < maxTries; start += chunk) {
      const candidate = [...ids.slice(0, start), ...ids.slice(start + chunk)];
      tries++;
      const r = await runSeed({ ...options, only: new Set(candidate), trace: undefined });
      if (r.failure?.invariant === invariant) {
        ids = candidate;
        best = r;
        dropped = true;
        start -= chunk; // the next chunk now starts here
      }
    }
    if (chunk === 1 && !dropped) break;
    if (!dropped) chunk = Math.max(1, Math.floor(chunk / 2));
  }
  return { result: best, tries };
}
