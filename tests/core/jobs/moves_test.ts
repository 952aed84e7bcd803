import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import {
  answerDecision,
  JOB_STATUSES,
  moveTo,
  pendingState,
  refusedMove,
} from "../../../core/jobs/mod.ts";
import { SyftError } from "../../../core/errors/mod.ts";

const L = "carol@example.org/j-1";
const DS = "carol@example.org";

Deno.test("answerDecision() answers a decision made before with 'already …' (exit 0), as peer approve does", () => {
  assertEquals(answerDecision("approve", "approved", L, DS), {
    kind: "already",
    message: `job ${L} was already approved`,
  });
  assertEquals(answerDecision("approve", "released", L, DS), {
    kind: "already",
    message: `job ${L} was already approved (now released)`,
  });
  assertEquals(answerDecision("reject", "rejected", L, DS).kind, "already");
  assertEquals(answerDecision("release", "released", L, DS), {
    kind: "already",
    message: `job ${L} was already released`,
  });
  assertEquals(answerDecision("run", "done", L, DS).kind, "already");
});

Deno.test("answerDecision() refuses a decision that can no longer be made with a sentence and a hint naming the job", () => {
  const approveRejected = answerDecision("approve", "rejected", L, DS);
  assertEquals(approveRejected.kind, "refuse");
  if (approveRejected.kind === "refuse") {
    assertEquals(
      approveRejected.message,
      `job ${L} was rejected; a rejected job cannot be approved`,
    );
    assertStringIncludes(approveRejected.hint, DS);
  }
  const rejectReleased = answerDecision("reject", "released", L, DS);
  assert(rejectReleased.kind === "refuse");
  assertStringIncludes(rejectReleased.message, "is released");
  for (const status of JOB_STATUSES) {
    for (const d of ["approve", "reject", "run", "release"] as const) {
      const a = answerDecision(d, status, L, DS);
      if (a.kind === "refuse") {
        assertStringIncludes(a.message, L);
        assertStringIncludes(a.hint, L);
      }
      if (a.kind !== "go") assert(!/cannot become/.test(a.message), a.message);
    }
  }
});

Deno.test("moveTo() refuses a move in words, never 'is released and cannot become released'", () => {
  for (const from of JOB_STATUSES) {
    for (const to of JOB_STATUSES) {
      const { message } = refusedMove(from, to, L, DS);
      assert(!message.includes("cannot become"), message);
      assertStringIncludes(message, L);
    }
  }
  const s = pendingState({ id: "j-1", owner: "alice@example.org", submitter: DS }, "t0", false);
  try {
    moveTo(s, {
      status: "released",
      at: "t1",
      by: "alice@example.org",
      how: "manual",
      reason: null,
    });
    throw new Error("moved");
  } catch (err) {
    assert(err instanceof SyftError);
    assertEquals(
      err.message,
      `job ${L} has not finished running (pending): there is nothing to release yet`,
    );
    assertStringIncludes(err.hint ?? "", `syft job approve ${L}`);
  }
});
