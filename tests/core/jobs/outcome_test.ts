import { assertEquals } from "../../assert.ts";
import {
  jobOutcome,
  type JobState,
  type JobStatus,
  moveTo,
  nextStep,
  parseJobState,
  pendingState,
  publicStateText,
  type RunRecord,
} from "../../../core/jobs/mod.ts";

const OWNER = "alice@example.org";
const DS = "carol@example.org";

function run(returncode: number | null, timedOut = false): RunRecord {
  return {
    sandbox: "bwrap",
    returncode,
    timed_out: timedOut,
    stdout_truncated: false,
    stderr_truncated: false,
    outputs_truncated: false,
    output_files: 1,
    output_bytes: 2,
    skipped: [],
    skipped_count: 0,
    started_at: "2026-12-01T01:02:00.000Z",
    finished_at: "2026-12-01T01:03:00.000Z",
    error: null,
  };
}

/** The owner's record after walking `path`, the last run ending with `rec`. */
function walk(path: JobStatus[], rec: RunRecord | null = null, reason: string | null = null) {
  let s: JobState = pendingState(
    { id: "j-1", owner: OWNER, submitter: DS },
    "2026-12-01T00:00:00.000Z",
    false,
  );
  for (const [i, status] of path.entries()) {
    const ends = status === "done" || status === "failed" || status === "rejected";
    s = moveTo(
      s,
      {
        status,
        at: `2026-12-01T00:0${i + 1}:00.000Z`,
        by: OWNER,
        how: "manual",
        reason: ends ? reason : null,
      },
      status === "done" || status === "failed" ? { run: rec } : {},
    );
  }
  return s;
}

/** What the submitter reads of it: the shared view only. */
function shared(s: JobState): JobState {
  return parseJobState(publicStateText(s), "state.yaml");
}

function line(s: JobState | null, viewer: "owner" | "submitter", rc: number | null = null) {
  return jobOutcome({ owner: OWNER, viewer, state: s, returncode: rc }).text;
}

Deno.test("jobOutcome() says a released job that failed is failed with its exit code, never released", () => {
  const s = walk(["approved", "running", "failed", "released"], run(3), "exited with code 3");
  assertEquals(line(shared(s), "submitter", 3), "failed (exit 3)");
  assertEquals(line(s, "owner", 3), "failed (exit 3), released");
  const o = jobOutcome({ owner: OWNER, viewer: "submitter", state: shared(s), returncode: 3 });
  assertEquals([o.final, o.succeeded, o.ran, o.released], [true, false, "failed", true]);
});

Deno.test("jobOutcome() shows the submitter no exit code before release, even if one is passed", () => {
  const s = walk(["approved", "running", "failed"], run(3), "exited with code 3");
  assertEquals(line(shared(s), "submitter", 3), "failed, logs not released yet");
  assertEquals(line(s, "owner", 3), "failed (exit 3), not released yet");
  const t = walk(["approved", "running", "failed"], run(null, true), "timed out");
  assertEquals(line(t, "owner", null), "failed (timed out), not released yet");
});

Deno.test("jobOutcome() gives one line per status: pending, rejected with its reason, done, released", () => {
  assertEquals(line(null, "submitter"), "pending (no answer yet)");
  assertEquals(line(walk([]), "submitter"), "pending");
  assertEquals(line(walk(["approved"]), "owner"), "approved");
  assertEquals(line(walk(["approved", "running"]), "submitter"), "running");
  assertEquals(
    line(shared(walk(["rejected"], null, "too broad")), "submitter"),
    "rejected: too broad",
  );
  assertEquals(line(walk(["rejected"]), "owner"), "rejected");
  const done = walk(["approved", "running", "done"], run(0));
  assertEquals(line(shared(done), "submitter"), "done, not released yet");
  const released = moveTo(done, {
    status: "released",
    at: "2026-12-01T01:09:00.000Z",
    by: OWNER,
    how: "manual",
    reason: null,
  });
  assertEquals(line(shared(released), "submitter", 0), "released");
  const o = jobOutcome({
    owner: OWNER,
    viewer: "submitter",
    state: shared(released),
    returncode: 0,
  });
  assertEquals([o.final, o.succeeded], [true, true]);
});

Deno.test("nextStep() suggests waiting only while something can still move, and names the job", () => {
  const at = (s: JobState | null, rc: number | null = null) =>
    jobOutcome({ owner: OWNER, viewer: "submitter", state: s && shared(s), returncode: rc });
  const failed = walk(["approved", "running", "failed", "released"], run(3), "exited with code 3");
  const done = walk(["approved", "running", "done"], run(0));
  const released = walk(["approved", "running", "done", "released"], run(0));
  assertEquals(
    nextStep([at(failed, 3)], "j-1", "submitter"),
    "read why it failed with `syft job logs j-1`",
  );
  assertEquals(nextStep([at(done)], "j-1", "submitter"), "follow it with `syft job wait j-1`");
  assertEquals(
    nextStep([at(released, 0)], "j-1", "submitter"),
    "copy the outputs with `syft job results j-1 --out <dir>`",
  );
  assertEquals(nextStep([at(walk(["rejected"], null, "no"))], "j-1", "submitter"), null);
  assertEquals(
    nextStep([at(walk(["approved", "running", "failed"], run(1), "x"))], "j-1", "submitter"),
    `its logs reach you only if ${OWNER} releases them`,
  );
});
