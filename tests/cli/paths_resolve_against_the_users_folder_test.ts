/**
 * Under `deno task syft`, which runs main.ts in the clone, every relative path
 * argument means the folder the user typed the command in (INIT_CWD): the
 * dataset's sources, the job's script and the results folder.
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { userFolder } from "../../cli/user_folder.ts";
import { privateFolder } from "../../core/datasets/mod.ts";
import { childEnv, CONFIG, type SyftRun } from "../../scripts/syft_process.ts";
import { ALICE, CAROL, code, json, SANDBOX } from "../security/_jobs.ts";
import { filesUnder, peerUp, put, type Site, world } from "../e2e/_rig.ts";

const REPO = posix.dirname(CONFIG);

Deno.test("userFolder follows INIT_CWD only when deno task left us in the clone", () => {
  assertEquals(userFolder("/repo", "/home/u/work", "/repo"), "/home/u/work");
  assertEquals(userFolder("/repo/", "/home/u/work/", "/repo"), "/home/u/work");
  assertEquals(userFolder("/repo", undefined, "/repo"), null, "not under a task");
  assertEquals(userFolder("/repo", "/repo", "/repo"), null, "typed in the clone");
  assertEquals(userFolder("/tmp/x", "/home/u", "/repo"), null, "INIT_CWD of an outer npm run");
  assertEquals(userFolder("/repo", "relative", "/repo"), null);
});

/** `deno task --config <clone>/deno.json syft <args>` typed in `cwd`, as `site`. */
async function task(site: Site, cwd: string, args: string[]): Promise<SyftRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "--config", CONFIG, "syft", "--home", site.home, ...args],
    cwd,
    // As from a shell: not the INIT_CWD npx gave this test process (deno task keeps one it finds).
    clearEnv: true,
    env: { ...withoutInitCwd(), ...childEnv({ HOME: posix.dirname(site.home) }) },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("deno task syft reads ./mock, ./real and run.sh and writes results where the user is, not in the clone", async () => {
  const before = await repoEntries();
  const w = await world();
  const alice = await w.site(ALICE);
  const carol = await w.site(CAROL);
  const aliceDesk = posix.join(w.base, "alice-desk");
  await put(aliceDesk, "mock/ages.csv", "age\n1\n2\n");
  await put(aliceDesk, "real/ages.csv", "age\n30\n40\n50\n");
  code(
    await task(alice, aliceDesk, [
      "dataset",
      "create",
      "ages",
      "--mock",
      "./mock",
      "--private",
      "./real",
    ]),
    0,
  );
  const kept = await filesUnder(posix.join(alice.datasite, privateFolder("ages")));
  assert(kept.includes("ages.csv"), `the private rows were read from ./real: ${kept.join(", ")}`);
  await peerUp(carol, alice);
  await carol.ok(["sync"]);

  const carolDesk = posix.join(w.base, "carol-desk");
  await put(
    carolDesk,
    "run.sh",
    'wc -l < "$SYFT_DATASET_AGES/ages.csv" > "$SYFT_OUTPUT_DIR/rows.txt"\n',
  );
  const sent = json<{ id: string }>(
    await task(carol, carolDesk, [
      "job",
      "submit",
      "--to",
      ALICE,
      "--script",
      "run.sh",
      "--dataset",
      "ages",
      "--json",
    ]),
  );
  await alice.ok(["sync"]);
  await alice.ok(["job", "approve", sent.id]);
  await alice.ok(["job", "run", sent.id, "--sandbox", SANDBOX, "--release"]);
  await carol.ok(["sync"]);
  code(await task(carol, carolDesk, ["job", "results", sent.id, "--out", "results"]), 0);
  const written = await filesUnder(posix.join(carolDesk, "results"));
  const rows = written.find((f) => f.endsWith("rows.txt"));
  assert(rows !== undefined, `rows.txt under ${carolDesk}/results: ${written.join(", ")}`);
  assertEquals((await Deno.readTextFile(posix.join(carolDesk, "results", rows))).trim(), "4");
  assertEquals(await repoEntries(), before, "nothing new in the clone");
  await Deno.remove(w.base, { recursive: true });
});

async function repoEntries(): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(REPO))).map((e) => e.name).sort();
}

function withoutInitCwd(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  return env;
}
