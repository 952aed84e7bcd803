/**
 * A job's memory is capped at `sandbox.memory_mib`, through a cgroup where one
 * can be had and RLIMIT_AS otherwise, and both `doctor` and `job run` say which.
 * A job that tries to hold more fails inside the sandbox; the owner's runner
 * carries on.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { approvedJob, setSandboxSettings } from "./_sandbox_rig.ts";

const MEMORY_MIB = 64;

Deno.test("a job cannot hold more memory than sandbox.memory_mib, and doctor and job run name the cap", async () => {
  const job = await approvedJob([
    "#!/usr/bin/env bash",
    // 256 MiB held in the shell's own memory, four times the cap.
    "x=$(head -c 268435456 /dev/zero | tr '\\0' a)",
    'echo "ALLOCATED ${#x}"',
    "",
  ].join("\n"));
  try {
    await setSandboxSettings(job.owner, { memory_mib: MEMORY_MIB });
    const cap = new RegExp(`memory cap ${MEMORY_MIB} MiB \\((cgroup|RLIMIT_AS)\\)`);
    const doctor = JSON.parse((await job.owner.syft(["doctor", "--json"])).stdout) as {
      checks: Array<{ name: string; detail: string }>;
    };
    assertMatch(doctor.checks.find((c) => c.name === "memory")?.detail ?? "", cap);

    const run = await job.owner.syft(["job", "run", job.id]);
    // The job fails (a negative answer, exit 1); the runner says so and carries on.
    assertEquals(run.code, 1, run.stderr);
    assertMatch(run.stdout, / failed \(/);
    assertMatch(run.stdout, cap);
    await job.owner.ok(["job", "release", job.id]);
    await job.scientist.ok(["sync"]);
    const logs = await job.scientist.ok(["job", "logs", job.id]);
    assertEquals(logs.stdout.includes("ALLOCATED 268435456"), false, logs.stdout);
  } finally {
    await job.cleanup();
  }
});
