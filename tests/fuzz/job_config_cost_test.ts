/**
 * Found by the fuzzer (its slowest job-config cases were the longest): the yaml
 * package's own unique-key check is quadratic (32,000 keys, 309 KB: 14.5 s on
 * 2 cores), and the 1 MiB cap allows ~100,000 keys, minutes of CPU for one
 * peer's config.yaml. core/jobs/_fields.ts now finds duplicates in one pass.
 *
 * Linear against quadratic is judged by growth, not by a wall-clock bound (a
 * bound failed on a loaded machine): 8 times the keys must cost well under 64
 * times the time (measured: 8.8x here, 35x through the yaml package's check).
 * Each size is timed twice, interleaved, and the fastest kept, so a burst of
 * load on the other processes can't fake growth.
 */
import { parseJobConfig } from "../../core/jobs/config.ts";
import { assert } from "../assert.ts";

function config(keys: number): string {
  return Array.from({ length: keys }, (_, i) => `k${i}: b\n`).join("");
}

function parseMs(text: string): number {
  const started = performance.now();
  try {
    parseJobConfig(text, "config.yaml");
  } catch {
    // refusing it is the expected outcome; only the time matters here
  }
  return performance.now() - started;
}

Deno.test({
  name: "a config.yaml with many keys is refused or parsed in linear time",
  fn() {
    const small = config(2_000);
    const large = config(16_000);
    let smallMs = Infinity;
    let largeMs = Infinity;
    for (let i = 0; i < 2; i++) {
      smallMs = Math.min(smallMs, parseMs(small));
      largeMs = Math.min(largeMs, parseMs(large));
    }
    const growth = largeMs / Math.max(smallMs, 1);
    assert(
      growth < 20,
      `8x the keys took ${growth.toFixed(1)}x the time (${smallMs.toFixed(0)} ms, ` +
        `${largeMs.toFixed(0)} ms): quadratic, not linear`,
    );
  },
});
