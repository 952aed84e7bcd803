/**
 * What every sync does for jobs after a round: record the jobs that arrived,
 * and approve, run and release those an auto-approval policy covers. It
 * prints nothing: what it has to say goes to the caller's `note` and `warn`.
 * @module
 */
import { posix } from "node:path";
import type { Config } from "../config/config.ts";
import { homeLayout } from "../config/home.ts";
import { describeError } from "../errors/mod.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { PeerStore } from "../peers/store.ts";
import { requireBubblewrap } from "../sandbox/mod.ts";
import type { OwnerDesk } from "./desk.ts";
import { intakeJobs } from "./intake.ts";
import { type JobKey, jobLabel } from "./layout.ts";
import { POLICY_FILE, readPolicies } from "./policies.ts";
import { describeOutcome, ownerDesk, runJobs, runnerOptions } from "./run_batch.ts";

/** Where the intake runs and where its lines go. */
export interface IntakeSetup {
  home: string;
  config: Config;
  note(message: string): void;
  warn(message: string): void;
  /** Where the home and the datasite are; the disk by default. */
  fs?: LocalFs;
}

/** Policy runs started by `--watch`, one after another, so rounds go on meanwhile. */
let backgroundRuns: Promise<void> = Promise.resolve();

/**
 * One intake pass; problems are warnings, never a failed sync. With
 * `background` (sync --watch) the jobs a policy approved run while the loop
 * keeps syncing: their results wake the edit watcher when they land. Without
 * it (one `syft sync`) they run before it returns, so its second round
 * publishes them. Returns whether it wrote anything, so the caller can
 * publish it in another round.
 */
export async function receiveJobs(
  setup: IntakeSetup,
  options: { background?: boolean } = {},
): Promise<boolean> {
  const { home, config, note, warn } = setup;
  try {
    const fs = setup.fs;
    const listing = await new PeerStore(homeLayout(home).peers, fs).list();
    const peers = new Set(
      listing.records.filter((r) => r.state === "accepted").map((r) => r.email),
    );
    const policies = await readPolicies(posix.join(home, POLICY_FILE), fs);
    const desk = ownerDesk(home, config, fs ? { fs } : {});
    const r = await intakeJobs(desk, config.root, peers, policies);
    for (const key of r.received) {
      note(`job ${jobLabel(key)} arrived: review it with \`syft job show ${jobLabel(key)}\``);
    }
    for (const { key, reason } of r.rejected) {
      warn(`job ${jobLabel(key)} arrived and was rejected: ${reason}`);
    }
    for (const p of r.problems) warn(p);
    if (r.byPolicy.length > 0) {
      const run = () => runByPolicy(setup, desk, r.byPolicy);
      if (options.background) backgroundRuns = backgroundRuns.then(run);
      else await run();
    }
    return r.received.length + r.rejected.length + r.byPolicy.length + r.republished.length > 0;
  } catch (err) {
    warn(`checking received jobs failed: ${describeError(err)}`);
    return false;
  }
}

/** Run and release the jobs policies approved; failures are warnings (the jobs stay approved). */
async function runByPolicy(
  setup: IntakeSetup,
  desk: OwnerDesk,
  approved: readonly { key: JobKey; policy: string }[],
): Promise<void> {
  try {
    // A policy never runs a job unsandboxed: without bubblewrap it waits.
    await requireBubblewrap();
    const mode = "bwrap";
    const byPolicy = new Map(approved.map((p) => [jobLabel(p.key), `policy:${p.policy}`]));
    const outcomes = await runJobs({
      home: setup.home,
      desk,
      keys: approved.map((p) => p.key),
      options: runnerOptions(setup.home, setup.config, mode, {}),
      release: (k) => byPolicy.get(jobLabel(k)) ?? null,
      note: setup.note,
    });
    for (const o of outcomes) {
      setup.note(`${byPolicy.get(jobLabel(o.key))} ran ${describeOutcome(o, mode)}`);
    }
  } catch (err) {
    setup.warn(`jobs approved by a policy wait: ${describeError(err)}`);
  }
}
