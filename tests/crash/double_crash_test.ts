/**
 * A crash during the recovery from a crash (issue 16, item 4): the round a
 * restarted site runs first (replaying its journal, settling a put, finishing
 * a collection) is crash-safe too. For every barrier of the recorded round,
 * the restart's first round is recorded and crashed at each of its barriers;
 * the world still settles to the no-crash trees.
 */
import { assert, assertEquals } from "../assert.ts";
import { INBOX, OWNER, peers } from "./_scenarios.ts";
import { countCrashPoints, doubleSweep, record } from "./_sweep.ts";

async function run(name: string, r: Parameters<typeof doubleSweep>[0]) {
  const started = performance.now();
  const result = await doubleSweep(r, "barrier", "barrier");
  console.log(
    `  ${name}: ${result.points.barrier} second crash points in ${
      (performance.now() - started).toFixed(0)
    } ms`,
  );
  await countCrashPoints(result.points.barrier);
  return result;
}

Deno.test("a second crash in the reader's recovery from a crash in its applying round: it still converges", async () => {
  const { world, owner, ds } = await peers();
  owner.writeOwn("public/keep.txt", "kept");
  owner.writeOwn("public/gone.txt", "to be deleted");
  await world.settle();
  owner.writeOwn("public/keep.txt", "edited");
  owner.remove(`${OWNER}/public/gone.txt`);
  owner.writeOwn("public/sub/new.txt", "new");
  owner.writeOwn("public/big.bin", "b".repeat(300 * 1024));
  await owner.sync();
  const result = await run("reader", await record(world, ds, (site) => site.sync()));
  assertEquals(result.failures, []);
  assert(result.points.barrier > 10);
});

Deno.test("a second crash in the owner's recovery from a crash in its round judging proposals: each applied once, converged", async () => {
  const { world, owner, ds } = await peers();
  owner.writeOwn("public/readme.txt", "owner's version");
  ds.write(`${INBOX}/job0/run.sh`, "echo old\n");
  await world.settle();
  ds.write(`${INBOX}/job1/run.sh`, "echo hello\n");
  ds.write(`${INBOX}/job0/run.sh`, "echo edited\n");
  ds.write(`${OWNER}/public/readme.txt`, "ds was here");
  await ds.sync();
  const result = await run("owner", await record(world, owner, (site) => site.sync()));
  assertEquals(result.failures, []);
  assert(result.points.barrier > 10);
});
