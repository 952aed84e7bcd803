/**
 * `deno task demo`: the whole flow with real commands in a temporary folder.
 * Until sync exists: two identities on one shared `local:` transport, each
 * initialised, then `syft status` and `syft doctor` for each.
 * @module
 */
import { posix } from "node:path";
import { runSyft } from "./syft_process.ts";

const base = await Deno.makeTempDir({ prefix: "syft-demo-" });
const shared = posix.join(base, "shared");
await Deno.mkdir(shared);

const people = [
  { name: "owner", email: "owner@hospital.example" },
  { name: "scientist", email: "scientist@lab.example" },
];

let failed = false;
async function step(who: string, home: string, args: string[], allowFail = false): Promise<void> {
  console.log(`\n$ syft --home ${home} ${args.join(" ")}   # ${who}`);
  const r = await runSyft(["--home", home, ...args], { env: { HOME: base } });
  const text = (r.stdout + r.stderr).trimEnd();
  if (text) console.log(text.split("\n").map((l) => `  ${l}`).join("\n"));
  if (r.code !== 0 && !allowFail) {
    failed = true;
    console.log(`  (exit code ${r.code})`);
  }
}

console.log(`syft demo in ${base}`);
console.log(`shared transport folder: ${shared}`);
for (const p of people) {
  const home = posix.join(base, p.name, ".syft");
  const root = posix.join(base, p.name, "SyftBox");
  await step(p.name, home, [
    "init",
    "--email",
    p.email,
    "--root",
    root,
    "--transport",
    `local:${shared}`,
  ]);
}
for (const p of people) {
  const home = posix.join(base, p.name, ".syft");
  await step(p.name, home, ["status"]);
  await step(p.name, home, ["doctor"]);
}

if (failed) {
  console.log("\nThe demo hit an error (see above).");
  Deno.exit(1);
}
console.log(
  `\nDone: two identities share ${shared}. Peers, datasets and jobs arrive with later versions.`,
);
console.log(`Everything the demo made is under ${base} (remove it when done).`);
