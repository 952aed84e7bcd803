/**
 * The job loop says what happened, once per owner (issue 14, items 7 and
 * 10): a failing script reads `failed (exit 3)` on both sides, never
 * `released` then "did not succeed"; `job run --release` says it failed and
 * exits 1; repeated decisions answer "already …" with exit 0, impossible ones
 * say why; hints name the job and suggest waiting only while something can
 * move; a job's name works wherever its id does, unless two jobs share it.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { ALICE, CAROL, code, json, pair, SANDBOX, submit } from "../security/_jobs.ts";

Deno.test("a failed, a rejected and a repeated decision each read as one true line per owner, with hints naming the job", async () => {
  const { w, alice, carol, done } = await pair();
  try {
    const failing = await submit(carol, posix.join(w.base, "f"), "echo working\nexit 3\n", [
      "--name",
      "fails",
    ]);
    const broad = await submit(carol, posix.join(w.base, "b"), "echo hi\n", ["--name", "twice"]);
    const again = await submit(carol, posix.join(w.base, "c"), "echo ho\n", ["--name", "twice"]);
    await alice.ok(["sync"]);

    // Approving by name, twice: the second answers like `peer approve` does.
    assertMatch((await alice.ok(["job", "approve", "fails"])).stdout, /approved/);
    const twice = await alice.ok(["job", "approve", "fails"]);
    assertEquals(twice.stdout.trim(), `job ${CAROL}/${failing} was already approved`);

    // A failing run with --release says it failed, what was released, and exits 1.
    const run = await alice.syft(["job", "run", "fails", "--sandbox", SANDBOX, "--release"]);
    code(run, 1);
    assertMatch(
      run.stdout,
      new RegExp(
        `^${CAROL}/${failing} failed \\(exit 3\\), released \\(sandbox ${SANDBOX}\\): ` +
          `${CAROL} gets its logs and 0 output file\\(s\\) at their next sync$`,
        "m",
      ),
    );
    assertMatch(run.stderr, new RegExp(`^error: job ${CAROL}/${failing} failed$`, "m"));
    assertMatch(
      run.stderr,
      new RegExp(`^hint: read why with \`syft job logs ${CAROL}/${failing}\`$`, "m"),
    );

    // Releasing or approving again changes nothing and says so; rejecting it now cannot be.
    assertEquals(
      (await alice.ok(["job", "release", failing])).stdout.trim(),
      `job ${CAROL}/${failing} was already released`,
    );
    const late = await alice.syft(["job", "reject", failing]);
    code(late, 2);
    assertMatch(
      late.stderr,
      /^error: job .* is released: carol@example\.org has its logs and outputs, so it can no longer be rejected$/m,
    );

    // Rejected by name; rejecting again is no error; approving it now is refused, saying why.
    const ambiguous = await alice.syft(["job", "reject", "twice"]);
    code(ambiguous, 2);
    assertStringIncludes(ambiguous.stderr, `2 jobs are named "twice"`);
    assertStringIncludes(ambiguous.stderr, `name one: `);
    assertStringIncludes(ambiguous.stderr, broad);
    assertStringIncludes(ambiguous.stderr, again);
    await alice.ok(["job", "reject", broad, "--reason", "too broad"]);
    assertMatch((await alice.ok(["job", "reject", broad])).stdout, /was already rejected$/m);
    const revive = await alice.syft(["job", "approve", broad]);
    code(revive, 2);
    assertMatch(revive.stderr, /^error: job .* was rejected; a rejected job cannot be approved$/m);
    assertMatch(revive.stderr, new RegExp(`^hint: .*syft job show ${CAROL}/${broad}`, "m"));
    for (const r of [twice, run, late, revive]) {
      assert(!/cannot become/.test(r.stdout + r.stderr), r.stderr);
    }

    // The scientist, by name: one line per owner, the exit code now released, no hint to wait.
    const waited = await carol.syft(["job", "wait", "fails", "--timeout", "30"]);
    code(waited, 1);
    assertEquals(waited.stdout, `${ALICE}: failed (exit 3)\n`);
    assert(!waited.stdout.includes("released"), waited.stdout);
    assertMatch(
      waited.stderr,
      new RegExp(`^error: job ${failing} did not succeed at ${ALICE}$`, "m"),
    );
    assertMatch(
      waited.stderr,
      new RegExp(`^hint: read why it failed with \`syft job logs ${failing}\`$`, "m"),
    );
    const list = (await carol.ok(["job", "list"])).stdout;
    assertMatch(list, new RegExp(`^${failing} .*failed \\(exit 3\\)`, "m"));

    const rejected = await carol.syft(["job", "wait", broad, "--timeout", "30"]);
    code(rejected, 1);
    assertEquals(rejected.stdout, `${ALICE}: rejected: too broad\n`);
    assert(!rejected.stderr.includes("job wait"), rejected.stderr);
    const nothing = await carol.syft(["job", "results", broad]);
    code(nothing, 1);
    assertMatch(nothing.stdout, /rejected: too broad: nothing to copy yet/);
    assertEquals(nothing.stderr.includes("hint:"), false, nothing.stderr);

    // A job not final anywhere: waiting is what helps, and the hint says which job.
    const pending = await carol.syft(["job", "results", again]);
    code(pending, 1);
    assertMatch(
      pending.stderr,
      new RegExp(`^hint: follow it with \`syft job wait ${again}\`$`, "m"),
    );
    const shown = json<{ id: string; owners: { outcome: string }[] }>(
      await carol.syft(["job", "show", "fails", "--json"]),
    );
    assertEquals([shown.id, shown.owners[0]!.outcome], [failing, "failed (exit 3)"]);

    // Run without --release, then `job run --release` again: the release is what was asked.
    await alice.ok(["job", "approve", again]);
    await alice.ok(["job", "run", again, "--sandbox", SANDBOX]);
    const late2 = await alice.ok(["job", "run", again, "--sandbox", SANDBOX, "--release"]);
    assertMatch(late2.stdout, new RegExp(`^${CAROL}/${again} released: `, "m"));
  } finally {
    await done();
  }
});
