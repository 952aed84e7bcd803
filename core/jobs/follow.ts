/**
 * Where a job stands at each owner, as this side may see it, and following
 * it until it ends (`job wait`, `job logs --follow`): the loops over a job's
 * owners live here, the printing with the caller.
 * @module
 */
import { posix } from "node:path";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import type { JobEntry } from "./catalog.ts";
import { REVIEW_FILES, reviewJobFolder } from "./layout.ts";
import { type JobOutcome, jobOutcome } from "./outcome.ts";
import type { JobStatus } from "./state.ts";

/** The status an entry shows; a job with no state yet is pending. */
export function statusOf(e: JobEntry): JobStatus {
  return e.state?.status ?? "pending";
}

/** A file of the job's review folder at `e.owner`. */
export function reviewPath(e: JobEntry, file: string): string {
  return posix.join(e.datasite, reviewJobFolder(e.key.submitter, e.key.id), file);
}

/** A text file's content, or null when it is not there. */
export async function readOrNull(path: string, fs: LocalFs = denoFs): Promise<string | null> {
  try {
    return await fs.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/**
 * The return code a released job's owner shares in `returncode.txt` (the
 * state never carries it); null when not released, killed or unreadable.
 */
async function releasedReturncode(e: JobEntry, fs: LocalFs): Promise<number | null> {
  if (statusOf(e) !== "released") return null;
  const text = (await readOrNull(reviewPath(e, REVIEW_FILES.returncode), fs))?.trim() ?? "";
  return /^-?\d{1,10}$/.test(text) ? Number(text) : null;
}

/** Where the job stands at `e.owner`, as this side may see it (one renderer for every command). */
export async function outcomeOf(e: JobEntry, fs: LocalFs = denoFs): Promise<JobOutcome> {
  return jobOutcome({
    owner: e.owner,
    viewer: e.role,
    state: e.state,
    returncode: e.role === "owner"
      ? e.state?.run?.returncode ?? null
      : await releasedReturncode(e, fs),
  });
}

/** Each entry's outcome, in order. */
export async function outcomesOf(
  entries: readonly JobEntry[],
  fs: LocalFs = denoFs,
): Promise<JobOutcome[]> {
  const out: JobOutcome[] = [];
  for (const e of entries) out.push(await outcomeOf(e, fs));
  return out;
}

/** A job's logs at one owner (the `--json` row of `job logs`). */
export interface OwnerLogs {
  owner: string;
  status: JobStatus;
  outcome: string;
  stdout: string | null;
  stderr: string | null;
}

/** Each owner's logs as far as this side may read them (null when not there). */
export async function logsOf(
  entries: readonly JobEntry[],
  fs: LocalFs = denoFs,
): Promise<OwnerLogs[]> {
  const logs: OwnerLogs[] = [];
  for (const e of entries) {
    logs.push({
      owner: e.owner,
      status: statusOf(e),
      outcome: (await outcomeOf(e, fs)).text,
      stdout: await readOrNull(reviewPath(e, REVIEW_FILES.stdout), fs),
      stderr: await readOrNull(reviewPath(e, REVIEW_FILES.stderr), fs),
    });
  }
  return logs;
}

/** Whether an entry's logs can be read now. */
function logsReadable(e: JobEntry): boolean {
  const s = statusOf(e);
  if (s === "released" || s === "rejected") return true;
  // The owner sees logs as soon as a run ends; the submitter only after release.
  return e.role === "owner" && (s === "done" || s === "failed");
}

/** How a follow reaches the world: the caller syncs, rereads and sleeps. */
export interface Follow {
  /** One sync round (a command's `syncOnce`). */
  sync(): Promise<void>;
  /** The job's entries read again. */
  refresh(): Promise<JobEntry[]>;
  sleep(ms: number): Promise<void>;
  /** Where the job's files are read; the disk by default. */
  fs?: LocalFs;
}

/**
 * `job logs --follow`: every 2 s, sync (when we sent the job) and reread,
 * until every owner's logs can be read or the submitter sees it failed.
 */
export async function untilLogs(entries: JobEntry[], follow: Follow): Promise<JobEntry[]> {
  while (
    !entries.every((e) => logsReadable(e) || (e.role === "submitter" && statusOf(e) === "failed"))
  ) {
    await follow.sleep(2000);
    if (entries.some((e) => e.role === "submitter")) await follow.sync();
    entries = await follow.refresh();
  }
  return entries;
}

/** What `job wait` ends with. */
export interface Waited {
  outcomes: JobOutcome[];
  /** True when it gave up before every owner was final. */
  timedOut: boolean;
}

/**
 * `job wait`: sync until every owner's outcome is final, or `timeoutMs`
 * passed. The local view may be old, so it syncs before saying anything
 * unless that is final already; then `onChange` hears each owner's new
 * outcome once, every second.
 */
export async function waitForJob(
  entries: JobEntry[],
  follow: Follow & {
    timeoutMs: number;
    now(): number;
    onChange(outcome: JobOutcome): void;
  },
): Promise<Waited> {
  const start = follow.now();
  const seen = new Map<string, string>();
  let synced = false;
  for (;;) {
    const outcomes = await outcomesOf(entries, follow.fs);
    if (outcomes.every((o) => o.final)) return { outcomes, timedOut: false };
    if (synced) {
      for (const o of outcomes) {
        if (!o.final && seen.get(o.owner) !== o.text) follow.onChange(o);
        seen.set(o.owner, o.text);
      }
      if (follow.now() - start >= follow.timeoutMs) return { outcomes, timedOut: true };
      await follow.sleep(1000);
    }
    await follow.sync();
    synced = true;
    entries = await follow.refresh();
  }
}
