/**
 * `syft job …` end to end through the real CLI: one data scientist, two data
 * owners on a shared `local:` folder, a job sent to both, reviewed, run in the
 * sandbox, released, and read back.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import type { SyftRun } from "../../scripts/syft_process.ts";
import {
  filesUnder,
  peerUp,
  put,
  type Site,
  type World,
  world,
  worldTemplate,
} from "../e2e/_rig.ts";
import { probeBubblewrap } from "../../core/sandbox/probe.ts";
import { buildWheel } from "../core/sandbox/_wheel.ts";
import { forge } from "../security/_jobs.ts";

const ALICE = "alice@example.org";
const BOB = "bob@example.org";
const CAROL = "carol@example.org";
const SECRET = "REAL-AGE-ROW-7c41e-never-leaves";

const SANDBOX = (await probeBubblewrap()).available ? "bwrap" : "none";

function code(r: SyftRun, expected: number): void {
  assertEquals(r.code, expected, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

function json<T = unknown>(r: SyftRun): T {
  code(r, 0);
  return JSON.parse(r.stdout) as T;
}

interface Row {
  id: string;
  name: string;
  owner: string;
  submitter: string;
  status: string;
  submitted_at: string;
  updated_at: string;
}

async function owner(
  w: World,
  email: string,
  rows: string,
): Promise<Site> {
  const site = await w.site(email);
  const src = posix.join(w.base, `${email}-data`);
  await put(src, "mock/ages.csv", "age\n1\n2\n");
  await put(src, "private/ages.csv", `age\n${rows}\n# ${SECRET}\n`);
  await site.ok([
    "dataset",
    "create",
    "ages",
    "--mock",
    posix.join(src, "mock"),
    "--private",
    posix.join(src, "private"),
  ]);
  return site;
}

const RUN_SH = [
  "#!/usr/bin/env bash",
  "set -euo pipefail",
  'n=$(grep -c "^[0-9]" "$SYFT_DATASET_AGES/ages.csv")',
  'echo "rows: $n"',
  'echo "$n" > "$SYFT_OUTPUT_DIR/count.txt"',
  "echo note >&2",
  "",
].join("\n");

Deno.test("a job sent to two owners: status visible at once, logs and outputs only after release", async () => {
  const w = await world();
  const alice = await owner(w, ALICE, "30\n40\n50");
  const bob = await owner(w, BOB, "60");
  const carol = await w.site(CAROL);
  await peerUp(carol, alice);
  await peerUp(carol, bob);
  await carol.ok(["sync"]);

  const script = posix.join(w.base, "job", "run.sh");
  await put(posix.dirname(script), "run.sh", RUN_SH);
  const sent = json<{ id: string; name: string; to: string[] }>(
    await carol.syft([
      "job",
      "submit",
      "--to",
      `${ALICE},${BOB}`,
      "--script",
      script,
      "--dataset",
      "ages",
      "--name",
      "count ages",
      "--json",
    ]),
  );
  assertMatch(sent.id, /^count-ages-[0-9a-f]{8}$/);
  assertEquals(sent.to, [ALICE, BOB]);

  // Each owner's sync records the job as pending; the submitter sees that state.
  for (const o of [alice, bob]) await o.ok(["sync"]);
  await carol.ok(["sync"]);
  const rows = json<Row[]>(await carol.syft(["job", "list", "--json"]));
  assertEquals(rows.map((r) => [r.owner, r.status, r.submitter]).sort(), [
    [ALICE, "pending", CAROL],
    [BOB, "pending", CAROL],
  ]);
  assertEquals(Object.keys(rows[0]!).sort(), [
    "id",
    "name",
    "owner",
    "status",
    "submitted_at",
    "submitter",
    "updated_at",
  ]);
  const review = (o: Site) =>
    posix.join(carol.mirror(o), `app_data/job/review/${CAROL}/${sent.id}`);
  assertEquals(await filesUnder(review(alice)), ["status/state.yaml"]);

  // The owner sees run.sh in full and the grants before deciding.
  const show = await alice.ok(["job", "show", sent.id]);
  assertStringIncludes(show.stdout, 'n=$(grep -c "^[0-9]" "$SYFT_DATASET_AGES/ages.csv")');
  assertMatch(show.stdout, /network:\s+no/);

  assertEquals(
    json<{ pending_jobs: number }>(await alice.syft(["status", "--json"])).pending_jobs,
    1,
  );

  // Only the owner decides.
  code(await carol.syft(["job", "approve", sent.id]), 3);

  for (const o of [alice, bob]) {
    await o.ok(["job", "approve", sent.id]);
    const run = await o.ok(["job", "run", sent.id, "--sandbox", SANDBOX]);
    assertMatch(run.stdout, / done, not released yet \(sandbox (bwrap|none)\)$/m);
  }
  await carol.ok(["sync"]);
  const before = await filesUnder(review(alice));
  assertEquals(before, ["status/approved", "status/done", "status/running", "status/state.yaml"]);
  code(await carol.syft(["job", "results", sent.id]), 1);

  for (const o of [alice, bob]) await o.ok(["job", "release", sent.id]);
  const waited = await carol.ok(["job", "wait", sent.id, "--timeout", "60"]);
  assertStringIncludes(waited.stdout, `${ALICE}: released`);
  assertEquals(await filesUnder(review(alice)), [
    "outputs/count.txt",
    "returncode.txt",
    "status/approved",
    "status/done",
    "status/released",
    "status/running",
    "status/state.yaml",
    "stderr.txt",
    "stdout.txt",
  ]);

  const out = posix.join(w.base, "results");
  await carol.ok(["job", "results", sent.id, "--out", out]);
  assertEquals((await Deno.readTextFile(posix.join(out, ALICE, "outputs/count.txt"))).trim(), "3");
  assertEquals((await Deno.readTextFile(posix.join(out, BOB, "outputs/count.txt"))).trim(), "1");
  const logs = await carol.ok(["job", "logs", sent.id]);
  assertStringIncludes(logs.stdout, "rows: 3");
  assertStringIncludes(logs.stdout, "rows: 1");

  // The private rows are nowhere on the scientist's side or in the transport.
  for (const dir of [carol.root, w.shared]) {
    for (const rel of await filesUnder(dir)) {
      const text = await Deno.readTextFile(posix.join(dir, rel)).catch(() => "");
      assert(!text.includes(SECRET), `${rel} holds private data`);
    }
  }

  // The audit log names each decision and the sandbox.
  const shown = json<{ audit: { action: string; sandbox?: string }[] }>(
    await alice.syft(["job", "show", sent.id, "--json"]),
  );
  assertEquals(shown.audit.map((a) => a.action), ["receive", "approve", "run", "release"]);
  assertEquals(shown.audit[2]!.sandbox, SANDBOX);
});

/** Alice with the dataset, Carol her accepted peer: made once, copied for each case. */
const paired = worldTemplate(async (w) => {
  const alice = await owner(w, ALICE, "30\n40");
  const carol = await w.site(CAROL);
  await peerUp(carol, alice);
  await carol.ok(["sync"]);
}, { shareAs: "cli/job_test.ts pair" });

async function pair(): Promise<{ w: World; alice: Site; carol: Site }> {
  const w = await paired();
  return { w, alice: w.open(ALICE), carol: w.open(CAROL) };
}

async function submit(
  carol: Site,
  dir: string,
  body: string,
  extra: string[] = [],
): Promise<string> {
  await put(dir, "run.sh", body);
  const r = json<{ id: string }>(
    await carol.syft([
      "job",
      "submit",
      "--to",
      ALICE,
      "--dir",
      dir,
      "--dataset",
      "ages",
      "--json",
      ...extra,
    ]),
  );
  return r.id;
}

async function stateOf(
  site: Site,
  id: string,
): Promise<{ status: string; history: { how: string; reason: string | null }[] }> {
  const shown = json<
    { owners: { status: string; history: { how: string; reason: string | null }[] }[] }
  >(
    await site.syft(["job", "show", id, "--json"]),
  );
  return shown.owners[0]!;
}

Deno.test("a job whose file does not match its hash, or that names a dataset the owner lacks, is rejected on arrival with the reason", async () => {
  const { alice, carol } = await pair();
  const id = "forged-00000001";
  await forge(carol, alice, id, { files: [{ path: "run.sh", sha256: "0".repeat(64) }] });
  await forge(carol, alice, "forged-00000002", { datasets: ["heights"] });
  await carol.ok(["sync"]);
  await alice.ok(["sync"]);
  const s = await stateOf(alice, id);
  assertEquals(s.status, "rejected");
  assertMatch(s.history[1]!.reason ?? "", /run\.sh does not match its SHA-256/);
  const s2 = await stateOf(alice, "forged-00000002");
  assertEquals([s2.status, s2.history[1]!.reason], [
    "rejected",
    `dataset heights does not exist here or is not shared with ${CAROL}`,
  ]);
  await carol.ok(["sync"]);
  // The forger gets the verdict and its reason in its mirror.
  const shared = await Deno.readTextFile(
    posix.join(carol.mirror(alice), `app_data/job/review/${CAROL}/${id}/status/state.yaml`),
  );
  assertMatch(shared, /^status: rejected$/m);
  assertStringIncludes(shared, "does not match its SHA-256");
  // Without a record of sending it, the job still shows from the state its owner shares.
  const rows = json<Row[]>(await carol.syft(["job", "list", "--json"]));
  assertEquals(rows.map((r) => [r.id, r.owner, r.status]).sort(), [
    [id, ALICE, "rejected"],
    ["forged-00000002", ALICE, "rejected"],
  ]);
  code(await alice.syft(["job", "approve", id]), 2);
});

Deno.test("after approval the submitter can no longer change the job: the proposal is rejected", async () => {
  const { w, alice, carol } = await pair();
  const id = await submit(carol, posix.join(w.base, "j"), "echo v1 > $SYFT_OUTPUT_DIR/v.txt\n");
  await alice.ok(["sync"]);
  await alice.ok(["job", "approve", id]);
  const inbox = `app_data/job/inbox/${CAROL}/${id}/run.sh`;
  await Deno.writeTextFile(
    posix.join(carol.mirror(alice), inbox),
    "echo v2 > $SYFT_OUTPUT_DIR/v.txt\n",
  );
  // A new file would be a plain create; only the lock written at approval stops it.
  const added = `app_data/job/inbox/${CAROL}/${id}/lib.sh`;
  await put(carol.mirror(alice), added, "echo sneaky\n");
  await carol.ok(["sync"]);
  const synced = json<{ rejected: number }>(await alice.syft(["sync", "--json"]));
  assert(synced.rejected >= 1, JSON.stringify(synced));
  assertEquals(
    await Deno.readTextFile(posix.join(alice.datasite, inbox)),
    "echo v1 > $SYFT_OUTPUT_DIR/v.txt\n",
  );
  assertEquals(await Deno.lstat(posix.join(alice.datasite, added)).catch(() => null), null);
  await alice.ok(["job", "run", id, "--sandbox", SANDBOX, "--release"]);
  await carol.ok(["sync"]);
  const out = posix.join(w.base, "out");
  await carol.ok(["job", "results", id, "--out", out]);
  assertEquals(await Deno.readTextFile(posix.join(out, ALICE, "outputs/v.txt")), "v1\n");
});

Deno.test("a policy approves, runs and releases an identical later job, and the audit names it", async () => {
  const { w, alice, carol } = await pair();
  const body = 'wc -l < "$SYFT_DATASET_AGES/ages.csv" > "$SYFT_OUTPUT_DIR/n.txt"\n';
  const first = await submit(carol, posix.join(w.base, "a"), body);
  await alice.ok(["sync"]);
  await alice.ok(["job", "approve", first]);
  await alice.ok(["job", "policy", "add", "line-count", "--from", first]);
  const listed = json<{ name: string; peers: string[] }[]>(
    await alice.syft(["job", "policy", "list", "--json"]),
  );
  assertEquals(listed.map((p) => [p.name, p.peers]), [["line-count", [CAROL]]]);

  // Same code under another name and id: approved by the policy without a click.
  const second = await submit(carol, posix.join(w.base, "b"), body, ["--name", "again"]);
  // A different script is not covered and waits.
  const third = await submit(carol, posix.join(w.base, "c"), "echo other\n");
  const synced = await alice.syft(["sync", ...(SANDBOX === "none" ? [] : [])]);
  code(synced, 0);
  // Arrivals and what a policy ran are news, not warnings.
  assertMatch(synced.stderr, new RegExp(`^job ${CAROL}/${third} arrived`, "m"));
  if (SANDBOX === "bwrap") assertEquals(synced.stderr.includes("warning:"), false, synced.stderr);
  const s2 = await stateOf(alice, second);
  assertEquals(s2.status, SANDBOX === "bwrap" ? "released" : "approved");
  assertEquals(s2.history[1]!.how, "policy:line-count");
  assertEquals((await stateOf(alice, third)).status, "pending");
  if (SANDBOX === "bwrap") {
    const audit = json<{ audit: { action: string; how: string }[] }>(
      await alice.syft(["job", "show", second, "--json"]),
    ).audit;
    assertEquals(audit.map((a) => [a.action, a.how]), [
      ["receive", "auto"],
      ["approve", "policy:line-count"],
      ["run", "policy:line-count"],
      ["release", "policy:line-count"],
    ]);
    await carol.ok(["job", "wait", second, "--timeout", "30"]);
  }
  await alice.ok(["job", "policy", "remove", "line-count"]);
  assertEquals(json<unknown[]>(await alice.syft(["job", "policy", "list", "--json"])), []);
});

Deno.test("without bubblewrap job run refuses with exit 5 and a hint, unless --sandbox none", async () => {
  const { w, alice, carol } = await pair();
  const id = await submit(carol, posix.join(w.base, "j"), "echo ok > $SYFT_OUTPUT_DIR/ok.txt\n");
  await alice.ok(["sync"]);
  await alice.ok(["job", "approve", id]);
  // A machine without bubblewrap: every system program but bwrap on PATH.
  const noBwrap = posix.join(w.base, "bin");
  await Deno.mkdir(noBwrap);
  for (const dir of ["/usr/sbin", "/usr/bin"]) {
    for await (const e of Deno.readDir(dir)) {
      if (e.name === "bwrap") continue;
      await Deno.symlink(posix.join(dir, e.name), posix.join(noBwrap, e.name)).catch(() => {});
    }
  }
  const { runSyft } = await import("../../scripts/syft_process.ts");
  const refused = await runSyft(["--home", alice.home, "job", "run", id], {
    env: { PATH: noBwrap, HOME: posix.dirname(alice.home) },
  });
  code(refused, 5);
  assertMatch(
    refused.stderr,
    /^error: no sandbox to run jobs in: bubblewrap \(bwrap\) is not installed$/m,
  );
  assertMatch(refused.stderr, /^hint: .*--sandbox none/m);
  assertEquals((await stateOf(alice, id)).status, "approved");

  const ran = await runSyft(["--home", alice.home, "job", "run", id, "--sandbox", "none"], {
    env: { PATH: noBwrap, HOME: posix.dirname(alice.home) },
  });
  code(ran, 0);
  assertMatch(ran.stderr, /WITHOUT a sandbox/);
  const shown = json<{ owners: { status: string; run: { sandbox: string } }[] }>(
    await alice.syft(["job", "show", id, "--json"]),
  );
  assertEquals([shown.owners[0]!.status, shown.owners[0]!.run.sandbox], ["done", "none"]);
});

Deno.test("job submit refuses bad input with one line and writes nothing", async () => {
  const { w, alice, carol } = await pair();
  const dir = posix.join(w.base, "nojob");
  await put(dir, "main.sh", "echo\n");
  const cases: [string[], number, RegExp][] = [
    [["--to", ALICE, "--dir", dir], 2, /has no run\.sh/],
    [["--to", ALICE], 2, /exactly one of --script, --dir or --python/],
    [["--to", "dave@example.org", "--dir", dir], 2, /dave@example\.org is not an accepted peer/],
    [["--to", ALICE, "--script", posix.join(dir, "missing.sh")], 2, /does not exist/],
    [
      ["--to", ALICE, "--script", posix.join(dir, "main.sh"), "--dataset", "heights"],
      2,
      /has no dataset heights/,
    ],
    [
      ["--to", ALICE, "--script", posix.join(dir, "main.sh"), "--dep", "numpy"],
      2,
      /--dep only applies with --python/,
    ],
    [["--to", ALICE, "--script", posix.join(dir, "main.sh"), "--timeout", "0"], 2, /--timeout/],
  ];
  for (const [args, exit, message] of cases) {
    const r = await carol.syft(["job", "submit", ...args]);
    code(r, exit);
    assertMatch(r.stderr, message);
    assertEquals(r.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
  }
  assertEquals(await filesUnder(posix.join(carol.mirror(alice), "app_data")), []);

  // A job that asks for network says so to the owner before approval.
  const id = await submit(carol, posix.join(w.base, "net"), "echo\n", ["--network"]);
  await alice.ok(["sync"]);
  assertMatch((await alice.ok(["job", "show", id])).stdout, /network:\s+YES/);
  assertMatch((await alice.ok(["job", "approve", id])).stderr, /asks for NETWORK access/);
});

Deno.test("a --python job with a dependency: installed from the owner's local wheel folder, then run on the data", async () => {
  const { w, alice, carol } = await pair();
  const wheels = posix.join(w.base, "wheels");
  await Deno.mkdir(wheels);
  await buildWheel(wheels, "agestats", "1.0", "def mean(xs):\n    return sum(xs) / len(xs)\n");
  const main = posix.join(w.base, "py", "analysis.py");
  await put(
    posix.dirname(main),
    "analysis.py",
    [
      "import os, agestats",
      'rows = open(os.path.join(os.environ["SYFT_DATASET_AGES"], "ages.csv")).read().split("\\n")',
      "ages = [int(r) for r in rows if r.isdigit()]",
      'open(os.path.join(os.environ["SYFT_OUTPUT_DIR"], "mean.txt"), "w").write(str(agestats.mean(ages)))',
      "",
    ].join("\n"),
  );
  const sent = json<{ id: string }>(
    await carol.syft([
      "job",
      "submit",
      "--to",
      ALICE,
      "--python",
      main,
      "--dep",
      "agestats==1.0",
      "--dataset",
      "ages",
      "--json",
    ]),
  );
  await alice.ok(["sync"]);
  const shown = json<{ type: string; dependencies: string[]; files: { path: string }[] }>(
    await alice.syft(["job", "show", sent.id, "--json"]),
  );
  assertEquals([shown.type, shown.dependencies], ["python", ["agestats==1.0"]]);
  assertEquals(shown.files.map((f) => f.path).sort(), ["analysis.py", "run.sh"]);
  await alice.ok(["job", "approve", sent.id]);
  // Without a package source the job is refused before it starts and stays approved.
  const unsourced = await alice.syft(["job", "run", sent.id, "--sandbox", SANDBOX]);
  code(unsourced, 2);
  assertMatch(unsourced.stderr, /^hint: pass --find-links/m);
  assertEquals((await stateOf(alice, sent.id)).status, "approved");
  const run = await alice.syft([
    "job",
    "run",
    sent.id,
    "--sandbox",
    SANDBOX,
    "--find-links",
    wheels,
    "--release",
  ]);
  code(run, 0);
  assertMatch(
    run.stdout,
    / released \(sandbox (bwrap|none)\): carol@example\.org gets its logs and 1 output file/,
  );
  await carol.ok(["job", "wait", sent.id, "--timeout", "30"]);
  const out = posix.join(w.base, "out");
  await carol.ok(["job", "results", sent.id, "--out", out]);
  assertEquals(await Deno.readTextFile(posix.join(out, ALICE, "outputs/mean.txt")), "35.0");
});

Deno.test("a job past its time limit ends failed with the timeout recorded; the owner's other peers see nothing of it", async () => {
  const { w, alice, carol } = await pair();
  const dave = await w.site("dave@example.org");
  await peerUp(dave, alice);
  const id = await submit(
    carol,
    posix.join(w.base, "slow"),
    "echo started\nsleep 30\necho never\n",
    [
      "--timeout",
      "1",
    ],
  );
  await alice.ok(["sync"]);
  await alice.ok(["job", "approve", id]);
  const started = Date.now();
  const run = await alice.syft(["job", "run", id, "--sandbox", SANDBOX, "--release"]);
  assert(Date.now() - started < 20_000, "the run was not cut at its time limit");
  code(run, 1);
  assertMatch(run.stdout, /failed \(timed out\), released \(sandbox (bwrap|none)\)/);
  const shown = json<
    { owners: { status: string; run: { timed_out: boolean; returncode: number | null } }[] }
  >(
    await alice.syft(["job", "show", id, "--json"]),
  );
  assertEquals(shown.owners[0]!.status, "released");
  assertEquals([shown.owners[0]!.run.timed_out, shown.owners[0]!.run.returncode], [true, null]);
  const logs = await carol.ok(["job", "logs", id, "--follow"]);
  assertStringIncludes(logs.stdout, "started");
  assert(!logs.stdout.includes("never"));
  // job wait reports a failed job with exit 1.
  code(await carol.syft(["job", "wait", id, "--timeout", "10"]), 1);
  await dave.ok(["sync"]);
  assertEquals(await filesUnder(posix.join(dave.mirror(alice), "app_data")), []);
});

Deno.test("two job run commands at once run the job once: the second waits for the first and skips it", async () => {
  const { w, alice, carol } = await pair();
  const id = await submit(
    carol,
    posix.join(w.base, "once"),
    "sleep 1\necho ran >> $SYFT_OUTPUT_DIR/runs.txt\n",
  );
  await alice.ok(["sync"]);
  await alice.ok(["job", "approve", id]);
  const [a, b] = await Promise.all([
    alice.syft(["job", "run", id, "--sandbox", SANDBOX]),
    alice.syft(["job", "run", "--all-approved", "--sandbox", SANDBOX]),
  ]);
  code(a, 0);
  code(b, 0);
  const shown = json<{ owners: { status: string }[]; audit: { action: string }[] }>(
    await alice.syft(["job", "show", id, "--json"]),
  );
  assertEquals(shown.owners[0]!.status, "done");
  assertEquals(shown.audit.filter((e) => e.action === "run").length, 1);
});
