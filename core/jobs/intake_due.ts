/**
 * Whether a sync's job intake (core/jobs/after_round.ts) could do anything:
 * a job folder in our inbox, or a policy file whose errors it would report.
 * Without either its pass finds nothing, so `syft sync` leaves it unloaded
 * (it brings the job modules and the YAML parser). Cheap: one folder read.
 * @module
 */
import { posix } from "node:path";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { INBOX_ROOT, POLICY_FILE } from "./layout.ts";

/** False only when `datasite` has no inbox entry and `home` no policy file. */
export async function intakeDue(
  home: string,
  datasite: string,
  fs: LocalFs = denoFs,
): Promise<boolean> {
  if (fs.existsSync(posix.join(home, POLICY_FILE))) return true;
  try {
    for await (const _ of fs.readDir(posix.join(datasite, INBOX_ROOT))) return true;
    return false;
  } catch (err) {
    // Anything but a missing inbox is the intake's to report.
    return !(err instanceof Deno.errors.NotFound);
  }
}
