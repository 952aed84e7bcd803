/**
 * Whether a sync's job intake (core/jobs/after_round.ts) could do anything:
 * a job folder in our inbox (`<inbox>/<submitter>/<id>/`), or a policy file
 * whose errors it would report. Without either its pass finds nothing, so
 * `syft sync` leaves it unloaded (it brings the job modules and the YAML
 * parser). Cheap: one folder read per submitter.
 * @module
 */
import { posix } from "node:path";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { subfolderNames } from "./_folders.ts";
import { INBOX_ROOT, POLICY_FILE } from "./layout.ts";

/**
 * False only when `home` has no policy file and no submitter's folder in
 * `datasite`'s inbox holds a folder (a peer's inbox holds only its permission
 * file until it sends a job). Reads the folders as the intake does, so what
 * the intake would skip as missing is skipped here too; any other error is
 * the intake's to report.
 */
export async function intakeDue(
  home: string,
  datasite: string,
  fs: LocalFs = denoFs,
): Promise<boolean> {
  // lstat, not existsSync: that one's first call loads node:fs (tens of ms).
  const policies = await fs.lstat(posix.join(home, POLICY_FILE)).then(
    () => true,
    (err) => !(err instanceof Deno.errors.NotFound), // anything else, the intake reports
  );
  if (policies) return true;
  const inbox = posix.join(datasite, INBOX_ROOT);
  try {
    for (const submitter of await subfolderNames(inbox, fs)) {
      if ((await subfolderNames(posix.join(inbox, submitter), fs)).length > 0) return true;
    }
    return false;
  } catch {
    return true;
  }
}
