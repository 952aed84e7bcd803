import { KNOWN_BUGS, runSeed } from "./run.ts";
import { shrink } from "./shrink.ts";
const [from, to, ops] = Deno.args.map(Number);
const found = new Map<string, number>();
for (let seed = from!; seed < to!; seed++) {
  const r = await runSeed({ seed, ops: ops! });
  console.log(
    seed,
    JSON.stringify(r.known),
    r.failure ? JSON.stringify(r.failure).slice(0, 200) : "",
  );
  for (const bug of Object.keys(r.known)) if (!found.has(bug)) found.set(bug, seed);
}
console.log(JSON.stringify([...found]));
for (const [bug, seed] of found) {
  const allow = KNOWN_BUGS.filter((b) => b !== bug);
  const r = await runSeed({ seed, ops: ops!, allow });
  if (!r.failure) {
    console.log(bug, seed, "does not fail alone");
    continue;
  }
  const s = await shrink({ seed, ops: ops!, allow }, r, 200);
  console.log(
    "BUG",
    bug,
    "seed",
    seed,
    JSON.stringify(s.result.failure).slice(0, 300),
    "--only",
    s.result.ops.map((o) => o.id).join(","),
  );
}
