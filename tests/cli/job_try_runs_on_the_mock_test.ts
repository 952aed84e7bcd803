/**
 * `syft job try` runs a job on datasets' mocks in the sandbox `job run` uses,
 * builds it as `job submit` would, and says where its outputs and logs went.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { tryFailure, tryFolderName, trySource } from "../../core/jobs/try_plan.ts";
import { runSyft } from "../../scripts/syft_process.ts";
import { ALICE, CAROL, code, dataset, json, SANDBOX } from "../security/_jobs.ts";
import { filesUnder, peerUp, put, world } from "../e2e/_rig.ts";

const BOB = "bob@example.org";

Deno.test("trySource reads a path as job submit would send it; the default folder sorts by UTC time", () => {
  const file = { isDirectory: false, hasRunSh: false, hasMainPy: false };
  assertEquals(trySource("/j/run.sh", file, []), { kind: "script", path: "/j/run.sh" });
  assertEquals(trySource("/j/a.py", file, ["numpy"]), {
    kind: "python",
    path: "/j/a.py",
    dependencies: ["numpy"],
  });
  const dir = { isDirectory: true, hasRunSh: true, hasMainPy: true };
  assertEquals(trySource("/j", dir, []), { kind: "dir", path: "/j" });
  assertEquals(trySource("/j", { ...dir, hasRunSh: false }, []).kind, "python");
  assertEquals(
    tryFolderName("Count Rows", new Date("2026-12-05T01:02:03.456Z")),
    "syft-try-count-rows-20261205T010203Z",
  );
  const ran = { returncode: 0, timedOut: false, outputsTruncated: false };
  assertEquals(tryFailure(ran, 60), null);
  assertEquals(tryFailure({ ...ran, returncode: 3 }, 60), "exited with code 3");
  assertEquals(
    tryFailure({ ...ran, returncode: null, timedOut: true }, 60),
    "timed out after 60 s",
  );
});

Deno.test("job try runs on the mock in the sandbox, keeps outputs and logs apart, and reflects the exit code", async () => {
  const w = await world();
  const [alice, bob, carol] = [await w.site(ALICE), await w.site(BOB), await w.site(CAROL)];
  await dataset(w, alice, "ages");
  await dataset(w, bob, "ages");
  await peerUp(carol, alice);
  await peerUp(carol, bob);
  await carol.ok(["sync"]);
  const desk = posix.join(w.base, "carol-desk");
  await put(
    desk,
    "job/run.sh",
    'cat "$SYFT_DATASET_AGES/ages.csv" > "$SYFT_OUTPUT_DIR/seen.csv"\n' +
      'echo "$SYFT_OUTPUT_DIR" > "$SYFT_OUTPUT_DIR/stdout.txt"\necho hello\n',
  );
  const inDesk = (args: string[]) =>
    runSyft(["--home", carol.home, ...args], {
      cwd: desk,
      env: { HOME: posix.dirname(carol.home) },
    });
  const sandbox = ["--sandbox", SANDBOX];

  // Two owners share "ages": the try names them and asks which.
  const twice = await inDesk(["job", "try", "job", "--dataset", "ages", ...sandbox]);
  code(twice, 2);
  assertMatch(twice.stderr, /^error: dataset "ages" exists under several owners/m);
  assertMatch(twice.stderr, /^hint: pass --owner <email>/m);
  code(await inDesk(["job", "try", "job", ...sandbox]), 2);

  const r = json<{ outputs: string; logs: string; returncode: number; sandbox: string }>(
    await inDesk([
      "job",
      "try",
      "job",
      "--dataset",
      "ages",
      "--owner",
      ALICE,
      ...sandbox,
      "--json",
    ]),
  );
  assertEquals(r.returncode, 0);
  assertEquals(r.sandbox, SANDBOX);
  const made = posix.dirname(r.outputs);
  assertMatch(posix.basename(made), /^syft-try-job-\d{8}T\d{6}Z$/);
  assertEquals(posix.dirname(made), desk, "a new folder where the user typed the command");
  assertEquals(await filesUnder(made), [
    "logs/returncode.txt",
    "logs/stderr.txt",
    "logs/stdout.txt",
    "outputs/seen.csv",
    "outputs/stdout.txt",
  ]);
  assertEquals(await Deno.readTextFile(posix.join(r.outputs, "seen.csv")), "age\n1\n2\n");
  assertEquals(await Deno.readTextFile(posix.join(r.logs, "stdout.txt")), "hello\n");
  assertEquals(await Deno.readTextFile(posix.join(r.logs, "returncode.txt")), "0\n");
  if (SANDBOX === "bwrap") {
    const inside = await Deno.readTextFile(posix.join(r.outputs, "stdout.txt"));
    assert(
      !inside.startsWith(desk),
      `the job sees the sandbox's folder, not the host's: ${inside}`,
    );
  }

  // --out: a new folder is made; a folder with files in it is refused, nothing run.
  const human = await inDesk([
    "job",
    "try",
    "job/run.sh",
    "--dataset",
    "ages",
    "--owner",
    ALICE,
    "--out",
    "o/one",
    ...sandbox,
  ]);
  code(human, 0);
  assertMatch(human.stdout, /^ran run on the mock of ages \(alice@example\.org\)/m);
  assertMatch(human.stdout, new RegExp(`^outputs: +${desk}/o/one/outputs/ \\(2 files\\)$`, "m"));
  assertMatch(human.stdout, new RegExp(`^logs: +${desk}/o/one/logs/`, "m"));
  const full = await inDesk([
    "job",
    "try",
    "job",
    "--dataset",
    "ages",
    "--owner",
    ALICE,
    "--out",
    "o/one",
    ...sandbox,
  ]);
  code(full, 2);
  assertMatch(full.stderr, /^error: --out .*o\/one exists and is not an empty folder$/m);

  // A failing script: exit 1, saying so, with the logs kept.
  await put(desk, "bad.sh", "echo broken >&2\nexit 3\n");
  const failed = await inDesk([
    "job",
    "try",
    "bad.sh",
    "--dataset",
    "ages",
    "--owner",
    BOB,
    "--out",
    "bad",
    ...sandbox,
  ]);
  code(failed, 1);
  assertMatch(
    failed.stdout,
    /^failed: bad on the mock of ages \(bob@example\.org\) .*: exited with code 3$/m,
  );
  assertMatch(failed.stderr, /^error: bad exited with code 3 on the mock$/m);
  assertMatch(
    failed.stderr,
    new RegExp(`^hint: read its logs: cat ${desk}/bad/logs/stderr.txt$`, "m"),
  );
  assertEquals(await Deno.readTextFile(posix.join(desk, "bad/logs/stderr.txt")), "broken\n");

  // A .py file runs as job submit --python would send it.
  await put(
    desk,
    "count.py",
    'import os\nopen(os.environ["SYFT_OUTPUT_DIR"] + "/n.txt", "w").write("7")\n',
  );
  const py = json<{ outputs: string }>(
    await inDesk([
      "job",
      "try",
      "count.py",
      "--dataset",
      "ages",
      "--owner",
      ALICE,
      "--out",
      "py",
      ...sandbox,
      "--json",
    ]),
  );
  assertEquals(await Deno.readTextFile(posix.join(py.outputs, "n.txt")), "7");

  // Without bubblewrap nothing runs (exit 5) unless --sandbox none.
  const noBwrap = posix.join(w.base, "bin");
  await Deno.mkdir(noBwrap);
  for (const dir of ["/usr/sbin", "/usr/bin"]) {
    for await (const e of Deno.readDir(dir)) {
      if (e.name === "bwrap") continue;
      await Deno.symlink(posix.join(dir, e.name), posix.join(noBwrap, e.name)).catch(() => {});
    }
  }
  const none = await runSyft(
    [
      "--home",
      carol.home,
      "job",
      "try",
      "job",
      "--dataset",
      "ages",
      "--owner",
      ALICE,
      "--out",
      "nb",
    ],
    { cwd: desk, env: { PATH: noBwrap, HOME: posix.dirname(carol.home) } },
  );
  code(none, 5);
  assertMatch(none.stderr, /^hint: .*--sandbox none/m);
  assertEquals(await Deno.lstat(posix.join(desk, "nb")).then(() => true, () => false), false);
  await Deno.remove(w.base, { recursive: true });
});
