import { assertEquals } from "../../assert.ts";
import { mergeSummaries } from "../../../core/sync/session.ts";
import { emptySummary, type RoundSummary } from "../../../core/sync/round.ts";

function summary(over: Partial<RoundSummary>): RoundSummary {
  return { ...emptySummary(), ...over };
}

const failure = {
  peer: "b@x.org",
  direction: "reading" as const,
  error: "unreachable",
  code: "E_TRANSPORT" as const,
};

Deno.test("two rounds of one sync add up, and a channel failing in both is one failure", () => {
  const first = summary({
    sent: 1,
    received: 2,
    problems: ["p1"],
    failures: [failure],
    moved: [{
      peer: "b@x.org",
      received: 2,
      sent: 1,
      received_paths: ["a", "b"],
      sent_paths: ["c"],
    }],
  });
  const second = summary({
    sent: 3,
    problems: ["p2"],
    failures: [failure],
    moved: [
      {
        peer: "b@x.org",
        received: 0,
        sent: 5,
        received_paths: [],
        sent_paths: ["d", "e", "f", "g", "h"],
      },
      { peer: "c@x.org", received: 1, sent: 0, received_paths: ["z"], sent_paths: [] },
    ],
  });
  const both = mergeSummaries(first, second);
  assertEquals([both.sent, both.received, both.problems], [4, 2, ["p1", "p2"]]);
  assertEquals(both.failures.length, 1);
  // Paths stay bounded to the first few; counts keep the whole.
  assertEquals(both.moved, [
    {
      peer: "b@x.org",
      received: 2,
      sent: 6,
      received_paths: ["a", "b"],
      sent_paths: ["c", "d", "e", "f", "g"],
    },
    { peer: "c@x.org", received: 1, sent: 0, received_paths: ["z"], sent_paths: [] },
  ]);
  // The first round's records are not changed by merging.
  assertEquals(first.moved[0]!.sent, 1);
});
