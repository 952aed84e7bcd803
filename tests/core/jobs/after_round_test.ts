import { posix } from "node:path";
import { assertEquals, assertStringIncludes } from "../../assert.ts";
import type { Config } from "../../../core/config/config.ts";
import { receiveJobs } from "../../../core/jobs/after_round.ts";
import { tempDir } from "../../_temp.ts";

function config(root: string): Config {
  return {
    version: 1,
    email: "alice@example.org",
    root,
    transport: "local:/nowhere",
    transports: {},
    created_at: 0,
    sync: {
      checkpoint_threshold: 50,
      compact_threshold: 10,
      gap_timeout_seconds: 60,
      quarantine_mib: 64,
      max_proposals: 10_000,
    },
    jobs: { python_index: null },
    sandbox: { scratch_mib: 256, memory_mib: 4096 },
    gdrive: { full_list_every: 60 },
  };
}

function said() {
  const lines: string[] = [];
  return {
    lines,
    note: (m: string) => lines.push(`note: ${m}`),
    warn: (m: string) => lines.push(`warning: ${m}`),
  };
}

Deno.test("a round that brought no job writes nothing and says nothing", async () => {
  const base = await tempDir();
  const s = said();
  const wrote = await receiveJobs({ home: posix.join(base, "home"), config: config(base), ...s });
  assertEquals([wrote, s.lines], [false, []]);
});

Deno.test("a policy file that cannot be read is a warning, never a failed sync", async () => {
  const base = await tempDir();
  const home = posix.join(base, "home");
  await Deno.mkdir(home);
  await Deno.writeTextFile(posix.join(home, "job_policies.yaml"), "[not: a: list");
  const s = said();
  const wrote = await receiveJobs({ home, config: config(base), ...s });
  assertEquals(wrote, false);
  assertEquals(s.lines.length, 1);
  assertStringIncludes(s.lines[0]!, "warning: checking received jobs failed");
});
