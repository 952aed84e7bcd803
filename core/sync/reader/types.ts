/**
 * What reading one peer's channel reports, and the working record a round's
 * reading builds (the report plus what only the reading itself needs).
 * @module
 */
import type { Control, RejectReason } from "../../events/types.ts";
import type { PermissionEngine } from "../../permissions/mod.ts";
import type { Refusal } from "../refusals.ts";
import type { ChannelState } from "../state.ts";

/** What reading one peer's channel did. */
export interface ReceiveResult {
  state: ChannelState;
  batches: number;
  applied: number;
  rejected: number;
  conflicts: number;
  quarantined: number;
  /** Control records that change the peer relationship (accept, reject, remove). */
  peerControls: Control[];
  /** A permission file of ours changed: reload the engine. */
  permissionsChanged: boolean;
  /** A gap in seq was seen (waiting for the missing batch). */
  gap: boolean;
  /** The channel was rolled back below our cursor: its highest batch (reported, not restored). */
  rollback: number | null;
  /** The first few paths applied (mirror or datasite), for the round's report. */
  paths: string[];
  /** Our writes the peer refused this round, each kept as a `.rejected` copy. */
  refused: Refusal[];
  /** The peer's writes to our datasite we refused this round, and why. */
  rejections: Rejection[];
}

/** A write of the peer's we refused. */
export interface Rejection {
  path: string;
  reason: RejectReason;
  detail: string;
}

/** A round's reading, with what it needs beyond the result. */
export type Work = ReceiveResult & {
  /** Proposals still to judge this round. */
  budget: number;
  /** Conflict copies made this round: copy path → the path and its content. */
  copies: Map<string, { path: string; hash: string; counted: boolean }>;
  /** Contents the peer published this round, per path. */
  seen: Map<string, Set<string>>;
  /** The highest batch seq a listing showed this round (0: none). */
  listedTop: number;
  /** The highest seq of a batch with proposals judged to its end this round (0: none). */
  judgedTop: number;
};

/** How the round lets the receiver see the peer relationship. */
export interface ReceiveOptions {
  /** Proposals (events on our datasite) are judged only for accepted peers. */
  acceptsProposals: boolean;
  /**
   * The peer record's `controls_read` (absent: none): controls of that batch
   * were acted on, so every batch before it was read and judged, by a state
   * that may since be lost.
   */
  controlsRead?: number | undefined;
  /** The peer record's `proposals_read` (absent: none): judged to there, by a state that may since be lost. */
  proposalsRead?: number | undefined;
  /**
   * Called once a read judged to the end batches carrying proposals, with
   * the highest seq of them (also when the read then failed): the round keeps
   * it in the peer record, which outlives `state/`.
   */
  onProposalsJudged?(seq: number): Promise<void>;
  /**
   * Called after a batch's controls are known, before it is applied
   * (peer.accept...), with the seq of the batch (or checkpoint) carrying them.
   */
  onPeerControls(controls: Control[], seq: number): Promise<void>;
  /** The engine as of now (the start of the next batch). */
  engine(): Promise<PermissionEngine>;
  /** A batch applied a proposal to one of our permission files. */
  onPermissionsChanged(): void;
}

/** Proposals judged per peer and round when the context sets no limit (config `sync.max_proposals`). */
export const DEFAULT_MAX_PROPOSALS = 10_000;

/** An empty reading that starts from `state` with `budget` proposals to judge. */
export function startWork(state: ChannelState, budget: number): Work {
  return {
    budget,
    state,
    batches: 0,
    applied: 0,
    rejected: 0,
    conflicts: 0,
    quarantined: 0,
    peerControls: [],
    permissionsChanged: false,
    gap: false,
    rollback: null,
    paths: [],
    refused: [],
    rejections: [],
    copies: new Map(),
    seen: new Map(),
    listedTop: 0,
    judgedTop: 0,
  };
}

/** The report of a finished reading: its working fields dropped. */
export function resultOf(work: Work): ReceiveResult {
  const { budget: _b, copies: _c, seen: _s, ...result } = work;
  return result;
}

/** Paths a result names; the rest are counted. */
const NAMED_PATHS = 8;

/** Count one applied event, naming its path while the report has room. */
export function countApplied(work: Work, path: string): void {
  work.applied++;
  if (work.paths.length < NAMED_PATHS) work.paths.push(path);
}
