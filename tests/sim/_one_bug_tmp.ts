import { KNOWN_BUGS, runSeed } from "./run.ts";
import { shrink } from "./shrink.ts";
const [bug, seed, ops] = [Deno.args[0]!, Number(Deno.args[1]), Number(Deno.args[2])];
const allow = KNOWN_BUGS.filter((b) => b !== bug);
const r = await runSeed({ seed, ops, allow });
console.log(JSON.stringify(r.failure));
if (r.failure) {
  const s = await shrink({ seed, ops, allow }, r, 200);
  console.log(
    "BUG",
    bug,
    seed,
    JSON.stringify(s.result.failure),
    "--only",
    s.result.ops.map((o) => o.id).join(","),
  );
}
