/**
 * `deno task demo`: the whole flow of docs/cli.md "Demo" with real commands, in a
 * temporary folder. Two hospitals (data owners) and one data scientist share
 * one `local:` transport folder. The scientist peers with both, finds their
 * `ages` datasets, writes a job against the mock, sends it to both; each
 * owner reviews it, runs it in the sandbox (or, where bubblewrap is missing,
 * with `--sandbox none` and a loud warning) and releases it; the scientist
 * reads both results back. The private rows never leave their owner.
 *
 * `deno task demo -- --transport gdrive` runs the same flow over Google Drive:
 * a fake Drive on 127.0.0.1 (the tests' fake, in its own process), each
 * identity signed in with `syft auth gdrive --no-browser` and initialised with
 * `--transport gdrive` (see demo_gdrive.ts). `--transport dropbox` does the
 * same over a fake Dropbox with `syft auth dropbox --no-browser` (see
 * demo_dropbox.ts).
 * @module
 */
import { posix } from "node:path";
import { probeBubblewrap } from "../core/sandbox/probe.ts";
import { runSyft } from "./syft_process.ts";
import { type DemoDrive, startDemoDrive } from "./demo_gdrive.ts";
import { type DemoDropbox, startDemoDropbox } from "./demo_dropbox.ts";

const transport = transportArg(Deno.args);
const base = await Deno.makeTempDir({ prefix: "syft-demo-" });
const shared = posix.join(base, "shared");
await Deno.mkdir(shared);

/** `--transport local|gdrive|dropbox` (default local); anything else stops with exit 2. */
function transportArg(given: string[]): "local" | "gdrive" | "dropbox" {
  // `deno task demo -- …` may hand the `--` on.
  const args = given[0] === "--" ? given.slice(1) : given;
  const usage = () => {
    console.error("error: the demo takes only --transport local|gdrive|dropbox");
    console.error("hint: deno task demo -- --transport gdrive (or dropbox)");
    Deno.exit(2);
  };
  if (args.length === 0) return "local";
  const value = args[0] === "--transport"
    ? args[1]
    : args[0]?.startsWith("--transport=")
    ? args[0].slice("--transport=".length)
    : undefined;
  const rest = args[0] === "--transport" ? args.slice(2) : args.slice(1);
  if ((value !== "local" && value !== "gdrive" && value !== "dropbox") || rest.length > 0) {
    return usage();
  }
  return value;
}

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
const owners = [
  person("north", "data@north-hospital.example"),
  person("south", "data@south-hospital.example"),
];
const scientist = person("scientist", "scientist@lab.example");

/** The fake Drive, over gdrive only. */
let drive: DemoDrive | null = null;
/** The fake Dropbox, over dropbox only. */
let dropbox: DemoDropbox | null = null;

/** The environment syft runs with as `who`: its own HOME, and the fake Drive's address. */
function envOf(who: Person): Record<string, string> {
  return {
    HOME: posix.join(base, who.name),
    ...(drive ? { SYFT_GDRIVE_API: drive.api } : {}),
    ...(dropbox ? { SYFT_DROPBOX_API: dropbox.api } : {}),
  };
}

async function step(
  who: Person,
  args: string[],
  note = "",
  stderrFirst = false,
): Promise<string> {
  console.log(`\n$ syft ${args.join(" ")}   # ${who.name}${note ? `: ${note}` : ""}`);
  const r = await runSyft(["--home", who.home, ...args], { env: envOf(who) });
  return await shown(r, stderrFirst);
}

/**
 * Print what a syft run said; stop the demo if it failed. `stderrFirst` for a
 * sign-in, whose instructions (stderr) come before its result (stdout).
 */
async function shown(
  r: { code: number; stdout: string; stderr: string },
  stderrFirst = false,
): Promise<string> {
  const text = (stderrFirst ? r.stderr + r.stdout : r.stdout + r.stderr).trimEnd();
  if (text) console.log(text.split("\n").map((l) => `  ${l}`).join("\n"));
  if (r.code !== 0) {
    console.log(`\nThe demo stopped: the command above exited with ${r.code}.`);
    await drive?.close();
    await dropbox?.close();
    Deno.exit(1);
  }
  return r.stdout;
}

async function write(path: string, text: string, note: string): Promise<void> {
  await Deno.mkdir(posix.dirname(path), { recursive: true });
  await Deno.writeTextFile(path, text);
  console.log(`\n# ${note}\n  wrote ${path.slice(base.length + 1)}`);
}

async function shell(script: string, env: Record<string, string>, note: string): Promise<void> {
  console.log(`\n$ bash ${script.slice(base.length + 1)}   # scientist: ${note}`);
  const r = await new Deno.Command("bash", {
    args: [script],
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  console.log(text.trimEnd().split("\n").map((l) => `  ${l}`).join("\n"));
}

console.log(
  transport === "local"
    ? `syft demo in ${base} (shared transport folder: ${shared})`
    : transport === "gdrive"
    ? `syft demo in ${base}, over Google Drive (a fake Drive on 127.0.0.1: no real account is used)`
    : `syft demo in ${base}, over Dropbox (a fake Dropbox on 127.0.0.1: no real account is used)`,
);
const probe = await probeBubblewrap();
const sandbox = probe.available ? "bwrap" : "none";
if (!probe.available) {
  console.log(
    `\n!!! WARNING: ${probe.reason}. This demo runs the jobs WITHOUT a sandbox ` +
      `(--sandbox none). Real owners must not: ${probe.hint}.`,
  );
}

if (transport === "gdrive") {
  await Deno.remove(shared);
  drive = await startDemoDrive([...owners, scientist].map((p) => p.email), base);
  console.log(
    `\n# the fake Drive listens on ${drive.api}; syft reaches it through SYFT_GDRIVE_API`,
  );
  for (const p of [...owners, scientist]) {
    const args = ["auth", "gdrive", "--no-browser", "--client-file", drive.clientFile];
    console.log(
      `\n$ syft ${[...args, "--email", p.email].join(" ")}   # ${p.name}: sign in to Drive ` +
        "(the demo opens the printed address; the fake approves at once)",
    );
    await shown(await drive.signIn(p.home, envOf(p), [...args, "--email", p.email]), true);
  }
}
if (transport === "dropbox") {
  await Deno.remove(shared);
  dropbox = await startDemoDropbox([...owners, scientist].map((p) => p.email));
  console.log(
    `\n# the fake Dropbox listens on ${dropbox.api}; syft reaches it through SYFT_DROPBOX_API`,
  );
  for (const p of [...owners, scientist]) {
    const args = [
      "auth",
      "dropbox",
      "--no-browser",
      "--app-key",
      dropbox.appKey,
      "--email",
      p.email,
    ];
    console.log(
      `\n$ syft ${args.join(" ")}   # ${p.name}: sign in to Dropbox ` +
        "(the demo opens the printed address; the fake approves at once)",
    );
    await shown(await dropbox.signIn(p.home, envOf(p), args, p.email), true);
  }
}
for (const p of [...owners, scientist]) {
  const spec = transport === "local" ? `local:${shared}` : transport;
  await step(p, ["init", "--email", p.email, "--root", p.root, "--transport", spec]);
}

// Each owner publishes a mock of its private ages table.
const realRows = { north: [34, 51, 67, 72, 45], south: [29, 38, 80] };
for (const o of owners) {
  const src = posix.join(base, o.name, "source");
  await write(
    posix.join(src, "mock", "ages.csv"),
    "age\n40\n50\n60\n",
    `${o.name}: a mock with fake rows`,
  );
  const rows = realRows[o.name as keyof typeof realRows];
  await write(
    posix.join(src, "private", "ages.csv"),
    `age\n${rows.join("\n")}\n`,
    `${o.name}: the real rows (never leave this machine)`,
  );
  await step(o, [
    "dataset",
    "create",
    "ages",
    "--mock",
    posix.join(src, "mock"),
    "--private",
    posix.join(src, "private"),
    "--summary",
    "patient ages",
  ]);
}

// Peering: the scientist asks, each owner approves after comparing fingerprints.
const fp = JSON.parse(await step(scientist, ["status", "--json"], "my fingerprint")).fingerprint;
for (const o of owners) {
  await step(scientist, ["peer", "add", o.email], "ask to peer");
  await step(o, ["peer", "list"], "the request shows up");
  await step(
    o,
    ["peer", "approve", scientist.email, "--fingerprint", fp],
    "approve after comparing",
  );
}
await step(scientist, ["sync"], "receive both owners' public files");
await step(scientist, ["dataset", "list"], "the datasets the scientist can use");

// A job written and tried against the mock.
const job = posix.join(base, "scientist", "mean-age");
await write(
  posix.join(job, "run.sh"),
  [
    "#!/usr/bin/env bash",
    "# Mean age of the rows in the ages dataset.",
    "set -euo pipefail",
    "awk -F, 'NR > 1 { s += $1; n++ } END { printf \"rows=%d mean=%.1f\\n\", n, s / n }' \\",
    '  "$SYFT_DATASET_AGES/ages.csv" | tee "$SYFT_OUTPUT_DIR/mean.txt"',
    "",
  ].join("\n"),
  "the scientist writes a job",
);
const mock = (await step(scientist, ["dataset", "path", "ages", "--owner", owners[0]!.email]))
  .trim();
await shell(posix.join(job, "run.sh"), {
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  SYFT_DATASET_AGES: mock,
  SYFT_OUTPUT_DIR: await Deno.makeTempDir({ dir: base }),
}, "try it on the mock first");

const sent = JSON.parse(
  await step(scientist, [
    "job",
    "submit",
    "--to",
    owners.map((o) => o.email).join(","),
    "--script",
    posix.join(job, "run.sh"),
    "--dataset",
    "ages",
    "--name",
    "mean-age",
    "--json",
  ], "send it to both owners"),
);
const id: string = sent.id;

for (const o of owners) {
  await step(o, ["sync"], "the job arrives as pending");
  await step(o, ["job", "show", id], "review run.sh and the grants");
  await step(o, ["job", "approve", id]);
  await step(o, ["job", "run", id, "--sandbox", sandbox], `run it (sandbox: ${sandbox})`);
  await step(o, ["job", "release", id], "send back the outputs and logs");
}

// Its progress (stderr) comes before the summary it ends with (stdout).
await step(scientist, ["job", "wait", id, "--timeout", "120"], "until both owners released", true);
await step(scientist, ["job", "list"]);
const out = posix.join(base, "scientist", "results");
await step(scientist, ["job", "results", id, "--out", out], "one folder per owner");
console.log("\n# the result, from each owner's real data:");
for (const o of owners) {
  const text = await Deno.readTextFile(posix.join(out, o.email, "outputs/mean.txt"));
  console.log(`  ${o.email}: ${text.trim()}`);
}
await drive?.close();
await dropbox?.close();
console.log(`\nDone. Everything is in ${base}.`);
