/**
 * A job reads only datasets its submitter may read: one naming a dataset not
 * shared with them (`--users`, or a revoked read on its mock) is rejected at
 * intake with that reason, without telling a hidden dataset from a missing
 * one, and `job approve` refuses it when the share went away later.
 */
import { posix } from "node:path";
import { assertEquals, assertMatch } from "../assert.ts";
import { code, dataset, forge, ownerView, pair, submit } from "./_jobs.ts";

Deno.test("a job naming a dataset not shared with its submitter is rejected at intake and refused at approval", async () => {
  const { w, alice, carol, done } = await pair();
  try {
    await dataset(w, alice, "secret", ["--users", "dave@example.org"]);
    // Carol cannot see `secret`, so syft would not send this job: forge it.
    await forge(carol, alice, "peek-00000001", { datasets: ["secret"] });
    await forge(carol, alice, "peek-00000002", { datasets: ["nothing"] });
    await carol.ok(["sync"]);
    await alice.ok(["sync"]);
    const hidden = await ownerView(alice, "peek-00000001");
    const missing = await ownerView(alice, "peek-00000002");
    assertEquals([hidden.status, missing.status], ["rejected", "rejected"]);
    const reason = hidden.history.at(-1)!.reason ?? "";
    assertMatch(reason, /dataset secret .*not shared with carol@example\.org/);
    // The same words for a dataset that does not exist: no way to probe names.
    assertEquals(missing.history.at(-1)!.reason, reason.replace("secret", "nothing"));
    code(await alice.syft(["job", "approve", "peek-00000001"]), 2);

    // Shared at submission, no longer at approval: refused, and the job waits.
    await dataset(w, alice, "cohort", ["--users", "carol@example.org"]);
    await alice.ok(["sync"]);
    await carol.ok(["sync"]);
    const id = await submit(carol, posix.join(w.base, "c"), "echo hi\n", ["--dataset", "cohort"]);
    await alice.ok(["sync"]);
    assertEquals((await ownerView(alice, id)).status, "pending");
    await alice.ok(["perm", "revoke", "public/syft_datasets/cohort/", "carol@example.org"]);
    const refused = await alice.syft(["job", "approve", id]);
    code(refused, 3);
    assertMatch(refused.stderr, /^error: .*not shared with carol@example\.org/m);
    assertMatch(refused.stderr, /^hint: /m);
    assertEquals((await ownerView(alice, id)).status, "pending");
    await alice.ok([
      "perm",
      "grant",
      "public/syft_datasets/cohort/",
      "carol@example.org",
      "--read",
    ]);
    await alice.ok(["job", "approve", id]);
  } finally {
    await done();
  }
});
