import { runSeed } from "./run.ts";
const n = Number(Deno.args[0] ?? 1),
  ops = Number(Deno.args[1] ?? 200),
  first = Number(Deno.args[2] ?? 1);
const trace = Deno.env.get("TRACE") ? (l: string) => console.log(l) : undefined;
const t0 = performance.now();
for (let s = first; s < first + n; s++) {
  const r = await runSeed({ seed: s, ops, trace });
  console.log(
    s,
    r.emails.length,
    r.rounds,
    r.objects,
    r.failure ? JSON.stringify(r.failure).slice(0, 600) : "ok",
  );
}
console.log(((performance.now() - t0) / n).toFixed(0), "ms/seed");
