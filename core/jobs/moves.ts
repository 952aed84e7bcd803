/**
 * The owner's decisions (approve, reject, run, release) asked of a job in a
 * status that does not allow them, said as people say it: a decision already
 * made is no error (`peer approve` answers the same way), and a decision that
 * can no longer be made says why and what is left to do. Pure.
 * @module
 */
import type { JobStatus } from "./status.ts";

/** A decision an owner asks for. */
export type JobDecision = "approve" | "reject" | "run" | "release";

/** What asking for `decision` on a job in some status comes to. */
export type DecisionAnswer =
  /** Allowed: go on. */
  | { kind: "go" }
  /** Made before: exit 0, with this sentence. */
  | { kind: "already"; message: string }
  /** Cannot be made any more (or yet): an input error with a hint. */
  | { kind: "refuse"; message: string; hint: string };

const GO: DecisionAnswer = { kind: "go" };

/**
 * The answer to `decision` for a job `label` (`<submitter>/<id>`, named in
 * every sentence and hint) in `status`.
 */
export function answerDecision(
  decision: JobDecision,
  status: JobStatus,
  label: string,
  submitter: string,
): DecisionAnswer {
  const show = `see its history with \`syft job show ${label}\``;
  switch (decision) {
    case "approve":
      if (status === "pending") return GO;
      if (status === "rejected") {
        return {
          kind: "refuse",
          message: `job ${label} was rejected; a rejected job cannot be approved`,
          hint:
            `see why with \`syft job show ${label}\`; ${submitter} can send it again as a new job`,
        };
      }
      return {
        kind: "already",
        message: `job ${label} was already approved${
          status === "approved" ? "" : ` (now ${status})`
        }`,
      };
    case "reject":
      if (status === "pending" || status === "approved") return GO;
      if (status === "rejected") {
        return { kind: "already", message: `job ${label} was already rejected` };
      }
      if (status === "released") {
        return {
          kind: "refuse",
          message:
            `job ${label} is released: ${submitter} has its logs and outputs, so it can no longer be rejected`,
          hint: show,
        };
      }
      if (status === "running") {
        return {
          kind: "refuse",
          message: `job ${label} is running and can no longer be rejected`,
          hint:
            `once it ends, its outputs stay with you unless you run \`syft job release ${label}\``,
        };
      }
      return {
        kind: "refuse",
        message: `job ${label} has run (${status}) and can no longer be rejected`,
        hint: `its logs and outputs stay with you unless you run \`syft job release ${label}\``,
      };
    case "run":
      if (status === "approved" || status === "running") return GO;
      if (status === "pending") {
        return {
          kind: "refuse",
          message: `job ${label} is pending: approve it before running it`,
          hint: `review it with \`syft job show ${label}\`, then \`syft job approve ${label}\``,
        };
      }
      if (status === "rejected") {
        return {
          kind: "refuse",
          message: `job ${label} was rejected and will not run`,
          hint: show,
        };
      }
      return { kind: "already", message: `job ${label} has already run (${status})` };
    case "release":
      if (status === "done" || status === "failed") return GO;
      if (status === "released") {
        return { kind: "already", message: `job ${label} was already released` };
      }
      if (status === "rejected") {
        return {
          kind: "refuse",
          message: `job ${label} was rejected and never ran: there is nothing to release`,
          hint: show,
        };
      }
      return {
        kind: "refuse",
        message:
          `job ${label} has not finished running (${status}): there is nothing to release yet`,
        hint: status === "running"
          ? `wait for it to end, then \`syft job release ${label}\``
          : status === "approved"
          ? `run and release it with \`syft job run ${label} --release\``
          : `approve it with \`syft job approve ${label}\`, then \`syft job run ${label} --release\``,
      };
  }
}

/**
 * A refused state move (`from → to`) as a sentence and hint: the runner and
 * the desk use it when a move they did not expect is asked for.
 */
export function refusedMove(
  from: JobStatus,
  to: JobStatus,
  label: string,
  submitter: string,
): { message: string; hint: string } {
  const decision: JobDecision | null = to === "approved"
    ? "approve"
    : to === "rejected"
    ? "reject"
    : to === "running"
    ? "run"
    : to === "released"
    ? "release"
    : null;
  const answer = decision === null ? null : answerDecision(decision, from, label, submitter);
  if (answer !== null && answer.kind === "refuse") return answer;
  if (answer !== null && answer.kind === "already") {
    return { message: answer.message, hint: `see its history with \`syft job show ${label}\`` };
  }
  // done/failed are recorded by the runner only: asked otherwise, say where the job is.
  return {
    message: `job ${label} is ${from}, so it cannot be marked ${to}`,
    hint: `see its history with \`syft job show ${label}\``,
  };
}
