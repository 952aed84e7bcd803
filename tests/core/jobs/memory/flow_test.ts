/**
 * A job's whole life in memory (issue 16): a scientist submits, sync carries
 * it, the owner approves one and rejects another, runs with a stub runner,
 * releases, and the scientist reads the results, all through the real
 * `core/jobs` code and sync engine on one MemoryFs. What the owner put on the
 * wire to the scientist is opened and read, to prove an unreleased job's
 * outputs and logs never left.
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { prng } from "../../../../core/random/prng.ts";
import { siteJobs } from "../../../../core/testing/jobs.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";
import { WireTap } from "./_wire.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

Deno.test("in memory, an approved job runs and its released results reach the scientist; a rejected one says why; an unreleased one's outputs never reach the transport", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  const wire = new WireTap(owner);
  const scientist = siteJobs(ds);
  const desk = siteJobs(owner);

  const good = await scientist.submit(owner, { name: "count" });
  const bad = await scientist.submit(owner, { name: "peek" });
  const held = await scientist.submit(owner, { name: "held" });
  await world.settle();
  const intake = await desk.intake();
  assertEquals(
    intake.received.map((k) => k.id).sort(),
    [good.id, bad.id, held.id].sort(),
    "every job arrived whole at the owner",
  );
  assertEquals(intake.rejected, []);

  assertEquals((await desk.approve(good)).status, "approved");
  assertEquals((await desk.reject(bad, "reads more than it needs")).status, "rejected");
  assertEquals((await desk.approve(held)).status, "approved");
  const [ran] = await desk.run(good, { release: true });
  assertEquals(ran!.state.status, "released");
  assertEquals(ran!.state.run?.output_files, 1);
  const [kept] = await desk.run(held);
  assertEquals(kept!.state.status, "done");
  await world.settle();

  assertEquals(scientist.results(owner, good), {
    "outputs/result.txt": `result of ${good.id}\n`,
    "returncode.txt": "0\n",
    "stderr.txt": "",
    "stdout.txt": `ran ${good.id}\n`,
  });
  assertEquals((await scientist.sharedState(owner, good))?.status, "released");
  const rejected = await scientist.sharedState(owner, bad);
  assertEquals(rejected?.status, "rejected");
  assertEquals(rejected?.history.at(-1)?.reason, "reads more than it needs");
  assertEquals(scientist.results(owner, bad), {});

  // The held job ran: the owner has its outputs, the scientist its status only.
  assertEquals(desk.results(owner, held)["outputs/result.txt"], `result of ${held.id}\n`);
  assertEquals((await scientist.sharedState(owner, held))?.status, "done");
  assertEquals(scientist.results(owner, held), {});

  const sent = await wire.plaintexts(ds);
  assert(
    sent.some((t) => t.includes(`result of ${good.id}`)),
    "the tap reads what was released (else the check below proves nothing)",
  );
  for (const secret of [`result of ${held.id}`, `ran ${held.id}`]) {
    assert(!sent.some((t) => t.includes(secret)), `${secret} reached the transport unreleased`);
  }
  assert(
    !sent.some((t) => t.includes(`${held.id}/outputs`) || t.includes(`${held.id}/stdout.txt`)),
    "no object even names the unreleased job's outputs or logs",
  );
});

Deno.test("in memory, a job whose run fails ends failed, and once released the scientist reads why", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  const scientist = siteJobs(ds);
  const desk = siteJobs(owner, {
    script: () => ({ returncode: 3, stdout: "", stderr: "no such column: age\n" }),
  });
  const key = await scientist.submit(owner, { name: "broken" });
  await world.settle();
  await desk.intake();
  await desk.approve(key);
  const [ran] = await desk.run(key, { release: true });
  assertEquals(ran!.state.history.map((h) => h.status), [
    "pending",
    "approved",
    "running",
    "failed",
    "released",
  ]);
  assertEquals(ran!.state.run?.returncode, 3);
  await world.settle();
  assertEquals(scientist.results(owner, key), {
    "returncode.txt": "3\n",
    "stderr.txt": "no such column: age\n",
    "stdout.txt": "",
  });
});

Deno.test("in memory, job ids drawn from a seeded PRNG are the same on every run of the seed", async () => {
  const ids: string[][] = [];
  for (let run = 0; run < 2; run++) {
    const world = new MemoryWorld();
    const owner = await world.site(OWNER);
    const ds = await world.site(DS);
    await world.connect(ds, owner);
    const scientist = siteJobs(ds, { random: prng(7) });
    ids.push([
      (await scientist.submit(owner, { name: "a" })).id,
      (await scientist.submit(owner, { name: "b" })).id,
    ]);
  }
  assertEquals(ids[0], ids[1]);
  assert(/^a-[0-9a-f]{8}$/.test(ids[0]![0]!), ids[0]![0]);
});
