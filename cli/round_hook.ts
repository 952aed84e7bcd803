/**
 * What runs after a command changed something peers should hear of (a peer
 * request or decision, a dataset created or deleted, a job submitted or
 * decided): one sync round, so the other side gets it (`peer.accept` with its
 * first projection, a job's files, its new state) without a separate
 * `syft sync`. It waits for a round already running.
 * @module
 */
import { loadConfig } from "../core/config/load.ts";
import { describeError } from "../core/errors/mod.ts";
import type { Context } from "./context.ts";
import { lazyImport } from "../core/lazy_import.ts";

/**
 * The sync command's module, loaded when a round is due: the engine (tar,
 * zlib, the channel crypto) is most of what a command would otherwise load,
 * and listing commands never run a round.
 */
export function loadSync(): Promise<typeof import("./sync.ts")> {
  return lazyImport<typeof import("./sync.ts")>(new URL("./sync.ts", import.meta.url));
}

/**
 * Called once after a successful change, with the command's context.
 * `allowMassDelete` is for a change the user asked to delete in bulk
 * (`dataset delete`), which the mass-delete guard would otherwise hold back.
 */
export async function syncAfterChange(
  ctx: Context,
  options: { allowMassDelete?: boolean } = {},
): Promise<void> {
  const { describeFailure, syncOnce } = await loadSync();
  try {
    const config = await loadConfig(ctx.home);
    const summary = await syncOnce(ctx, config, options);
    for (const p of summary.problems) ctx.out.warn(p);
    // A peer whose channel failed: the change is saved, the others have it.
    for (const f of summary.failures) ctx.out.warn(`${describeFailure(f)} (run \`syft sync\`)`);
  } catch (err) {
    // The peer change itself is done and saved; the next `syft sync` sends it.
    ctx.out.warn(
      `the change is saved, but syncing it failed: ${describeError(err)} (run \`syft sync\`)`,
    );
  }
}
