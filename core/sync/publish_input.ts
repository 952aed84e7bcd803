/**
 * What a round hands the writer of one channel, and the one check an idle
 * round makes with it: whether a channel has nothing new to publish. Apart
 * from publication.ts so that check loads neither the permission engine nor
 * the YAML parser behind it.
 * @module
 */
import { createHash } from "node:crypto";
import type { Control } from "../events/types.ts";
import type { PermissionEngine } from "../permissions/mod.ts";
import type { OutgoingEvent } from "./propose.ts";
import type { ChannelState, FileInfo, PendingProposal } from "./state.ts";

/** How far our acks of a peer's batches may lag before an acks-only batch is written. */
export const ACK_LAG_BATCHES = 16;

/** What a round hands the writer of one channel besides its state. */
export interface PublishInput {
  engine: PermissionEngine;
  index: ReadonlyMap<string, FileInfo>;
  /** Publish our datasite (the peer is accepted). */
  publishDatasite: boolean;
  proposals: OutgoingEvent[];
  /**
   * Path → the pending record each of `proposals` becomes once the batch
   * carrying it is in (`collectProposals`' `pending`).
   */
  pending?: Record<string, PendingProposal> | undefined;
  /** Control records decided by the round (peer.accept...). */
  extraControls: Control[];
  /**
   * {@linkcode indexFingerprint} of `index`: a channel that published for
   * exactly this index, with nothing else to send, skips planning.
   */
  indexFingerprint?: string | undefined;
}

/**
 * One hash of what an index holds (paths, hashes, modes; not times), so an
 * idle round can tell in one comparison per peer that a channel has nothing
 * new to publish, where planning compared every file for every peer.
 */
export function indexFingerprint(index: ReadonlyMap<string, FileInfo>): string {
  const hash = createHash("sha256");
  for (const path of [...index.keys()].sort()) {
    const info = index.get(path)!;
    hash.update(`${path}\0${info.hash}\0${info.mode}\n`);
  }
  return hash.digest("hex");
}

/**
 * Whether `state` has nothing to send for `input` beyond what it published
 * for this very index: no proposal, control, republish, resync, due ack or
 * unsettled put. The permission files are in the index, so a grant or a
 * revocation changes the fingerprint too.
 */
export function nothingToPublish(state: ChannelState, input: PublishInput): boolean {
  return input.indexFingerprint !== undefined &&
    state.published_index === input.indexFingerprint &&
    input.publishDatasite && state.published_once &&
    input.proposals.length === 0 && input.extraControls.length === 0 &&
    state.controls.length === 0 && state.republish.length === 0 && !state.cf_due &&
    state.pending_put === null &&
    !(state.ack_needed && state.cursor - state.acks_sent >= ACK_LAG_BATCHES);
}
