/**
 * What every sync does for jobs after a round: record the jobs that arrived,
 * and approve, run and release those an auto-approval policy covers. Returns
 * whether it wrote anything, so the caller can publish it in another round.
 * @module
 */
import { posix } from "node:path";
import type { Config } from "../core/config/config.ts";
import { homeLayout } from "../core/config/home.ts";
import { describeError } from "../core/errors/mod.ts";
import {
  intakeJobs,
  type JobKey,
  jobLabel,
  type OwnerDesk,
  POLICY_FILE,
  readPolicies,
} from "../core/jobs/mod.ts";
import { PeerStore } from "../core/peers/store.ts";
import type { Context } from "./context.ts";
import { describeOutcome, ownerDesk, resolveSandbox, runJobs, runnerOptions } from "./job_exec.ts";

/** Policy runs started by `--watch`, one after another, so rounds go on meanwhile. */
let backgroundRuns: Promise<void> = Promise.resolve();

/**
 * One intake pass; problems are warnings, never a failed sync. With
 * `background` (sync --watch) the jobs a policy approved run while the loop
 * keeps syncing: their results wake the edit watcher when they land. Without
 * it (one `syft sync`) they run before it returns, so its second round
 * publishes them.
 */
export async function receiveJobs(
  ctx: Context,
  config: Config,
  options: { background?: boolean } = {},
): Promise<boolean> {
  try {
    const layout = homeLayout(ctx.home);
    const listing = await new PeerStore(layout.peers).list();
    const peers = new Set(
      listing.records.filter((r) => r.state === "accepted").map((r) => r.email),
    );
    const policies = await readPolicies(posix.join(ctx.home, POLICY_FILE));
    const desk = ownerDesk(ctx, config);
    const r = await intakeJobs(desk, config.root, peers, policies);
    for (const key of r.received) {
      ctx.out.note(
        `job ${jobLabel(key)} arrived: review it with \`syft job show ${jobLabel(key)}\``,
      );
    }
    for (const { key, reason } of r.rejected) {
      ctx.out.warn(`job ${jobLabel(key)} arrived and was rejected: ${reason}`);
    }
    for (const p of r.problems) ctx.out.warn(p);
    if (r.byPolicy.length > 0) {
      const run = () => runByPolicy(ctx, config, desk, r.byPolicy);
      if (options.background) backgroundRuns = backgroundRuns.then(run);
      else await run();
    }
    return r.received.length + r.rejected.length + r.byPolicy.length + r.republished.length > 0;
  } catch (err) {
    ctx.out.warn(`checking received jobs failed: ${describeError(err)}`);
    return false;
  }
}

/** Run and release the jobs policies approved; failures are warnings (the jobs stay approved). */
async function runByPolicy(
  ctx: Context,
  config: Config,
  desk: OwnerDesk,
  approved: readonly { key: JobKey; policy: string }[],
): Promise<void> {
  try {
    const mode = await resolveSandbox(ctx, "auto");
    const byPolicy = new Map(approved.map((p) => [jobLabel(p.key), `policy:${p.policy}`]));
    const outcomes = await runJobs(
      ctx,
      desk,
      approved.map((p) => p.key),
      runnerOptions(ctx, config, mode, {}),
      (k) => byPolicy.get(jobLabel(k)) ?? null,
    );
    for (const o of outcomes) {
      ctx.out.note(`${byPolicy.get(jobLabel(o.key))} ran ${describeOutcome(o, mode)}`);
    }
  } catch (err) {
    ctx.out.warn(`jobs approved by a policy wait: ${describeError(err)}`);
  }
}
