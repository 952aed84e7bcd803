/**
 * Where a peer stands and how that may change: the transition table of peer
 * states, and the one function that moves a record along it. The lifecycle
 * (docs/protocol.md §1, §5) is driven from two sides — our `syft peer` commands and
 * the peer's `peer.accept`/`peer.reject`/`peer.remove` controls read by sync —
 * and both go through {@linkcode movePeer}, so no code path invents a move.
 * @module
 */
import { SyftError } from "../errors/mod.ts";

/** Peer states of docs/cli.md (the same list as `core/status/report.ts`). */
export const PEER_STATES = ["requested", "pending", "accepted", "rejected", "removed"] as const;

/** One peer state. */
export type PeerState = typeof PEER_STATES[number];

/**
 * The states a record is created in: `requested` when we ask (`syft peer
 * add`), `pending` when their hello arrives first (discovery).
 */
export const PEER_START_STATES: readonly PeerState[] = ["requested", "pending"];

/**
 * Allowed moves, and who makes them:
 * - `accepted`: our approve (from requested, pending or rejected), or their
 *   `peer.accept` answering our request, or following their own
 *   `peer.remove` of us (they added us again; we never withdrew);
 * - `rejected`: our reject (any state: a new reason replaces the old), or
 *   their `peer.reject` (not once removed);
 * - `removed`: our remove or their `peer.remove` (any state);
 * - `requested`: our add, again, after a reject or a remove.
 *
 * `accepted → accepted` and `pending → pending` are no moves: approving or
 * discovering twice leaves the record as it is. A peer we removed is not
 * approved back: it is added again.
 */
const NEXT: Readonly<Record<PeerState, readonly PeerState[]>> = {
  requested: ["accepted", "rejected", "removed"],
  pending: ["accepted", "rejected", "removed"],
  accepted: ["rejected", "removed"],
  rejected: ["requested", "accepted", "rejected", "removed"],
  removed: ["requested", "accepted", "rejected", "removed"],
};

/** Whether a peer in state `from` may move to `to`. */
export function canMovePeer(from: PeerState, to: PeerState): boolean {
  return NEXT[from].includes(to);
}

/**
 * `record` moved to state `to` (a copy; the record itself is left alone).
 *
 * @example
 * ```ts
 * movePeer({ email: "bob@example.org", state: "pending" }, "accepted").state; // "accepted"
 * canMovePeer("pending", "requested"); // false: movePeer would throw E_INPUT
 * ```
 * @throws {SyftError} `E_INPUT` when the table has no such move
 */
export function movePeer<R extends { email: string; state: PeerState }>(
  record: R,
  to: PeerState,
): R {
  if (!canMovePeer(record.state, to)) {
    throw new SyftError(
      "E_INPUT",
      `${record.email} is ${record.state}: a peer cannot go from ${record.state} to ${to}`,
      { hint: `run \`syft peer show ${record.email}\` to see where they stand` },
    );
  }
  return { ...record, state: to };
}
