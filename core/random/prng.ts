/**
 * A small seeded PRNG for reproducible workloads (benchmarks, property and
 * crash tests): the same seed replays the same run. Not for anything secret:
 * keys, salts and ids come from `crypto`.
 * @module
 */

/**
 * mulberry32: returns a function giving floats in [0, 1).
 *
 * @example
 * ```ts
 * const next = prng(42);
 * next(); // the same value for seed 42, every run
 * ```
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
