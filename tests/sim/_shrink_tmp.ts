import { runSeed } from "./run.ts";
import { shrink } from "./shrink.ts";
import { describeOp } from "./ops.ts";
const seed = Number(Deno.args[0]), ops = Number(Deno.args[1] ?? 200);
const r = await runSeed({ seed, ops });
console.log(JSON.stringify(r.failure));
if (r.failure) {
  const s = await shrink({ seed, ops }, r);
  console.log("tries", s.tries, JSON.stringify(s.result.failure));
  const only = new Set(s.result.ops.map((o) => o.id));
  console.log("--only", [...only].join(","));
  await runSeed({ seed, ops, only, trace: (l) => console.log(l) });
}
