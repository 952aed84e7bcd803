import { runSeed } from "./run.ts";
import { shrink } from "./shrink.ts";
const r = await runSeed({ seed: 10, ops: 300, allow: [] });
console.log(JSON.stringify(r.failure));
const s = await shrink({ seed: 10, ops: 300, allow: [] }, r);
console.log(JSON.stringify(s.result.failure), "--only", s.result.ops.map((o) => o.id).join(","));
