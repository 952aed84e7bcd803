/** The suite's hardening counts: lines summed by label, anything else ignored. */
import { assertEquals } from "../assert.ts";
import { sumCounts } from "../_counts.ts";

Deno.test("counts of the hardening suites are summed by label, in first-seen order", () => {
  const sums = sumCounts("sim seeds 1000\nfuzz cases 100000\nsim seeds 1000\n\nnoise\n");
  assertEquals([...sums], [["sim seeds", 2000], ["fuzz cases", 100000]]);
});
