import { assert, assertEquals, assertThrows } from "../../assert.ts";
import {
  canMovePeer,
  movePeer,
  PEER_START_STATES,
  PEER_STATES,
  type PeerState,
} from "../../../core/peers/state.ts";
import { isSyftError } from "../../../core/errors/mod.ts";

/** The whole table, row by row: from → the states it may move to. */
const ALLOWED: Record<PeerState, PeerState[]> = {
  requested: ["accepted", "rejected", "removed"],
  pending: ["accepted", "rejected", "removed"],
  accepted: ["rejected", "removed"],
  rejected: ["requested", "accepted", "rejected", "removed"],
  removed: ["requested", "accepted", "rejected", "removed"],
};

Deno.test("canMovePeer() allows exactly the moves of the peer lifecycle, and no other", () => {
  for (const from of PEER_STATES) {
    for (const to of PEER_STATES) {
      assertEquals(canMovePeer(from, to), ALLOWED[from].includes(to), `${from} → ${to}`);
    }
  }
});

Deno.test("every peer state can be removed and re-requested from, so no peer is stuck", () => {
  for (const from of PEER_STATES) assert(canMovePeer(from, "removed"), from);
  assert(canMovePeer("removed", "requested"));
  assertEquals([...PEER_START_STATES], ["requested", "pending"]);
});

Deno.test("movePeer() returns a moved copy and leaves the record as it was", () => {
  const record = { email: "bob@example.org", state: "pending" as PeerState, reason: null };
  const moved = movePeer(record, "accepted");
  assertEquals(moved, { email: "bob@example.org", state: "accepted", reason: null });
  assertEquals(record.state, "pending");
});

Deno.test("movePeer() refuses a move off the table with E_INPUT naming the peer, both states and a hint", () => {
  const refusals: [PeerState, PeerState][] = [
    ["removed", "pending"],
    ["accepted", "pending"],
    ["accepted", "accepted"],
    ["pending", "requested"],
    ["requested", "pending"],
  ];
  for (const [from, to] of refusals) {
    assertThrows(() => movePeer({ email: "bob@example.org", state: from }, to), (err) => {
      assert(isSyftError(err) && err.code === "E_INPUT", `${from} → ${to}`);
      assertEquals(
        err.message,
        `bob@example.org is ${from}: a peer cannot go from ${from} to ${to}`,
      );
      assertEquals(err.hint, "run `syft peer show bob@example.org` to see where they stand");
    });
  }
});
