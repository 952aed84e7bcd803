/**
 * `deno task fuzz --cases N [--seed S] [--target NAME]`: the mutation fuzzer of
 * tests/fuzz/ over every parser the engine feeds peer bytes to. Prints the
 * cases per target and cases/second; exits 1 when any property broke.
 * @module
 */
import { describe, runFuzz } from "../tests/fuzz/run.ts";

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function count(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`error: ${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    console.error("hint: deno task fuzz --cases 10000 --seed 1");
    Deno.exit(2);
  }
  return n;
}

if (import.meta.main) {
  const args = Deno.args;
  const cases = count(flag(args, "--cases"), "--cases", 10_000);
  const seed = count(flag(args, "--seed"), "--seed", Date.now() % 1_000_000_000);
  const target = flag(args, "--target");
  console.log(`fuzz: seed ${seed}, ${cases} cases${target ? `, target ${target}` : ""}`);
  const report = await runFuzz({ cases, seed, only: target ? [target] : undefined });
  for (const line of describe(report)) console.log(line);
  Deno.exit(report.failures.length === 0 ? 0 : 1);
}
