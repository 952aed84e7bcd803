/**
 * What one run holds while it lasts: its 0700 folder under the scratch folder,
 * the uid it runs as (a fresh one when syft is root, else the owner's own),
 * and its memory cap. Released in one call, in the order that works: kill the
 * uid's leftovers, remove the emptied cgroup, remove the folder.
 * @module
 */
import { join } from "node:path";
import { type MemoryCap, memoryCap } from "./memory_cap.ts";
import { acquireRunUid, type RunUid } from "./run_uid.ts";
import { chownTree, makeRunDir, removeFilesOf, removeRunDir } from "./_stage.ts";
import { preludePrefix, STAGE_MOUNT } from "./limits.ts";

/** One run's uid, folders and cap. */
export interface RunSlot {
  asRoot: boolean;
  uid: number;
  /** Host folder of the run (0700, ours). */
  runDir: string;
  /** Host folder of what the job may see (0700; the run's uid owns it once handed over). */
  stage: string;
  cap: MemoryCap;
  /** Where a file under `stage` is seen by the run's processes (through the private mount as root). */
  seen(rel: string): string;
  /** Give `stage` to the run's uid (as root) and return the argv prefix that enters it. */
  enter(binds?: ReadonlyArray<{ src: string; rel: string }>): Promise<string[]>;
  /** The job ran without namespaces: at release, sweep the uid's files from the host's shared folders. */
  unconfined(): void;
  release(): Promise<void>;
}

/** Open a run slot under `scratchDir` with a memory cap of `memoryBytes`. */
export async function openRunSlot(scratchDir: string, memoryBytes: number): Promise<RunSlot> {
  const asRoot = Deno.uid() === 0;
  let runUid: RunUid | undefined;
  let cap: MemoryCap | undefined;
  let runDir: string | undefined;
  let sweep = false;
  const release = async () => {
    await runUid?.release();
    await cap?.release();
    if (runDir !== undefined) await removeRunDir(runDir);
    // After the run folder is gone, so only what the job left elsewhere is found.
    if (sweep && runUid !== undefined) await removeFilesOf(runUid.uid);
  };
  try {
    runUid = asRoot ? await acquireRunUid() : undefined;
    cap = await memoryCap(memoryBytes);
    runDir = await makeRunDir(scratchDir);
    const stage = join(runDir, "stage");
    await Deno.mkdir(stage, { mode: 0o700 });
    const uid = runUid?.uid ?? Deno.uid() ?? 0;
    const theCap = cap;
    return {
      asRoot,
      uid,
      runDir,
      stage,
      cap: theCap,
      seen: (rel) => asRoot ? join(STAGE_MOUNT, rel) : join(stage, rel),
      enter: async (binds = []) => {
        if (asRoot) await chownTree(stage, uid);
        const prefix = preludePrefix({
          ...(theCap.cgroup === undefined ? {} : { cgroup: theCap.cgroup }),
          ...(asRoot ? { stage, binds } : {}),
        });
        return prefix;
      },
      unconfined: () => {
        sweep = true;
      },
      release,
    };
  } catch (err) {
    await release();
    throw err;
  }
}
