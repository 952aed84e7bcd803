/**
 * A job's lifecycle. The owner keeps the whole record under `$SYFT_HOME` (the
 * pinned policy hash, the run's outcome, and a history of who moved it, when,
 * how and why); the submitter reads only {@linkcode publicStateText} in
 * `review/<ds>/<id>/status/state.yaml`: the status and when it changed, since
 * anything more (a return code, counts, a failure reason, output names) is a
 * channel a job could encode private values in before release. Pure: the
 * transitions are checked here and written by `review.ts`.
 * @module
 */
import { stringify } from "yaml";
import { Lru } from "../cache/lru.ts";
import { SyftError } from "../errors/mod.ts";
import { Fields } from "./_fields.ts";
import { JOB_ID_RE } from "./config.ts";
import { isoUtc } from "../time/iso.ts";
import { refusedMove } from "./moves.ts";

import { JOB_STATUSES, type JobStatus } from "./status.ts";
export { JOB_STATUSES, type JobStatus };

/**
 * Allowed moves. `running → running` restarts a run whose runner died (a crash
 * loses nothing); `failed → released` lets a scientist read why their job failed.
 */
const NEXT: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  pending: ["approved", "rejected"],
  approved: ["running", "rejected"],
  running: ["running", "done", "failed"],
  done: ["released"],
  failed: ["released"],
  rejected: [],
  released: [],
};

/** Statuses after which nothing more happens without the owner. */
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(["rejected", "released", "failed"]);

/** One move in the history. */
export interface StateEntry {
  status: JobStatus;
  /** ISO-8601. */
  at: string;
  /** The owner's email. */
  by: string;
  /** `manual`, `auto` (a check syft made itself) or `policy:<name>`; empty in the submitter's view. */
  how: string;
  reason: string | null;
}

/** What the sandbox reported, recorded when a run ends. */
export interface RunRecord {
  sandbox: "bwrap" | "none";
  returncode: number | null;
  timed_out: boolean;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  outputs_truncated: boolean;
  output_files: number;
  output_bytes: number;
  /** The first {@linkcode MAX_SKIPPED_KEPT} outputs left out, with why (the owner's eyes only). */
  skipped: string[];
  /** How many outputs were left out in all. */
  skipped_count: number;
  started_at: string;
  finished_at: string;
  error: string | null;
}

/** The parsed `status/state.yaml`. */
export interface JobState {
  id: string;
  owner: string;
  submitter: string;
  status: JobStatus;
  /**
   * Recorded at receipt, checked again and pinned at approval: the job's
   * content hash, which the run's staged copy must give. Null in the
   * submitter's view (and for jobs received before it was recorded).
   */
  policy_hash: string | null;
  /** The grants approved (shown in the approval prompt, applied by the runner). */
  network: boolean;
  run: RunRecord | null;
  history: StateEntry[];
}

/** Most skipped outputs the owner's record keeps by name (a run can skip millions). */
export const MAX_SKIPPED_KEPT = 100;

/** A fresh state for a job that just arrived, with its content hash when it is whole. */
export function pendingState(
  ids: { id: string; owner: string; submitter: string },
  at: string,
  network: boolean,
  hash: string | null = null,
): JobState {
  return {
    ...ids,
    status: "pending",
    policy_hash: hash,
    network,
    run: null,
    history: [{ status: "pending", at, by: ids.owner, how: "auto", reason: null }],
  };
}

/** Whether `from → to` is an allowed move. */
export function canMove(from: JobStatus, to: JobStatus): boolean {
  return NEXT[from].includes(to);
}

/**
 * The state after a move.
 * @throws {SyftError} `E_INPUT` when the move is not allowed, said as a sentence (see `moves.ts`)
 */
export function moveTo(
  state: JobState,
  entry: Omit<StateEntry, "status"> & { status: JobStatus },
  changes: Partial<Pick<JobState, "policy_hash" | "run">> = {},
): JobState {
  if (!canMove(state.status, entry.status)) {
    const label = `${state.submitter}/${state.id}`;
    const { message, hint } = refusedMove(state.status, entry.status, label, state.submitter);
    throw new SyftError("E_INPUT", message, { hint });
  }
  return { ...state, ...changes, status: entry.status, history: [...state.history, entry] };
}

/**
 * Parse a state: the owner's whole record, or the submitter's view of it
 * (which has no hash, run or `by`/`how`: those read as null, the owner and "").
 */
export function parseJobState(text: string, file: string): JobState {
  const key = `${file}\0${text}`;
  let state = parsedStates.get(key);
  if (state === undefined) parsedStates.set(key, state = parseJobStateText(text, file));
  // A copy: a caller may change what it was given, never what the next one gets.
  return structuredClone(state);
}

/**
 * States parsed, by file and text: a round reads every job's state (intake,
 * the catalog) and the YAML parse was most of a job's share of a simulated
 * round, where a state changes a few times in a job's life. Failures are not
 * kept: they are rare, and parsed again.
 */
const parsedStates = new Lru<string, JobState>(256);

function parseJobStateText(text: string, file: string): JobState {
  const f = Fields.parse(text, file, "E_BAD_MESSAGE");
  const status = statusOf(f, "status");
  const run = f.raw("run");
  const owner = f.string("owner");
  return {
    id: f.string("id", JOB_ID_RE),
    owner,
    submitter: f.string("submitter"),
    status,
    policy_hash: f.optionalString("policy_hash"),
    network: f.boolean("network", false),
    run: run === undefined || run === null ? null : parseRun(f.nested("run")),
    history: f.list("history").map((h) => ({
      status: statusOf(h, "status"),
      at: time(h, "at"),
      by: h.optionalString("by") ?? owner,
      how: h.optionalString("how") ?? "",
      reason: h.optionalString("reason"),
    })),
  };
}

/**
 * What the submitter may read before and after release: the status and when
 * each change happened. A reason travels only with a rejection (typed by the
 * owner, or a check of the job's own files and asks); a run's outcome never
 * does — its return code travels in `returncode.txt` on release.
 */
export function publicStateText(state: JobState): string {
  const view = {
    id: state.id,
    owner: state.owner,
    submitter: state.submitter,
    status: state.status,
    history: state.history.map((h) =>
      h.status === "rejected" && h.reason !== null
        ? { status: h.status, at: h.at, reason: h.reason }
        : { status: h.status, at: h.at }
    ),
  };
  return "# Written by the data owner's syft: the job's status and when it changed.\n" +
    stringify(view, { lineWidth: 0 });
}

/** A time in UTC, whatever zone the owner's file used: `job show` prints them alike. */
function time(f: Fields, field: string): string {
  return isoUtc(f.string(field)) ?? f.fail(field, "must be an ISO-8601 time");
}

function statusOf(f: Fields, field: string): JobStatus {
  const v = f.string(field);
  if (!(JOB_STATUSES as readonly string[]).includes(v)) {
    f.fail(field, `must be one of ${JOB_STATUSES.join(", ")}`);
  }
  return v as JobStatus;
}

function parseRun(f: Fields): RunRecord {
  const sandbox = f.string("sandbox");
  if (sandbox !== "bwrap" && sandbox !== "none") f.fail("sandbox", 'must be "bwrap" or "none"');
  const rc = f.raw("returncode");
  if (rc !== null && (typeof rc !== "number" || !Number.isSafeInteger(rc))) {
    f.fail("returncode", "must be a whole number or null");
  }
  return {
    sandbox: sandbox as "bwrap" | "none",
    returncode: rc as number | null,
    timed_out: f.boolean("timed_out", false),
    stdout_truncated: f.boolean("stdout_truncated", false),
    stderr_truncated: f.boolean("stderr_truncated", false),
    outputs_truncated: f.boolean("outputs_truncated", false),
    output_files: f.integer("output_files", 0, Number.MAX_SAFE_INTEGER, 0),
    output_bytes: f.integer("output_bytes", 0, Number.MAX_SAFE_INTEGER, 0),
    skipped: f.strings("skipped"),
    skipped_count: f.integer("skipped_count", 0, Number.MAX_SAFE_INTEGER, 0),
    started_at: time(f, "started_at"),
    finished_at: time(f, "finished_at"),
    error: f.optionalString("error"),
  };
}

/** The text of `state.yaml`. */
export function serializeJobState(state: JobState): string {
  return "# Written by the data owner's syft; only the owner changes a job's state.\n" +
    stringify(state, { lineWidth: 0 });
}

/** When the job last changed (the last history entry), or null. */
export function updatedAt(state: JobState): string | null {
  return state.history[state.history.length - 1]?.at ?? null;
}
