/**
 * Judging a peer's proposal to our datasite against our permission files as
 * they stood at the start of the batch: applied, a replay (nothing to do), or
 * answered with a `proposal.rejected` control the peer reads next round.
 * @module
 */
import type { FileChangeEvent } from "../../events/types.ts";
import type { PermissionEngine } from "../../permissions/mod.ts";
import { isPermissionFile } from "../../datasite/names.ts";
import { ownerDetail } from "../refusals.ts";
import type { BatchScope } from "./apply.ts";
import { countApplied } from "./types.ts";

/** A batch's proposals are judged in this scope: who we are, who proposes, and our limits. */
export interface JudgeScope extends BatchScope {
  me: string;
  peer: string;
  /** Our own datasite under our root. */
  ownRoot: string;
  quotaBytes: number;
  /** Our paths to publish again so the peer's mirror returns to our version. */
  republish: Set<string>;
}

type Reason = "permission" | "conflict" | "invalid" | "quota";

/** Judge proposal `ev` of an accepted peer with `engine`; plan it when it is allowed. */
export async function judgeProposal(
  scope: JudgeScope,
  engine: PermissionEngine,
  ev: FileChangeEvent,
): Promise<void> {
  const { planner, ownRoot } = scope;
  // Judged from the event's metadata alone, before the disk is looked at or a
  // byte of content fetched. The sender is the channel's sender, never a name
  // inside the message. No hash goes back: the peer may not read the file.
  if (!engine.allows(scope.me, ev.path, scope.peer, "write")) {
    // A proposal that changes nothing is no write to refuse (a replay), but
    // only where the peer may read the path: the answer must never tell it
    // what we hold where it may not look.
    if (
      engine.allows(scope.me, ev.path, scope.peer, "read") &&
      await planner.hash(ownRoot, ev.path) === ev.new_hash
    ) return noChange(scope, ev);
    return rejectProposal(scope, ev, "permission", null);
  }
  const here = await planner.hash(ownRoot, ev.path);
  // "special" (a folder or symlink there) is no hash: the wire says null.
  if (here === "special") return rejectProposal(scope, ev, "invalid", null);
  if (typeof here === "object" && here !== null) {
    // A second name for an existing file (case or Unicode form): never overwrites it.
    return ev.deleted ? undefined : rejectProposal(scope, ev, "conflict", null);
  }
  const cur = here;
  if (cur === ev.new_hash) return noChange(scope, ev); // a replay after a crash, or our edit alike
  if (cur !== ev.old_hash) return rejectProposal(scope, ev, "conflict", cur);
  // Still before any content is fetched: the write below is what fetches it.
  if (!ev.deleted && scope.state.quota_used + ev.size > scope.quotaBytes) {
    return rejectProposal(scope, ev, "quota", cur);
  }
  await applyProposal(scope, ev, cur);
}

/**
 * A proposal our datasite already agrees with: nothing to apply or refuse,
 * but our next publication still says what we hold there. The peer's mirror
 * holds the proposal's content now, which our record of what it holds may not
 * (simulation seed 4003469: we had deleted the file ourselves, then lost
 * state/ before publishing that; we took the peer's deletion for a replay,
 * wrote the same bytes there again, and, our record still saying the peer
 * held them, never sent them: its mirror kept the deletion for good).
 */
function noChange(scope: JudgeScope, ev: FileChangeEvent): void {
  scope.republish.add(ev.path);
}

/** Plan an allowed proposal on our datasite, counting its bytes against the peer's quota. */
async function applyProposal(scope: JudgeScope, ev: FileChangeEvent, cur: string | null) {
  const { planner, ownRoot } = scope;
  if (ev.deleted) planner.remove(ownRoot, ev.path, cur);
  else {
    await planner.write(ownRoot, ev.path, { ...ev, new_hash: ev.new_hash! }, cur);
    scope.state.quota_used += ev.size;
    // The peer holds this file now, though we never published it: our next
    // publication to it says what became of it, even when that is not this
    // round's (the peer removed us meanwhile, or a job intake moved the file
    // before we published again: simulation seed 30140).
    scope.republish.add(ev.path);
  }
  if (isPermissionFile(ev.path)) scope.work.permissionsChanged = true;
  countApplied(scope.work, ev.path);
}

/** Answer a proposal with a refusal; our version of the path is published again. */
function rejectProposal(
  scope: JudgeScope,
  ev: FileChangeEvent,
  reason: Reason,
  current: string | null,
): void {
  answerRejected(scope, ev, {
    reason,
    current,
    detail: ownerDetail(reason, ev.path, scope.quotaBytes),
  });
  scope.republish.add(ev.path);
}

/** A peer not accepted (yet): a proposal is answered, never applied, and nothing is republished. */
export function rejectUnaccepted(scope: BatchScope, ev: FileChangeEvent): void {
  const detail = "you are not an accepted peer (yet)";
  answerRejected(scope, ev, { reason: "permission", current: null, detail });
}

/** The `proposal.rejected` the peer reads next round, counted and named in the round's report. */
function answerRejected(
  scope: BatchScope,
  ev: FileChangeEvent,
  answer: { reason: Reason; current: string | null; detail: string },
): void {
  const { reason, detail } = answer;
  scope.state.controls.push({
    type: "proposal.rejected",
    event_id: ev.id,
    path: ev.path,
    reason,
    current_hash: answer.current,
    detail,
  });
  scope.work.rejected++;
  scope.work.rejections.push({ path: ev.path, reason, detail });
}
