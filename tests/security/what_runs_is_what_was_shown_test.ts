/**
 * What runs is what was shown: `job show` prints the job's content hash,
 * `job approve --hash` refuses (exit 3) other content, a job whose files no
 * longer match is rejected and the command says so with a non-zero exit, and
 * the run refuses content that no longer hashes as approved.
 */
import { posix } from "node:path";
import { assertEquals, assertMatch } from "../assert.ts";
import { sha256Hex } from "../../core/crypto/hash.ts";
import { parseJobConfig, reviewJobFolder, serializeJobConfig } from "../../core/jobs/mod.ts";
import { filesUnder } from "../e2e/_rig.ts";
import { CAROL, code, json, ownerView, pair, SANDBOX, submit } from "./_jobs.ts";

Deno.test("job approve runs only what job show showed: another hash or changed files are refused", async () => {
  const { w, alice, carol, done } = await pair();
  try {
    const id = await submit(carol, posix.join(w.base, "a"), "echo a\n");
    await alice.ok(["sync"]);
    const shown = json<{ hash: string }>(await alice.syft(["job", "show", id, "--json"]));
    assertMatch(shown.hash, /^[0-9a-f]{64}$/);
    assertMatch((await alice.ok(["job", "show", id])).stdout, new RegExp(`hash:\\s+${shown.hash}`));

    // A hash the owner was not shown: refused, and the job waits.
    const wrong = await alice.syft(["job", "approve", id, "--hash", "0".repeat(64)]);
    code(wrong, 3);
    assertMatch(wrong.stderr, /^error: .*content hash/m);
    assertEquals(wrong.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
    assertEquals((await ownerView(alice, id)).status, "pending");

    // The files change on disk after `job show` (the config rewritten to match):
    // the content is no longer what arrived, so it is rejected, loudly.
    const inbox = posix.join(alice.datasite, `app_data/job/inbox/${CAROL}/${id}`);
    const evil = "echo evil\n";
    await Deno.writeTextFile(posix.join(inbox, "run.sh"), evil);
    const cfgFile = posix.join(inbox, "config.yaml");
    const cfg = parseJobConfig(await Deno.readTextFile(cfgFile), cfgFile);
    cfg.files = cfg.files.map((f) =>
      f.path === "run.sh" ? { ...f, sha256: sha256Hex(new TextEncoder().encode(evil)) } : f
    );
    await Deno.writeTextFile(cfgFile, serializeJobConfig(cfg));
    const changed = await alice.syft(["job", "approve", id, "--hash", shown.hash]);
    code(changed, 3);
    assertMatch(changed.stderr, /^error: .*rejected: its files changed after it was received$/m);
    assertEquals((await ownerView(alice, id)).status, "rejected");
    // Nor can the changed folder become an auto-approval policy.
    code(await alice.syft(["job", "policy", "add", "changed", "--from", id]), 3);

    // A file that no longer matches its hash: rejected, and the exit says so.
    const id2 = await submit(carol, posix.join(w.base, "b"), "echo b\n");
    await alice.ok(["sync"]);
    const inbox2 = posix.join(alice.datasite, `app_data/job/inbox/${CAROL}/${id2}`);
    await Deno.writeTextFile(posix.join(inbox2, "run.sh"), evil);
    const tampered = await alice.syft(["job", "approve", id2]);
    assertEquals(tampered.code !== 0, true, tampered.stderr);
    assertMatch(tampered.stderr, /^error: .*rejected: run\.sh does not match its SHA-256/m);
    assertEquals((await ownerView(alice, id2)).status, "rejected");

    // Approved with the hash shown; changed afterwards on disk: the run refuses it.
    const id3 = await submit(carol, posix.join(w.base, "c"), 'echo c > "$SYFT_OUTPUT_DIR/c.txt"\n');
    await alice.ok(["sync"]);
    const hash3 = json<{ hash: string }>(await alice.syft(["job", "show", id3, "--json"])).hash;
    const approved = json<{ status: string; hash: string }>(
      await alice.syft(["job", "approve", id3, "--hash", hash3, "--json"]),
    );
    assertEquals([approved.status, approved.hash], ["approved", hash3]);
    await Deno.writeTextFile(
      posix.join(alice.datasite, `app_data/job/inbox/${CAROL}/${id3}`, "run.sh"),
      evil,
    );
    const refused = await alice.syft(["job", "run", id3, "--sandbox", SANDBOX]);
    code(refused, 3);
    assertMatch(refused.stderr, /^error: refused to run .*(does not match|differ)/m);
    assertEquals(
      await filesUnder(posix.join(alice.datasite, reviewJobFolder(CAROL, id3), "outputs")),
      [],
    );
    const after = await ownerView(alice, id3);
    assertEquals(after.status, "failed");
    assertMatch(after.history.at(-1)!.reason ?? "", /does not match|differ/);
  } finally {
    await done();
  }
});
