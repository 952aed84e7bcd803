/**
 * Crash points of `job submit` (issue 16 item 4, the scientist's side): a
 * power cut at each fsync of the submit, or just after it returned, leaves the
 * job in the owner's mirror whole or not at all; once `job submit` said it was
 * sent, it is there, and the owner receives it whole.
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { recordCount } from "../../../_counts.ts";
import { INBOX_ROOT } from "../../../../core/jobs/layout.ts";
import { siteJobs } from "../../../../core/testing/jobs.ts";
import { PowerCut } from "../../../../core/testing/memory_fs.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

const FILES = {
  "run.sh": "python3 count.py\n",
  "count.py": "print(1)\n",
  "lib/util.py": "x = 1\n",
};

async function connected() {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  world.fs.markDurable();
  return { world, owner, ds };
}

/** The job folders in `ds`'s mirror of the owner's inbox (dot-named temps included). */
function inMirror(ds: Awaited<ReturnType<typeof connected>>["ds"]): string[] {
  return ds.files(`${OWNER}/${INBOX_ROOT}/${DS}`).map((p) => p.split("/")[5]!)
    .filter((v, i, all) => all.indexOf(v) === i);
}

// Regression: `writeJobInto` renamed the job into the mirror without an fsync of
// the folder, so a cut right after `job submit` returned (crash point: after its
// last fsync) left only the dot-named temp folder, which sync never proposes.
Deno.test("a job submit that returned survives a power cut right after it", async () => {
  const { world, owner, ds } = await connected();
  const key = await siteJobs(ds).submit(owner, { name: "count", files: FILES });
  world.fs.crash();
  assertEquals(inMirror(ds), [key.id], "the job `job submit` said it sent is in the mirror");
  await world.settle();
  const intake = await siteJobs(owner).intake();
  assertEquals(intake.received, [key]);
});

Deno.test("a power cut at any fsync of `job submit` leaves the job whole in the mirror or not at all", async () => {
  let points = 0;
  for (let cut = 1;; cut++) {
    const { world, owner, ds } = await connected();
    world.fs.powerCutAt = world.fs.syncs + cut;
    const died = await siteJobs(ds).submit(owner, { name: "count", files: FILES }).then(
      () => null,
      (err) => err,
    );
    if (died === null && !world.fs.dead) break;
    // A folder's fsync swallows its error (some file systems refuse it): the process is dead all the same.
    assert(world.fs.dead && (died === null || died instanceof PowerCut), `cut ${cut}: ${died}`);
    points++;
    world.fs.crash();
    await world.settle();
    const intake = await siteJobs(owner).intake();
    const where = `cut at fsync ${cut}`;
    // Whole (received, never rejected for missing files) or absent.
    assertEquals(intake.rejected, [], where);
    assert(intake.received.length <= 1, where);
    const jobs = inMirror(ds).filter((n) => !n.startsWith("."));
    assertEquals(jobs.length, intake.received.length, where);
  }
  assert(points >= 3, `the submit made only ${points} fsyncs`);
  await recordCount("crash points", points);
});
