/**
 * `deno task demo`: the flow so far, with real commands, in a temporary folder.
 * Two identities share one `local:` transport folder: a data scientist asks to
 * peer, the data owner approves after comparing fingerprints, the owner's
 * public files reach the scientist's mirror (private ones never do), the
 * scientist drops a job folder into the owner's inbox and it arrives, and a
 * write into the owner's private/ is refused. Jobs that run arrive with a
 * later version; this demo stops at delivery.
 * @module
 */
import { posix } from "node:path";
import { runSyft } from "./syft_process.ts";

const base = await Deno.makeTempDir({ prefix: "syft-demo-" });
const shared = posix.join(base, "shared");
await Deno.mkdir(shared);

interface Person {
  name: string;
  email: string;
  home: string;
  root: string;
}
const person = (name: string, email: string): Person => ({
  name,
  email,
  home: posix.join(base, name, ".syft"),
  root: posix.join(base, name, "SyftBox"),
});
const owner = person("owner", "owner@hospital.example");
const scientist = person("scientist", "scientist@lab.example");

async function step(who: Person, args: string[], note = ""): Promise<string> {
  console.log(`\n$ syft ${args.join(" ")}   # ${who.name}${note ? `: ${note}` : ""}`);
  const r = await runSyft(["--home", who.home, ...args], {
    env: { HOME: posix.join(base, who.name) },
  });
  const text = (r.stdout + r.stderr).trimEnd();
  if (text) console.log(text.split("\n").map((l) => `  ${l}`).join("\n"));
  if (r.code !== 0) {
    console.log(`\nThe demo stopped: the command above exited with ${r.code}.`);
    Deno.exit(1);
  }
  return r.stdout;
}

async function write(path: string, text: string, note: string): Promise<void> {
  await Deno.mkdir(posix.dirname(path), { recursive: true });
  await Deno.writeTextFile(path, text);
  console.log(`\n# ${note}\n  wrote ${path.slice(base.length + 1)}`);
}

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(posix.join(d, e.name), r);
      else out.push(r);
    }
  };
  await walk(dir, "").catch(() => {});
  return out.sort();
}

console.log(`syft demo in ${base} (shared transport folder: ${shared})`);
for (const p of [owner, scientist]) {
  await step(p, ["init", "--email", p.email, "--root", p.root, "--transport", `local:${shared}`]);
}

await step(scientist, ["peer", "add", owner.email], "ask to peer");
const fp = JSON.parse(
  await step(scientist, ["status", "--json"], "the fingerprint to give the owner out of band"),
).fingerprint;
await step(owner, ["peer", "list"], "the request shows up");
await step(
  owner,
  ["peer", "approve", scientist.email, "--fingerprint", fp],
  "approve after comparing",
);

const ownerSite = posix.join(owner.root, owner.email);
await write(
  posix.join(ownerSite, "public/ages/mock.csv"),
  "age\n31\n47\n",
  "the owner publishes a mock",
);
await write(
  posix.join(ownerSite, "private/ages/real.csv"),
  "age\n29\n52\n61\n",
  "the real data stays private",
);
await step(owner, ["sync"]);
await step(scientist, ["sync"]);
const mirror = posix.join(scientist.root, owner.email);
console.log(
  `\n# the scientist's mirror of the owner:\n${
    (await tree(mirror)).map((f) => `  ${f}`).join("\n")
  }`,
);

const inbox = posix.join(mirror, `app_data/job/inbox/${scientist.email}/mean-age`);
await write(
  posix.join(inbox, "run.sh"),
  "#!/bin/sh\necho mean age\n",
  "the scientist writes a job into the owner's inbox",
);
await write(
  posix.join(mirror, "private/peek.txt"),
  "let me in",
  "and tries to write into the owner's private/",
);
await step(scientist, ["sync"], "proposes the job; the private/ write is refused locally");
await step(owner, ["sync"], "applies what the permission files allow");
await step(scientist, ["sync"]);
const arrived = await tree(posix.join(ownerSite, `app_data/job/inbox/${scientist.email}`));
console.log(`\n# the owner's inbox for the scientist:\n${arrived.map((f) => `  ${f}`).join("\n")}`);

for (const p of [owner, scientist]) {
  await step(p, ["status"]);
  await step(p, ["doctor"]);
}
console.log(`\nDone. Everything the demo made is under ${base} (remove it when done).`);
