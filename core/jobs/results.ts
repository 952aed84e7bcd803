/**
 * `job results --out <dir>`: copy each owner's released outputs and logs
 * into `<dir>/<owner>/outputs/…` and `<dir>/<owner>/logs/`, kept apart so an
 * output named `stdout.txt` never replaces the log. Every destination is
 * checked before anything is written (a clash refuses the whole copy unless
 * `--force`), and each file lands through temp + rename.
 * @module
 */
import { posix } from "node:path";
import { SyftError } from "../errors/mod.ts";
import { syncDir, tempNameFor } from "../fs/atomic.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { FsEntry, LocalFs } from "../fs/local_fs.ts";
import type { JobEntry } from "./catalog.ts";
import { REVIEW_FILES, reviewJobFolder } from "./layout.ts";

/** The log files a released job shares, copied into `logs/`. */
export const LOG_FILES = [REVIEW_FILES.stdout, REVIEW_FILES.stderr, REVIEW_FILES.returncode];

/** One file to copy. */
interface Copy {
  from: string;
  to: string;
}

/** What one owner's released folder gives. */
export interface OwnerCopies {
  owner: string;
  /** `<dir>/<owner>`. */
  dir: string;
  outputs: Copy[];
  logs: Copy[];
}

/** Everything a `job results --out` would write. */
export interface ResultsPlan {
  owners: OwnerCopies[];
}

/** Regular files under `from` (folders walked, links and special files never followed). */
async function filesIn(from: string, to: string, fs: LocalFs): Promise<Copy[]> {
  const out: Copy[] = [];
  let entries: FsEntry[];
  try {
    entries = await Array.fromAsync(fs.readDir(from));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return out;
    throw err;
  }
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const e of entries) {
    const src = posix.join(from, e.name);
    const dst = posix.join(to, e.name);
    if (e.isDirectory) out.push(...await filesIn(src, dst, fs));
    else if (e.isFile) out.push({ from: src, to: dst });
  }
  return out;
}

/** The copies of one owner's released review folder `review` into `<out>/<owner>`. */
export async function planOwner(
  review: string,
  out: string,
  owner: string,
  fs: LocalFs = denoFs,
): Promise<OwnerCopies> {
  const dir = posix.join(out, owner);
  const logs: Copy[] = [];
  for (const log of LOG_FILES) {
    const from = posix.join(review, log);
    if (await fs.lstat(from).then((i) => i.isFile, () => false)) {
      logs.push({ from, to: posix.join(dir, "logs", log) });
    }
  }
  return {
    owner,
    dir,
    outputs: await filesIn(
      posix.join(review, REVIEW_FILES.outputs),
      posix.join(dir, "outputs"),
      fs,
    ),
    logs,
  };
}

/**
 * Refuse (`E_EXISTS`, exit 2) when a destination exists and `force` is off,
 * naming the first; with `force`, still refuse a folder where a file goes.
 * Nothing is written either way.
 */
export async function checkDestinations(
  plan: ResultsPlan,
  force: boolean,
  fs: LocalFs = denoFs,
): Promise<void> {
  const folders = new Set<string>();
  for (const o of plan.owners) {
    for (const c of [...o.outputs, ...o.logs]) {
      for (let d = posix.dirname(c.to); d.startsWith(o.dir); d = posix.dirname(d)) folders.add(d);
    }
  }
  for (const d of folders) {
    const info = await fs.lstat(d).catch(() => null);
    if (info !== null && !info.isDirectory) {
      throw new SyftError(
        "E_EXISTS",
        `${d} is a file where a folder of results goes; nothing was copied`,
        {
          hint: "choose another --out folder",
        },
      );
    }
  }
  for (const o of plan.owners) {
    for (const c of [...o.outputs, ...o.logs]) {
      const info = await fs.lstat(c.to).catch(() => null);
      if (info === null) continue;
      if (info.isDirectory) {
        throw new SyftError(
          "E_EXISTS",
          `${c.to} is a folder; the job's file of that name cannot replace it`,
          {
            hint: "choose another --out folder",
          },
        );
      }
      if (!force) {
        throw new SyftError("E_EXISTS", `${c.to} already exists; nothing was copied`, {
          hint: "pass --force to overwrite it, or choose another --out folder",
        });
      }
    }
  }
}

/** Copy one file through a temp beside its destination. */
async function copyAtomic(c: Copy, fs: LocalFs): Promise<void> {
  await fs.mkdir(posix.dirname(c.to), { recursive: true });
  const temp = tempNameFor(c.to);
  try {
    await fs.copyFile(c.from, temp);
    await fs.rename(temp, c.to);
  } catch (err) {
    await fs.remove(temp).catch(() => {});
    throw err;
  }
}

/** Copy a checked plan; returns the counts written per owner. */
export async function copyResults(
  plan: ResultsPlan,
  fs: LocalFs = denoFs,
): Promise<Map<string, { outputs: number; logs: number }>> {
  const counts = new Map<string, { outputs: number; logs: number }>();
  for (const o of plan.owners) {
    for (const c of o.outputs) await copyAtomic(c, fs);
    for (const c of o.logs) await copyAtomic(c, fs);
    if (o.outputs.length + o.logs.length > 0) await syncDir(o.dir, fs).catch(() => {});
    counts.set(o.owner, { outputs: o.outputs.length, logs: o.logs.length });
  }
  return counts;
}

/**
 * The plan for the entries whose folder we may read: each owner's review
 * folder, copied under `out` (or planned in place when `out` is null).
 */
export async function planResults(
  readable: readonly JobEntry[],
  out: string | null,
  fs: LocalFs = denoFs,
): Promise<ResultsPlan> {
  const plan: ResultsPlan = { owners: [] };
  for (const e of readable) {
    const review = posix.join(e.datasite, reviewJobFolder(e.key.submitter, e.key.id));
    plan.owners.push(await planOwner(review, out ?? review, e.owner, fs));
  }
  return plan;
}
