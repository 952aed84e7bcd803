/**
 * A received job is immutable: once the owner recorded it, a later proposal
 * that changes, adds or deletes one of its files is refused, while it is still
 * pending too (a new version is a new job id).
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { put } from "../e2e/_rig.ts";
import { ALICE, CAROL, json, ownerView, pair, SANDBOX, submit } from "./_jobs.ts";

Deno.test("a pending job cannot be changed by its submitter: later proposals to its folder are refused", async () => {
  const { w, alice, carol, done } = await pair();
  try {
    const v1 = 'echo v1 > "$SYFT_OUTPUT_DIR/v.txt"\n';
    const id = await submit(carol, posix.join(w.base, "j"), v1);
    await alice.ok(["sync"]);
    assertEquals((await ownerView(alice, id)).status, "pending");
    const shown = json<{ hash: string }>(await alice.syft(["job", "show", id, "--json"]));

    // The submitter rewrites run.sh and adds a file, while the owner is still reviewing it.
    const folder = `app_data/job/inbox/${CAROL}/${id}`;
    const mirror = posix.join(carol.mirror(alice), folder);
    const v2 = 'echo v2 > "$SYFT_OUTPUT_DIR/v.txt"\n';
    await Deno.writeTextFile(posix.join(mirror, "run.sh"), v2);
    await put(mirror, "lib.sh", "echo sneaky\n");
    await carol.ok(["sync"]);
    const synced = json<{ rejected: number }>(await alice.syft(["sync", "--json"]));
    assert(synced.rejected >= 1, JSON.stringify(synced));
    // A new config.yaml that matches the new run.sh is refused as well.
    await put(
      mirror,
      "config.yaml",
      (await Deno.readTextFile(posix.join(alice.datasite, folder, "config.yaml")))
        .replace(/name: .*/, "name: changed"),
    );
    await carol.ok(["sync"]);
    const again = json<{ rejected: number }>(await alice.syft(["sync", "--json"]));
    assert(again.rejected >= 1, JSON.stringify(again));

    const own = posix.join(alice.datasite, folder);
    assertEquals(await Deno.readTextFile(posix.join(own, "run.sh")), v1);
    assertEquals(await Deno.lstat(posix.join(own, "lib.sh")).catch(() => null), null);
    assert(!(await Deno.readTextFile(posix.join(own, "config.yaml"))).includes("name: changed"));
    assertEquals((await ownerView(alice, id)).status, "pending");

    // What was shown is what is approved and what runs.
    await alice.ok(["job", "approve", id, "--hash", shown.hash]);
    await alice.ok(["job", "run", id, "--sandbox", SANDBOX, "--release"]);
    await carol.ok(["sync"]);
    const out = posix.join(w.base, "out");
    await carol.ok(["job", "results", id, "--out", out]);
    assertEquals(await Deno.readTextFile(posix.join(out, ALICE, "outputs/v.txt")), "v1\n");
  } finally {
    await done();
  }
});
