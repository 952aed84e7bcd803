/**
 * Before release the submitter learns the job's status and when it changed,
 * nothing else: no return code, failure reason, output names, counts or
 * sizes. The owner still sees all of it, locally.
 */
import { posix } from "node:path";
import { parse } from "yaml";
import { assert, assertEquals } from "../assert.ts";
import { filesUnder } from "../e2e/_rig.ts";
import { CAROL, code, json, pair, SANDBOX, SECRET, submit } from "./_jobs.ts";

// Leaks what it can through every channel but the logs and outputs: a skipped
// output (a symlink) named after a private row, an output of a chosen size, an
// exit code.
const LEAKY = [
  "#!/usr/bin/env bash",
  'row=$(grep "#" "$SYFT_DATASET_AGES/ages.csv" | tr -c "A-Za-z0-9-" "_")',
  'ln -s /nonexistent "$SYFT_OUTPUT_DIR/$row"',
  'head -c 777 /dev/zero > "$SYFT_OUTPUT_DIR/size.bin"',
  "exit 3",
  "",
].join("\n");

async function secretIn(dir: string): Promise<string[]> {
  const hits: string[] = [];
  for (const rel of await filesUnder(dir)) {
    const text = await Deno.readTextFile(posix.join(dir, rel)).catch(() => "");
    if (rel.includes(SECRET) || text.includes(SECRET)) hits.push(rel);
  }
  return hits;
}

Deno.test("before release the submitter sees only the job's status and when it changed; the owner sees the run", async () => {
  const { w, alice, carol, done } = await pair();
  try {
    const id = await submit(carol, posix.join(w.base, "leaky"), LEAKY);
    await alice.ok(["sync"]);
    await alice.ok(["job", "approve", id]);
    await alice.syft(["job", "run", id, "--sandbox", SANDBOX]);
    await carol.ok(["sync"]);

    const review = posix.join(carol.mirror(alice), `app_data/job/review/${CAROL}/${id}`);
    assertEquals(await filesUnder(review), [
      "status/approved",
      "status/failed",
      "status/running",
      "status/state.yaml",
    ]);
    const text = await Deno.readTextFile(posix.join(review, "status/state.yaml"));
    const state = parse(text) as Record<string, unknown>;
    assertEquals(Object.keys(state).sort(), ["history", "id", "owner", "status", "submitter"]);
    assertEquals(state.status, "failed");
    for (const h of state.history as Record<string, unknown>[]) {
      assertEquals(Object.keys(h).sort(), ["at", "status"], text);
    }
    for (const leak of [/returncode/, /exit/, /skipped/, /output/, /777/, /symlink/]) {
      assert(!leak.test(text), `state.yaml says ${leak}:\n${text}`);
    }
    const seen = json<{ owners: { status: string; run: unknown }[] }>(
      await carol.syft(["job", "show", id, "--json"]),
    );
    assertEquals([seen.owners[0]!.status, seen.owners[0]!.run], ["failed", null]);
    const carolDir = posix.dirname(carol.home);
    assertEquals(await secretIn(carolDir), []);
    assertEquals(await secretIn(w.shared), []);

    // The owner sees how it ran, what was skipped and why, outside its datasite.
    const mine = json<
      {
        owners: {
          run: { returncode: number; skipped: string[]; skipped_count: number };
          history: { reason: string | null }[];
        }[];
      }
    >(await alice.syft(["job", "show", id, "--json"]));
    const run = mine.owners[0]!.run;
    assertEquals(run.returncode, 3);
    assertEquals(run.skipped_count, 1);
    assert(run.skipped[0]!.includes(SECRET), JSON.stringify(run));
    assertEquals(mine.owners[0]!.history.at(-1)!.reason, "exited with code 3");
    // Not in the datasite either (on release `**` there becomes readable).
    assertEquals(await secretIn(posix.join(alice.datasite, "app_data")), []);

    // Release sends the return code, logs and outputs; the skipped names never travel.
    await alice.ok(["job", "release", id]);
    await carol.ok(["sync"]);
    assertEquals((await Deno.readTextFile(posix.join(review, "returncode.txt"))).trim(), "3");
    assertEquals(await secretIn(carolDir), []);
    assertEquals(await secretIn(w.shared), []);
    code(await carol.syft(["job", "wait", id, "--timeout", "10"]), 1);
  } finally {
    await done();
  }
});

Deno.test("a job state an older syft shared whole is cut back to the status at the owner's next sync, and kept for the owner", async () => {
  const { w, alice, carol, done } = await pair();
  try {
    const id = await submit(carol, posix.join(w.base, "old"), "exit 3\n");
    await alice.ok(["sync"]);
    // What an older syft left in the datasite after a run: the whole record.
    const shared = posix.join(alice.datasite, `app_data/job/review/${CAROL}/${id}/status`);
    const legacy = [
      `id: ${id}`,
      `owner: ${alice.email}`,
      `submitter: ${CAROL}`,
      "status: failed",
      "policy_hash: null",
      "network: false",
      "run:",
      "  sandbox: bwrap",
      "  returncode: 3",
      "  output_files: 0",
      "  output_bytes: 0",
      `  skipped: ["${SECRET}: a symbolic link"]`,
      "  started_at: 2026-12-01T00:01:00.000Z",
      "  finished_at: 2026-12-01T00:02:00.000Z",
      "history:",
      `  - {status: pending, at: 2026-12-01T00:00:00.000Z, by: ${alice.email}, how: auto, reason: null}`,
      `  - {status: approved, at: 2026-12-01T00:01:00.000Z, by: ${alice.email}, how: manual, reason: null}`,
      `  - {status: running, at: 2026-12-01T00:01:00.000Z, by: ${alice.email}, how: manual, reason: null}`,
      `  - {status: failed, at: 2026-12-01T00:02:00.000Z, by: ${alice.email}, how: auto, reason: exited with code 3}`,
      "",
    ].join("\n");
    await Deno.writeTextFile(posix.join(shared, "state.yaml"), legacy);
    await Deno.remove(posix.join(alice.home, "jobs", "received"), { recursive: true });
    await alice.ok(["sync"]);
    const text = await Deno.readTextFile(posix.join(shared, "state.yaml"));
    assertEquals(
      Object.keys(parse(text) as Record<string, unknown>).sort(),
      ["history", "id", "owner", "status", "submitter"],
    );
    assert(!text.includes(SECRET) && !text.includes("exited"), text);
    await carol.ok(["sync"]);
    assertEquals(await secretIn(posix.dirname(carol.home)), []);
    const mine = json<{ owners: { run: { returncode: number; skipped: string[] } }[] }>(
      await alice.syft(["job", "show", id, "--json"]),
    );
    assertEquals(mine.owners[0]!.run.returncode, 3);
    assert(mine.owners[0]!.run.skipped[0]!.includes(SECRET));
  } finally {
    await done();
  }
});
