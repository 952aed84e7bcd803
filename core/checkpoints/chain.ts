/**
 * Garbage collection of our own channel (docs/protocol.md §6), decided from the
 * record of what we wrote there (no listing needed): batches and incrementals
 * covered by a later checkpoint, and events-free batches, go once the
 * recipient's ack has passed them; whatever the acks, only the two newest full
 * checkpoints and what follows the older one are kept; the newest batch is never
 * deleted (it carries the seq); a blob goes when no kept object references it.
 * Pure.
 * @module
 */
import { batchName, checkpointName } from "../events/types.ts";

/** One object we wrote to a channel and have not deleted. */
export interface ChainEntry {
  kind: "batch" | "ci" | "cf";
  seq: number;
  /** Events it carries (0: an events-free batch of acks or controls). */
  events: number;
  /** Blob ids its events reference. */
  blobs: string[];
}

/** The object name of an entry. */
export function entryName(e: ChainEntry): string {
  return e.kind === "batch" ? batchName(e.seq) : checkpointName(e.kind, e.seq);
}

/** What a collection removes and keeps. */
export interface GcPlan {
  remove: ChainEntry[];
  keep: ChainEntry[];
  /** Blob ids referenced by removed entries and by no kept one. */
  blobs: string[];
}

/** Objects with this kind's newest seq first, for the "covered by" checks. */
function newestSeq(chain: readonly ChainEntry[], kinds: ChainEntry["kind"][]): number {
  let best = -1;
  for (const e of chain) if (kinds.includes(e.kind) && e.seq > best) best = e.seq;
  return best;
}

/**
 * Decide a collection. `acked` is the highest of our batch seqs the recipient
 * says it applied.
 */
export function planGc(chain: readonly ChainEntry[], acked: number): GcPlan {
  const cfs = chain.filter((e) => e.kind === "cf").map((e) => e.seq).sort((a, b) => a - b);
  // Regardless of acks: nothing before the older of the two newest cfs.
  const floor = cfs.length > 2 ? cfs[cfs.length - 2]! : -1;
  const newestBatch = newestSeq(chain, ["batch"]);
  const newestCheckpoint = newestSeq(chain, ["ci", "cf"]);
  const newestCf = newestSeq(chain, ["cf"]);
  const remove: ChainEntry[] = [];
  const keep: ChainEntry[] = [];
  for (const e of chain) {
    let drop: boolean;
    if (e.kind === "batch" && e.seq === newestBatch) drop = false;
    else if (e.kind === "cf") drop = e.seq < floor;
    else if (e.seq < floor || (e.kind === "batch" && e.seq === floor)) drop = true;
    else if (e.seq > acked) drop = false;
    else if (e.kind === "batch") drop = e.events === 0 || e.seq <= newestCheckpoint;
    else drop = e.seq <= newestCf; // a ci covered by a full checkpoint
    (drop ? remove : keep).push(e);
  }
  const kept = new Set(keep.flatMap((e) => e.blobs));
  const blobs = [...new Set(remove.flatMap((e) => e.blobs))].filter((b) => !kept.has(b));
  return { remove, keep, blobs };
}
