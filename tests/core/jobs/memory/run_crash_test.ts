/**
 * Crash points of `job run --release` (issue 16 item 4): the power is cut at
 * each fsync of the run in turn (MemoryFs rolls the disk back to the fsync
 * before), the owner restarts and does what syft tells it to, and the job
 * must end released exactly once, its outputs whole, no second set of
 * results beside the first, and the scientist must get them. Every barrier
 * is tried, not a sample.
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { recordCount } from "../../../_counts.ts";
import { readAuditLog } from "../../../../core/audit/log.ts";
import { homeLayout } from "../../../../core/config/home.ts";
import { isSyftTemp } from "../../../../core/datasite/names.ts";
import { answerDecision } from "../../../../core/jobs/moves.ts";
import { type JobKey, jobLabel, reviewJobFolder } from "../../../../core/jobs/layout.ts";
import { siteJobs, type StubScript } from "../../../../core/testing/jobs.ts";
import { PowerCut } from "../../../../core/testing/memory_fs.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

/** A run with several outputs, one in a subfolder, so a torn set would show. */
const SCRIPT: StubScript = (spec) => ({
  returncode: 0,
  stdout: `ran ${spec.jobId}\n`,
  stderr: "",
  outputs: {
    "result.txt": `result of ${spec.jobId}\n`,
    "tables/a.csv": "x,y\n1,2\n",
    "tables/b.csv": "x,y\n3,4\n",
  },
});

/** An approved job the scientist sees approved, with everything before the run on disk. */
async function approved() {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  const key = await siteJobs(ds).submit(owner, { name: "count" });
  await world.settle();
  await siteJobs(owner).intake();
  await siteJobs(owner).approve(key);
  await world.settle();
  // What came before the run reached the disk: a cut loses only the run's own writes.
  world.fs.markDurable();
  return { world, owner, ds, key };
}

/**
 * After the restart, what the owner is told to do, until syft says there is
 * nothing left: `job run <id> --release` while it may run; once it has run,
 * `job run` answers "already run" and the owner releases it with
 * `job release <id>`. Returns the commands given.
 */
async function recover(
  jobs: ReturnType<typeof siteJobs>,
  key: JobKey,
): Promise<string[]> {
  const given: string[] = [];
  for (let step = 0; step < 3; step++) {
    const status = (await jobs.ownState(key))!.status;
    const label = jobLabel(key);
    if (answerDecision("run", status, label, key.submitter).kind === "go") {
      given.push("run --release");
      await jobs.run(key, { release: true });
    } else if (answerDecision("release", status, label, key.submitter).kind === "go") {
      given.push("release");
      await jobs.release(key);
    } else {
      return given;
    }
  }
  throw new Error(`job ${jobLabel(key)} never settled: ${given.join(", ")}`);
}

Deno.test("a power cut at any fsync of `job run --release`: after restart the job ends released once, its outputs whole, and the scientist gets them", async () => {
  let points = 0;
  /** Temp files a cut left in the review folder (a rename not yet durable): they never travel. */
  let temps = 0;
  /** Files a cut left in the runs' scratch. */
  let scratch = 0;
  for (let cut = 1;; cut++) {
    const { world, owner, ds, key } = await approved();
    const desk = siteJobs(owner, { script: SCRIPT });
    world.fs.powerCutAt = world.fs.syncs + cut;
    const died = await desk.run(key, { release: true }).then(() => null, (err) => err);
    if (died === null && !world.fs.dead) {
      // The run has fewer barriers: all were tried. The uncut run is the reference.
      assertEquals((await desk.ownState(key))?.status, "released");
      break;
    }
    // A cut at a best-effort folder fsync (atomic.ts) is swallowed there; the
    // machine is off all the same.
    assert(world.fs.dead && (died === null || died instanceof PowerCut), `cut ${cut}: ${died}`);
    points++;
    world.fs.crash();

    const given = await recover(desk, key);
    // `syft sync` runs the intake after its round: it republishes a view a cut left behind the record.
    await desk.intake();
    await world.settle();
    const where = `cut at fsync ${cut} (then ${given.join(", ") || "nothing"})`;

    const state = (await desk.ownState(key))!;
    assertEquals(state.status, "released", where);
    for (const once of ["done", "released"]) {
      assertEquals(state.history.filter((h) => h.status === once).length, 1, `${where}: ${once}`);
    }
    assertEquals(state.run?.returncode, 0, where);
    const audit = (await readAuditLog(homeLayout(desk.home).auditLog, world.fs)).records;
    const releases = audit.filter((r) => r.action === "job.release" && r.subject === jobLabel(key));
    // The line goes first (fsynced) and is not repeated when the release is done again.
    assertEquals(
      releases.length,
      1,
      `${where}: released ${releases.length} times in the audit log`,
    );
    scratch += world.fs.listTree(desk.home).filter((p) => p.includes("/cache/runs/")).length;

    // One set of results, whole, and nothing a dead run left beside it.
    const review = `${owner.me}/${reviewJobFolder(key.submitter, key.id)}`;
    const left = owner.files(review).map((p) => p.slice(review.length + 1));
    temps += left.filter((p) => isSyftTemp(p.split("/").at(-1)!)).length;
    assertEquals(
      left.filter((p) => !p.startsWith("status/") && !isSyftTemp(p.split("/").at(-1)!)),
      [
        "outputs/result.txt",
        "outputs/tables/a.csv",
        "outputs/tables/b.csv",
        "returncode.txt",
        "stderr.txt",
        "stdout.txt",
        "syft.pub.yaml",
      ],
      where,
    );
    const expected = {
      "outputs/result.txt": `result of ${key.id}\n`,
      "outputs/tables/a.csv": "x,y\n1,2\n",
      "outputs/tables/b.csv": "x,y\n3,4\n",
      "returncode.txt": "0\n",
      "stderr.txt": "",
      "stdout.txt": `ran ${key.id}\n`,
    };
    assertEquals(desk.results(owner, key), expected, where);
    assertEquals(siteJobs(ds).results(owner, key), expected, where);
    assertEquals((await siteJobs(ds).sharedState(owner, key))?.status, "released", where);
  }
  assert(points > 5, `the run made only ${points} fsyncs`);
  if (Deno.env.get("SYFT_TEST_VERBOSE")) {
    console.log(
      `  job run cut at each of ${points} fsyncs: ${temps} temp file(s) left in review folders, ` +
        `${scratch} scratch file(s) left`,
    );
  }
  await recordCount("crash points", points);
});

/** The world after `job run --release` was cut at fsync `cut` of the run, restarted and recovered. */
async function cutAndRecover(cut: number) {
  const { world, owner, ds, key } = await approved();
  const desk = siteJobs(owner, { script: SCRIPT });
  world.fs.powerCutAt = world.fs.syncs + cut;
  await desk.run(key, { release: true }).catch((err) => {
    if (!(err instanceof PowerCut)) throw err;
  });
  world.fs.crash();
  await recover(desk, key);
  await desk.intake();
  await world.settle();
  return { world, owner, ds, key, desk };
}

// Open question (core/fs/atomic.ts writeFileAtomic): a cut between a temp's
// fsync and the fsync of its folder (fsync 8 of the run: returncode.txt; 8 of
// the 22 cuts do it) leaves `.<name>.tmp-<uuid>` in the review folder. It never
// travels (sync skips temp names) and the real file is whole, but nothing ever
// removes it: a sweep of old temp names (by mtime, since a live writer's temp is
// young) in `removeStaleRuns` or the sync's scan would.
Deno.test({
  name: "a cut leaves no syft temp file behind in the job's review folder",
  ignore: true,
  fn: async () => {
    const { owner, key } = await cutAndRecover(8);
    const review = `${owner.me}/${reviewJobFolder(key.submitter, key.id)}`;
    assertEquals(owner.files(review).filter((p) => isSyftTemp(p.split("/").at(-1)!)), []);
  },
});
