/**
 * Where a job stands at each owner, in one line per owner, the same in every
 * command that shows it (`job list`, `show`, `run`, `logs`, `results`,
 * `wait`): `pending`, `running`, `done, not released yet`, `released`,
 * `failed (exit 3)`, `rejected: <reason>`. A released job that failed reads
 * as failed, not as released. The submitter sees an exit code only once the
 * owner released the logs (before, the status alone: see `publicStateText`);
 * the owner sees its whole record. Also the one hint that can help next.
 * Pure.
 * @module
 */
import type { JobState, JobStatus, RunRecord } from "./state.ts";

/** Who is looking: the owner reads its record, the submitter the shared view. */
export type JobViewer = "owner" | "submitter";

/** What {@linkcode jobOutcome} reads. */
export interface OutcomeInput {
  owner: string;
  viewer: JobViewer;
  /** Null until the owner received the job. */
  state: JobState | null;
  /**
   * The exit code the viewer may see: from the owner's run record, or from
   * the `returncode.txt` the owner released; null when not (yet) visible.
   */
  returncode: number | null;
}

/** Where a job stands at one owner. */
export interface JobOutcome {
  owner: string;
  /** The recorded status (`pending` until received). */
  status: JobStatus;
  /** How the run ended, when it ran: `done` or `failed` (also after release). */
  ran: "done" | "failed" | null;
  released: boolean;
  /** The exit code, when the viewer may see it. */
  returncode: number | null;
  /** Why it was rejected, or (for the owner) why the run failed. */
  reason: string | null;
  /** Nothing more will happen to it without a new decision: rejected, failed, released. */
  final: boolean;
  /** Released after a successful run. */
  succeeded: boolean;
  /** The one line people read, e.g. `failed (exit 3)`. */
  text: string;
}

/** How a run ended, from the history (the submitter has no run record). */
function ranAs(state: JobState): "done" | "failed" | null {
  for (let i = state.history.length - 1; i >= 0; i--) {
    const s = state.history[i]!.status;
    if (s === "done" || s === "failed") return s;
  }
  return null;
}

function lastReason(state: JobState, status: JobStatus): string | null {
  for (let i = state.history.length - 1; i >= 0; i--) {
    const h = state.history[i]!;
    if (h.status === status) return h.reason;
  }
  return null;
}

/** Why a run failed, for the owner, when the exit code alone does not say it. */
function failureDetail(run: RunRecord | null, reason: string | null): string | null {
  if (reason === null || /^exited with code /.test(reason)) return null;
  return run?.timed_out ? "timed out" : reason;
}

/** Where the job stands at `input.owner`, as `input.viewer` may see it. */
export function jobOutcome(input: OutcomeInput): JobOutcome {
  const { owner, viewer, state } = input;
  const status: JobStatus = state?.status ?? "pending";
  const ran = state === null ? null : ranAs(state);
  const released = status === "released";
  // The submitter sees an exit code only with the released logs.
  const returncode = viewer === "submitter" && !released ? null : input.returncode;
  const reason = state === null
    ? null
    : status === "rejected"
    ? lastReason(state, "rejected")
    : viewer === "owner" && ran === "failed"
    ? lastReason(state, "failed")
    : null;
  const final = status === "rejected" || status === "released" || status === "failed";
  const succeeded = released && ran === "done";
  return {
    owner,
    status,
    ran,
    released,
    returncode,
    reason,
    final,
    succeeded,
    text: outcomeText(viewer, state, status, ran, returncode, reason),
  };
}

function outcomeText(
  viewer: JobViewer,
  state: JobState | null,
  status: JobStatus,
  ran: "done" | "failed" | null,
  returncode: number | null,
  reason: string | null,
): string {
  // The submitter has no state until the owner's first answer reaches its mirror.
  if (state === null) return viewer === "submitter" ? "pending (no answer yet)" : "pending";
  const released = status === "released";
  switch (ran === null ? status : ran) {
    case "rejected":
      return reason ? `rejected: ${reason}` : "rejected";
    case "done":
      return released ? "released" : "done, not released yet";
    case "failed": {
      const detail = [
        ...(returncode !== null && returncode !== 0 ? [`exit ${returncode}`] : []),
        ...(viewer === "owner" ? [failureDetail(state.run, reason)].filter((d) => d !== null) : []),
      ];
      const head = `failed${detail.length > 0 ? ` (${detail.join(", ")})` : ""}`;
      if (viewer === "submitter") return released ? head : `${head}, logs not released yet`;
      return `${head}, ${released ? "released" : "not released yet"}`;
    }
    default:
      return status;
  }
}

/**
 * The one next step that can help whoever reads these outcomes, naming the
 * job as `ref` (the id the user knows); null when nothing they run would
 * change anything. Waiting is suggested only while something can still move.
 */
export function nextStep(
  outcomes: readonly JobOutcome[],
  ref: string,
  viewer: JobViewer,
): string | null {
  if (viewer === "owner") {
    const o = outcomes[0];
    if (o === undefined) return null;
    if (o.status === "pending") return `review it with \`syft job show ${ref}\``;
    if (o.status === "approved") return `run it with \`syft job run ${ref}\``;
    if (o.status === "done" || o.status === "failed") {
      return `release its logs and outputs with \`syft job release ${ref}\``;
    }
    return null;
  }
  if (outcomes.some((o) => !o.final)) {
    return `follow it with \`syft job wait ${ref}\``;
  }
  if (outcomes.some((o) => o.released && o.ran === "failed")) {
    return `read why it failed with \`syft job logs ${ref}\``;
  }
  if (outcomes.some((o) => o.released)) {
    return `copy the outputs with \`syft job results ${ref} --out <dir>\``;
  }
  const unreleased = outcomes.filter((o) => o.status === "failed").map((o) => o.owner);
  if (unreleased.length > 0) {
    return `its logs reach you only if ${unreleased.join(" and ")} release${
      unreleased.length > 1 ? "" : "s"
    } them`;
  }
  return null;
}
