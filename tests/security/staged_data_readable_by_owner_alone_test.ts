/**
 * Private data is readable by its owner alone, also during a run: while a job
 * runs, another local user finds the staged dataset nowhere — not in shared
 * folders (/tmp, /var/tmp, /dev/shm), not under the owner's folders, not
 * through the job's `/proc/<pid>/root` — and the job's uid is its own, not the
 * `nobody` every other unprivileged daemon shares.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { accountIds } from "../../core/sandbox/run_uid.ts";
import { approvedJob } from "./_sandbox_rig.ts";

const OTHER = "65534";

async function sh(argv: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: r.code,
    out: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr),
  };
}

/** Pids of host processes whose command line holds `marker`. */
async function pidsOf(marker: string): Promise<string[]> {
  const r = await sh(["pgrep", "-f", marker]);
  return r.out.split("\n").filter((l) => /^\d+$/.test(l));
}

/** What uid 65534 (any other local user) can find of `secret` now. */
async function otherUserFinds(secret: string, pids: string[], places: string[]): Promise<string> {
  const script = [
    "secret=$1; shift; n=$1; shift",
    'places=("${@:1:$n}"); shift "$n"',
    // The job's own view first (through /proc, while it surely still runs), then every
    // place another user could look.
    'for pid in "$@"; do',
    '  grep -rlsF -- "$secret" "/proc/$pid/root/datasets" "/proc/$pid/cwd" "/proc/$pid/root/tmp" 2>/dev/null',
    '  cat "/proc/$pid/root/datasets/ages/ages.csv" 2>/dev/null',
    "done",
    'for p in "${places[@]}"; do grep -rlsF -- "$secret" "$p" 2>/dev/null; done',
    "true",
  ].join("\n");
  const r = await sh([
    "setpriv",
    `--reuid=${OTHER}`,
    `--regid=${OTHER}`,
    "--clear-groups",
    "--",
    "bash",
    "-c",
    script,
    "probe",
    secret,
    String(places.length),
    ...places,
    ...pids,
  ]);
  return r.out;
}

Deno.test({
  name: "another local user cannot read a job's private data while it runs (own uid, 0700 staging)",
  ignore: Deno.uid() !== 0,
  async fn() {
    const marker = `7.${String(Date.now()).slice(-6)}`;
    const job = await approvedJob(
      [
        "#!/usr/bin/env bash",
        'echo "uid $(id -u)"',
        'echo "rows $(grep -c . "$SYFT_DATASET_AGES/ages.csv")"',
        `sleep ${marker}`,
        "",
      ].join("\n"),
    );
    try {
      const running = job.owner.syft(["job", "run", job.id]);
      let pids: string[] = [];
      const until = Date.now() + 60_000;
      while (pids.length === 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
        pids = await pidsOf(`sleep ${marker}`);
      }
      assert(pids.length > 0, "the job never started");
      const found = await otherUserFinds(job.secret, pids, [
        "/tmp",
        "/var/tmp",
        "/dev/shm",
        job.w.base,
        job.owner.home,
      ]);
      const run = await running;
      assertEquals(run.code, 0, run.stderr);
      assertEquals(found.includes(job.secret), false, `another user read the data:\n${found}`);
      assertEquals(found.trim(), "", `another user found staged files:\n${found}`);

      // The job did read its data, as a uid of its own (not nobody, no account).
      await job.owner.ok(["job", "release", job.id]);
      await job.scientist.ok(["sync"]);
      const logs = await job.scientist.ok(["job", "logs", job.id]);
      assertStringIncludes(logs.stdout, "rows 3");
      const uid = Number(logs.stdout.match(/uid (\d+)/)?.[1]);
      assert(Number.isInteger(uid), logs.stdout);
      assert(uid !== 65534, "the job ran as the shared nobody uid");
      const passwd = accountIds(await Deno.readTextFile("/etc/passwd"));
      assert(!passwd.has(uid), `the job ran as an account's uid ${uid}`);
    } finally {
      await job.cleanup();
    }
  },
});
