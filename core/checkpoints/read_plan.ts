/**
 * The reader's decision for one channel (docs/protocol.md §6, §8), from a listing:
 * read the next batches; restore from the newest full checkpoint (a new reader,
 * one that lost its state, or one the channel has moved past); wait (a gap, or
 * a next object we quarantined, until the sender's fresh checkpoint comes);
 * or report a rollback. Never skip. Pure.
 * @module
 */
import { batchName, checkpointName } from "../events/types.ts";

/** Seqs of the batches and checkpoints a listing showed, each ascending. */
export interface ChannelListing {
  batches: number[];
  ci: number[];
  cf: number[];
}

/** Where the reader stands. */
export interface ReaderPosition {
  /** Highest seq applied (a batch's, or the checkpoint's it restored from). */
  cursor: number;
  /** Never read anything from this channel (no batch, no checkpoint). */
  fresh: boolean;
  /** Names of objects we refused: never read again. */
  quarantined: ReadonlySet<string>;
  /** We asked for a resync after refusing something: a cf past this seq answers it. */
  wantCf?: number | null | undefined;
}

/** What to do with the channel. */
export type ReadPlan =
  | { kind: "batches" }
  | { kind: "restore"; cf: number; ci: number[] }
  | { kind: "wait"; missing: number; why: "gap" | "quarantined" }
  | { kind: "rollback"; highest: number }
  | { kind: "idle" };

const names = {
  batch: batchName,
  ci: (s: number) => checkpointName("ci", s),
  cf: (s: number) => checkpointName("cf", s),
};

/** Decide. `listing` must hold every object after `cursor - 1` (more is fine). */
export function planRead(listing: ChannelListing, at: ReaderPosition): ReadPlan {
  const ok = (kind: keyof typeof names) => (s: number) => !at.quarantined.has(names[kind](s));
  const batches = listing.batches.filter(ok("batch"));
  const cfs = listing.cf.filter(ok("cf"));
  const cis = listing.ci.filter(ok("ci"));
  const restoreFrom = (cf: number): ReadPlan => ({
    kind: "restore",
    cf,
    ci: cis.filter((s) => s > cf),
  });
  const next = at.cursor + 1;
  const wanted = cfs.filter((s) => s > (at.wantCf ?? Infinity));
  if (wanted.length) return restoreFrom(wanted[wanted.length - 1]!);
  // (A fresh reader whose checkpoints were all refused reads the batches,
  // b-1's peer.accept among them, until the sender's answer comes.)
  if (at.fresh && cfs.length) return restoreFrom(cfs[cfs.length - 1]!);
  if (batches.includes(next)) return { kind: "batches" };
  // The channel moved past us (collected under the two-cf rule, or answering
  // our resync): the newest full checkpoint after our position.
  const newer = cfs.filter((s) => s > at.cursor);
  if (newer.length) return restoreFrom(newer[newer.length - 1]!);
  if (listing.batches.includes(next)) return { kind: "wait", missing: next, why: "quarantined" };
  const highest = Math.max(-1, ...listing.batches);
  if (highest > next) return { kind: "wait", missing: next, why: "gap" };
  // The newest batch is never collected, so a channel whose batches all lie
  // below our cursor was rolled back (or tampered with): report, never restore.
  const seen = highest >= at.cursor || listing.cf.includes(at.cursor) ||
    listing.ci.includes(at.cursor);
  if (!at.fresh && at.cursor > 0 && !seen) return { kind: "rollback", highest };
  return { kind: "idle" };
}
