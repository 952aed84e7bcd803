/**
 * `syft status [--json]`
 * @module
 */
import type { Command } from "commander";
import { loadConfig } from "../core/config/load.ts";
import { gatherStatus, PEER_STATES } from "../core/status/report.ts";
import { describeRefusal } from "../core/sync/refusals.ts";
import { type Context, withContext } from "./context.ts";

/** Register `syft status`. */
export function registerStatus(program: Command): void {
  program
    .command("status")
    .summary("identity, transport, peers, last sync, quarantined objects, problems")
    .action(withContext(runStatus));
}

/** `syft status` itself, for the parser (above) and the direct route (cli/direct_run.ts). */
export async function runStatus(ctx: Context): Promise<void> {
  const config = await loadConfig(ctx.home);
  const report = await gatherStatus(ctx.home, config);
  ctx.out.result(report, (r) => {
    const peers = PEER_STATES.filter((s) => r.peers[s] > 0).map((s) => `${r.peers[s]} ${s}`);
    ctx.out.fields([
      ["identity", r.email],
      ["fingerprint", r.fingerprint],
      ["home", r.home],
      ["datasite", r.datasite],
      ["transport", r.transport],
      ...Object.entries(r.transports).map(([name, spec]) => [`transport ${name}`, spec] as const),
      ["peers", peers.length ? peers.join(", ") : "none yet (syft peer add <email>)"],
      ["last sync", r.last_sync ?? "never"],
      ["pending jobs", String(r.pending_jobs)],
      ["quarantined", r.quarantined.length ? `${r.quarantined.length} object(s)` : "none"],
    ]);
    for (const q of r.quarantined) ctx.out.line(`  quarantined ${q.object}: ${q.reason}`);
    // Listed until the user deletes (or moves back) the `.rejected` copy.
    if (r.refused.length) {
      ctx.out.line(`${r.refused.length} refused write(s) (delete the copy once dealt with):`);
      for (const x of r.refused) ctx.out.line(`  ${describeRefusal(x)} (kept as ${x.copy})`);
    }
    if (r.problems.length) {
      ctx.out.line(`${r.problems.length} problem(s):`);
      for (const p of r.problems) ctx.out.line(`  - ${p}`);
    }
  });
}
