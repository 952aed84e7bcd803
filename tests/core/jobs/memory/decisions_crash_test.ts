/**
 * Each owner decision that returned (receive, approve, reject, run, release)
 * survives a power cut right after it: the owner's record and the view the
 * submitter reads both say what was decided, so nothing is done twice or
 * undone by a restart. (The audit line is the open bug named in
 * run_crash_test.ts: the log is appended without an fsync.)
 * @module
 */
import { posix } from "node:path";
import { assertEquals } from "../../../assert.ts";
import { submittedJobs } from "../../../../core/jobs/catalog.ts";
import type { JobKey } from "../../../../core/jobs/layout.ts";
import { checkDestinations, copyResults, planResults } from "../../../../core/jobs/results.ts";
import { readJobState } from "../../../../core/jobs/review.ts";
import { siteJobs } from "../../../../core/testing/jobs.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

Deno.test("every owner decision that returned survives a power cut right after it", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  const keep = await siteJobs(ds).submit(owner, { name: "keep" });
  const drop = await siteJobs(ds).submit(owner, { name: "drop" });
  await world.settle();
  const desk = siteJobs(owner);

  const survives = async (key: JobKey, status: string, what: string) => {
    world.fs.crash();
    assertEquals((await desk.ownState(key))?.status, status, `${what}: the owner's record`);
    const view = await readJobState(owner.datasite, key, world.fs);
    assertEquals(view?.status, status, `${what}: the submitter's view`);
  };
  await desk.intake();
  await survives(keep, "pending", "receive");
  await desk.approve(keep);
  await survives(keep, "approved", "approve");
  await desk.reject(drop, "no");
  await survives(drop, "rejected", "reject");
  await desk.run(keep);
  await survives(keep, "done", "run");
  assertEquals(desk.results(owner, keep)["outputs/result.txt"], `result of ${keep.id}\n`);
  await desk.release(keep);
  await survives(keep, "released", "release");
  await world.settle();
  assertEquals(siteJobs(ds).results(owner, keep)["outputs/result.txt"], `result of ${keep.id}\n`);
});

Deno.test("`job results --out` that returned survives a power cut right after it", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  const scientist = siteJobs(ds);
  const key = await scientist.submit(owner, { name: "keep" });
  await world.settle();
  const desk = siteJobs(owner);
  await desk.intake();
  await desk.approve(key);
  await desk.run(key, { release: true });
  await world.settle();

  const entries = (await submittedJobs(ds.ctx.root, DS, scientist.home, world.fs))
    .filter((e) => e.key.id === key.id);
  const out = posix.join(posix.dirname(scientist.home), "work", "out");
  const plan = await planResults(entries, out, world.fs);
  await checkDestinations(plan, false, world.fs);
  await copyResults(plan, world.fs);
  world.fs.crash();
  assertEquals(
    world.fs.listTree(`${out}/${OWNER}`).map((p) => p.slice(out.length + OWNER.length + 2)),
    ["logs/returncode.txt", "logs/stderr.txt", "logs/stdout.txt", "outputs/result.txt"],
  );
});
