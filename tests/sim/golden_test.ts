/** Marker names normalise to a pattern a golden table can name before the run. */
import { assertEquals } from "../assert.ts";
import { markerPattern, shown } from "./_golden.ts";

Deno.test("a marker's time becomes * and anything else is left alone", () => {
  assertEquals(markerPattern("public/x.csv.rejected.20261205T011502Z"), "public/x.csv.rejected.*");
  assertEquals(markerPattern("a/x.csv.conflict.20261205T011502Z-2"), "a/x.csv.conflict.*");
  // Older versions named markers with epoch milliseconds (protocol.md §9).
  assertEquals(markerPattern("x.csv.rejected.1764896102000"), "x.csv.rejected.*");
  assertEquals(markerPattern("x.rejected.csv"), "x.rejected.csv");
  assertEquals(markerPattern("x.csv.conflict.today"), "x.csv.conflict.today");
});

Deno.test("a long content is shown by its length and start, a short one as it is", () => {
  assertEquals(shown("v1"), "v1");
  assertEquals(shown("ab".repeat(100)), "<200 chars: abababab…>");
});
