/**
 * `job show`: one job as this side sees it, with each owner's status, run
 * and history, the script when we own it, and our audit records of it.
 * @module
 */
import { posix } from "node:path";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { readAudit } from "./audit.ts";
import type { JobEntry } from "./catalog.ts";
import { outcomeOf, statusOf } from "./follow.ts";
import { inboxJobFolder, jobLabel } from "./layout.ts";
import { policyHash } from "./policy_hash.ts";

/** The view of a job (the `--json` of `job show`); `entries` name one job, at least one owner. */
export async function jobView(
  entries: readonly JobEntry[],
  auditLog: string,
  fs: LocalFs = denoFs,
) {
  const first = entries[0]!;
  const owning = entries.find((e) => e.role === "owner");
  let runSh: string | null = null;
  if (owning?.config) {
    runSh = await fs.readTextFile(
      posix.join(
        owning.datasite,
        inboxJobFolder(owning.key.submitter, owning.key.id),
        owning.config.entrypoint,
      ),
    ).catch(() => null);
  }
  const audit = owning ? await readAudit(auditLog, jobLabel(owning.key), fs) : [];
  const cfg = first.config;
  return {
    id: first.key.id,
    name: cfg?.name ?? first.key.id,
    // The content hash: `job approve --hash` refuses anything else.
    hash: cfg ? policyHash(cfg) : null,
    submitter: first.key.submitter,
    submitted_at: cfg?.submitted_at ?? null,
    type: cfg?.type ?? null,
    entrypoint: cfg?.entrypoint ?? null,
    dependencies: cfg?.dependencies ?? [],
    datasets: cfg?.datasets ?? [],
    grants: cfg?.grants ?? null,
    files: cfg?.files ?? [],
    owners: await Promise.all(entries.map(async (e) => ({
      owner: e.owner,
      status: statusOf(e),
      outcome: (await outcomeOf(e, fs)).text,
      policy_hash: e.state?.policy_hash ?? null,
      run: e.state?.run ?? null,
      history: e.state?.history ?? [],
      problem: e.configProblem ?? e.stateProblem,
    }))),
    run_sh: runSh,
    audit,
  };
}
