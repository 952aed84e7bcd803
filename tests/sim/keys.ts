/**
 * Identity keys for the simulation, generated once per process and reused by
 * every seed: generating them is slow and is not what a seed tests (keys
 * never depend on the seed; everything else does).
 * @module
 */
import { generateIdentityKeys, type IdentityKeys } from "../../core/identity/keys.ts";

const pool: Promise<IdentityKeys>[] = [];

/** The keys of the `n`th site of every seed. */
export function poolKeys(n: number): Promise<IdentityKeys> {
  while (pool.length <= n) pool.push(generateIdentityKeys());
  return pool[n]!;
}
