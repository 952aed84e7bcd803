/**
 * Every writable place in the sandbox is capped: /dev holds only the six
 * device nodes (and the /dev/shm link into /tmp), read-only; /tmp, HOME and
 * /dev/shm share the one scratch cap of `sandbox.scratch_mib`; everything else
 * but the outputs is read-only. A job filling every place it can write gets no
 * further than that cap, and the owner's machine keeps nothing of it.
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { approvedJob, SANDBOX, setSandboxSettings } from "./_sandbox_rig.ts";
import { filesUnder } from "../e2e/_rig.ts";

const SCRATCH_MIB = 16;
const CHUNK = 4 * 1024 * 1024;
/** How far the job tries to fill each place: far past the cap, short of hurting the machine. */
const TRY_BYTES = 128 * 1024 * 1024;

const PLACES = [
  "/tmp",
  "/dev/shm",
  "$HOME",
  "/dev",
  "/",
  "/job",
  "/datasets",
  "/datasets/ages",
  "/syft",
  "/proc",
  "/run",
  "/var/tmp",
  "/var",
  "/etc",
  "/usr",
  "/home",
  "/root",
];

const SCRIPT = [
  "#!/usr/bin/env bash",
  'echo "DEV $(ls -A /dev | tr "\\n" " ")"',
  `for p in ${PLACES.map((p) => `"${p}"`).join(" ")}; do`,
  // Names differ per place: /dev/shm is /tmp, and a rewrite must not hide a write.
  "  k=$((k + 1)); total=0; i=0",
  `  while [ "$total" -lt ${TRY_BYTES} ]; do`,
  `    if head -c ${CHUNK} /dev/zero > "$p/.fill$k-$i" 2>/dev/null; then total=$((total + ${CHUNK})); i=$((i + 1));`,
  '    else s=$(stat -c %s "$p/.fill$k-$i" 2>/dev/null || echo 0); total=$((total + s)); break; fi',
  "  done",
  '  echo "WROTE $p $total"',
  "done",
  // One write of 1 GiB into the scratch space fails too (the space is already full).
  'head -c 1073741824 /dev/zero > /tmp/.gib 2>/dev/null && echo "GIB written" || echo "GIB refused"',
  "",
].join("\n");

Deno.test({
  name:
    "a job cannot write more than the scratch cap anywhere but its outputs, and /dev is six read-only nodes",
  ignore: SANDBOX !== "bwrap",
  async fn() {
    const job = await approvedJob(SCRIPT);
    try {
      await setSandboxSettings(job.owner, { scratch_mib: SCRATCH_MIB });
      const run = await job.owner.syft(["job", "run", job.id]);
      assertEquals(run.code, 0, run.stderr);
      await job.owner.ok(["job", "release", job.id]);
      await job.scientist.ok(["sync"]);
      const logs = (await job.scientist.ok(["job", "logs", job.id])).stdout;

      const dev = logs.match(/^DEV (.*)$/m)?.[1]?.trim().split(/\s+/) ?? [];
      assertEquals(dev.sort(), ["full", "null", "random", "shm", "tty", "urandom", "zero"], logs);

      const wrote = new Map<string, number>();
      for (const m of logs.matchAll(/^WROTE (\S+) (\d+)$/gm)) wrote.set(m[1]!, Number(m[2]));
      assertEquals(wrote.size, PLACES.length, logs);
      const cap = SCRATCH_MIB * 1024 * 1024;
      // /tmp, HOME (inside /tmp) and /dev/shm share one cap.
      const scratch = ["/tmp", "/dev/shm", "/tmp/home"].reduce(
        (n, p) => n + (wrote.get(p) ?? 0),
        0,
      );
      assert(
        scratch <= cap,
        `the scratch places took ${scratch} bytes, over the ${cap} cap:\n${logs}`,
      );
      for (const [place, bytes] of wrote) {
        if (["/tmp", "/dev/shm", "/tmp/home"].includes(place)) continue;
        assertEquals(bytes, 0, `${place} took ${bytes} bytes:\n${logs}`);
      }
      assert(logs.includes("GIB refused"), logs);

      // Nothing of the run is left on the owner's side but its (small) results.
      for (const rel of await filesUnder(job.w.base)) {
        const size = (await Deno.stat(posix.join(job.w.base, rel))).size;
        assert(size < 1024 * 1024, `${rel} (${size} bytes) was left on the owner's machine`);
      }
    } finally {
      await job.cleanup();
    }
  },
});
