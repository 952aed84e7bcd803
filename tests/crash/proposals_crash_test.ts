/**
 * Crash points of a round that judges proposals (issue 16, item 4, scenario
 * c): a peer proposes new files, an edit and a deletion in its inbox at the
 * owner, and a write the owner refuses; the owner dies after any operation of
 * the round that applies and judges them. Restarted, each proposal is applied
 * once (a second application would leave a `.conflict` copy, a second refusal
 * a second `.rejected` one), and both sides converge.
 */
import { assert, assertEquals } from "../assert.ts";
import { DS, INBOX, INBOX_REL, judging, OWNER, proposing } from "./_scenarios.ts";
import { disagreements, timedSweep } from "./_sweep.ts";

Deno.test("a crash anywhere in the owner's round that applies and judges proposals: each applied once, both sides converge", async () => {
  const r = await judging();
  assertEquals(r.after[`${INBOX}/job1/run.sh`], "echo hello\n", "the recorded round applied them");
  assertEquals(r.after[`${INBOX}/job0/notes.txt`], undefined);
  assertEquals(r.after[`${OWNER}/public/readme.txt`], "owner's version");
  const result = await timedSweep(r, {
    judge: (w) => {
      const problems = disagreements(w, OWNER, DS, ["public/", INBOX_REL]);
      const copies = [...w.site.get(DS)!.files(OWNER)].filter((f) => f.includes(".rejected."));
      if (copies.length !== 1) problems.push(`${copies.length} .rejected copies at the proposer`);
      return problems;
    },
  });
  assertEquals(result.failures, []);
  assert(result.points.barrier > 3, `only ${result.points.barrier} barriers`);
});

Deno.test("a crash anywhere in the proposer's round that proposes: each proposal reaches the owner once, both sides converge", async () => {
  const r = await proposing();
  assert(r.rec.ops.some((o) => o.kind === "note" && o.path.startsWith("put b-")), "it proposed");
  const result = await timedSweep(r, {
    judge: (w) => {
      const problems = disagreements(w, OWNER, DS, ["public/", INBOX_REL]);
      const owner = w.site.get(OWNER)!;
      if (owner.read(`${INBOX}/job1/run.sh`) !== "echo hello\n") problems.push("job1 not applied");
      if (owner.read(`${INBOX}/job0/run.sh`) !== "echo edited\n") problems.push("job0 edit lost");
      if (owner.read(`${INBOX}/job0/notes.txt`) !== null) problems.push("notes not withdrawn");
      const copies = w.site.get(DS)!.files(OWNER).filter((f) => f.includes(".rejected."));
      if (copies.length !== 1) problems.push(`${copies.length} .rejected copies at the proposer`);
      return problems;
    },
  });
  assertEquals(result.failures, []);
  assert(result.points.barrier > 3, `only ${result.points.barrier} barriers`);
});
