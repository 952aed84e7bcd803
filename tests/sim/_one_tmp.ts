import { runSeed } from "./run.ts";
const [seed, ops, only] = Deno.args;
const r = await runSeed({
  seed: Number(seed),
  ops: Number(ops),
  only: only ? new Set(only.split(",").map(Number)) : undefined,
  trace: (l) => console.log(l),
});
console.log(JSON.stringify(r.failure));
