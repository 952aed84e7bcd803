/**
 * Found by the fuzzer (its slowest job-config cases were the longest): the yaml
 * package's own unique-key check is quadratic (32,000 keys, 309 KB: 14.5 s on
 * 2 cores), and the 1 MiB cap allows ~100,000 keys, minutes of CPU for one
 * peer's config.yaml. core/jobs/_fields.ts now finds duplicates in one pass.
 * The bound is loose (a factor of ~10 over the linear time) so it fails only
 * on the quadratic path.
 */
import { parseJobConfig } from "../../core/jobs/config.ts";
import { assert } from "../assert.ts";

Deno.test({
  name: "a config.yaml with many keys is refused or parsed in linear time",
  fn() {
    const text = Array.from({ length: 32_000 }, (_, i) => `k${i}: b\n`).join("");
    const started = performance.now();
    try {
      parseJobConfig(text, "config.yaml");
    } catch {
      // refusing it is the expected outcome; only the time matters here
    }
    const ms = performance.now() - started;
    assert(ms < 2_000, `parsing ${text.length} bytes took ${ms.toFixed(0)} ms`);
  },
});
