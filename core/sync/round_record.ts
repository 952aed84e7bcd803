/**
 * What the last rounds left wrong, kept in `state/problems.json` so `syft
 * status` can list it (file first: no daemon to ask) and a round can say each
 * skipped file once instead of every round. Rebuildable like all of `state/`:
 * losing it costs one repeated warning per file.
 * @module
 */
import { posix } from "node:path";
import { readState, type StateLayout, writeState } from "./state.ts";

/** One peer's channel trouble, per direction; absent when that direction is fine. */
export interface ChannelTrouble {
  /** What stopped reading the peer's channel to us. */
  reading?: string | undefined;
  /** What stopped publishing to the peer (a squatted name, the mass-delete stop...). */
  publishing?: string | undefined;
}

/** The record. */
export interface RoundRecord {
  /** Our own files that are not published, with why (each warned about once). */
  skipped: Record<string, string>;
  /** Per peer: what stopped its channel, as of the last round that tried it. */
  peers: Record<string, ChannelTrouble>;
}

function recordPath(layout: StateLayout): string {
  return posix.join(layout.dir, "problems.json");
}

/** Longest reason kept per entry: the file is read by every `syft status`. */
const MAX_REASON = 1000;

/** The record, or an empty one (missing or unreadable: it is only a cache of warnings). */
export async function loadRoundRecord(layout: StateLayout): Promise<RoundRecord> {
  const raw = await readState<unknown>(recordPath(layout), layout.fs).catch(() => undefined);
  return parseRoundRecord(raw);
}

/** Save the record when it differs from `before`. */
export async function saveRoundRecord(
  layout: StateLayout,
  record: RoundRecord,
  before: RoundRecord,
): Promise<void> {
  if (JSON.stringify(record) === JSON.stringify(before)) return;
  await writeState(recordPath(layout), record, layout.fs);
}

/** A stored record, keeping only well-formed entries. */
export function parseRoundRecord(raw: unknown): RoundRecord {
  const out: RoundRecord = { skipped: {}, peers: {} };
  if (typeof raw !== "object" || raw === null) return out;
  const { skipped, peers } = raw as Record<string, unknown>;
  if (typeof skipped === "object" && skipped !== null) {
    for (const [path, why] of Object.entries(skipped)) {
      if (typeof why === "string") out.skipped[path] = why.slice(0, MAX_REASON);
    }
  }
  if (typeof peers === "object" && peers !== null) {
    for (const [peer, t] of Object.entries(peers)) {
      if (typeof t !== "object" || t === null) continue;
      const { reading, publishing } = t as Record<string, unknown>;
      const trouble: ChannelTrouble = {};
      if (typeof reading === "string") trouble.reading = reading.slice(0, MAX_REASON);
      if (typeof publishing === "string") trouble.publishing = publishing.slice(0, MAX_REASON);
      if (trouble.reading !== undefined || trouble.publishing !== undefined) {
        out.peers[peer] = trouble;
      }
    }
  }
  return out;
}

/** Set (or clear, with null) one direction of a peer's trouble. */
export function setTrouble(
  record: RoundRecord,
  peer: string,
  direction: keyof ChannelTrouble,
  problem: string | null,
): void {
  const next: ChannelTrouble = { ...record.peers[peer] };
  if (problem === null) delete next[direction];
  else next[direction] = problem.slice(0, MAX_REASON);
  if (next.reading === undefined && next.publishing === undefined) delete record.peers[peer];
  else record.peers[peer] = next;
}

/** Lines for `syft status`: each peer's trouble, then each skipped file. */
export function describeRecord(record: RoundRecord): { peer: string; problem: string }[] {
  const out: { peer: string; problem: string }[] = [];
  for (const peer of Object.keys(record.peers).sort()) {
    const t = record.peers[peer]!;
    if (t.reading) out.push({ peer, problem: `reading from ${peer}: ${t.reading}` });
    if (t.publishing) out.push({ peer, problem: `publishing to ${peer}: ${t.publishing}` });
  }
  return out;
}

/** Lines for `syft status` for our skipped files. */
export function describeSkipped(record: RoundRecord): string[] {
  return Object.keys(record.skipped).sort().map((path) =>
    `not published: ${JSON.stringify(path)}: ${record.skipped[path]}`
  );
}
