/**
 * The plan of a publication to one peer (core/sync/publication.ts), decided
 * without a transport or a disk: what the peer may read goes, what it may no
 * longer read is deleted (deletions first), a fresh identity never deletes, a
 * mass delete stops unless allowed, acks alone wait until they lag, batches
 * stay within the limits, and paths whose content changed since the scan keep
 * their old record.
 * @module
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { PermissionEngine } from "../../../core/permissions/mod.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { BATCH_LIMITS } from "../../../core/events/types.ts";
import { changeEvent } from "../../../core/events/make.ts";
import {
  ACK_LAG_BATCHES,
  groupEvents,
  planPublication,
  type Publisher,
  type PublishInput,
  sentRecord,
  writesNothing,
} from "../../../core/sync/publication.ts";
import type { OutgoingEvent } from "../../../core/sync/propose.ts";
import { type ChannelState, emptyChannelState, type FileInfo } from "../../../core/sync/state.ts";

const ME = "do@x.org";
const PEER = "ds@x.org";
const WHO: Publisher = { me: ME, datasite: `/root/${ME}`, now: 1000, allowMassDelete: false };

function info(hash: string): FileInfo {
  return { hash, size: 3, mtime: 0, mode: "file" };
}

/** An engine letting the peer read everything under `public/`. */
function engine(): PermissionEngine {
  const e = new PermissionEngine();
  e.setFile("public", `rules:\n  - pattern: '**'\n    access:\n      read: ['${PEER}']\n`);
  return e;
}

function input(files: Record<string, string>, over: Partial<PublishInput> = {}): PublishInput {
  return {
    engine: engine(),
    index: new Map(Object.entries(files).map(([p, h]) => [p, info(h)])),
    publishDatasite: true,
    proposals: [],
    extraControls: [],
    ...over,
  };
}

function published(record: Record<string, string>, over: Partial<ChannelState> = {}) {
  return { ...emptyChannelState(PEER), published: record, published_once: true, ...over };
}

Deno.test("a publication sends what the peer may read and has not, deletions first", () => {
  const state = published({ "public/old.csv": "h0", "public/same.csv": "h1" });
  const plan = planPublication(
    WHO,
    state,
    input({ "public/same.csv": "h1", "public/new.csv": "h2", "private/x.csv": "h3" }),
  );
  assertEquals(plan.outgoing.map((o) => [o.event.path, o.event.deleted]), [
    ["public/old.csv", true],
    ["public/new.csv", false],
  ]);
  assertEquals(plan.outgoing[1]!.source, `/root/${ME}/public/new.csv`);
  assertEquals(plan.published, { "public/same.csv": "h1", "public/new.csv": "h2" });
});

Deno.test("a fresh identity's first publication never deletes", () => {
  const state = { ...published({ "public/gone.csv": "h0" }), published_once: false };
  const plan = planPublication(WHO, state, input({}));
  assertEquals(plan.outgoing, []);
});

Deno.test("a mass delete stops the channel unless the user allows it", () => {
  const many = Object.fromEntries([...Array(12)].map((_, i) => [`public/f${i}.csv`, `h${i}`]));
  const err = assertThrows(() => planPublication(WHO, published(many), input({})));
  assert(err instanceof SyftError);
  assertEquals(err.code, "E_INPUT");
  assert(err.hint?.includes("--allow-mass-delete"));
  const allowed = planPublication({ ...WHO, allowMassDelete: true }, published(many), input({}));
  assertEquals(allowed.outgoing.length, 12);
});

Deno.test("acks alone are written only once they lag by ACK_LAG_BATCHES", () => {
  const behind = published({}, { ack_needed: true, cursor: ACK_LAG_BATCHES - 1 });
  assert(writesNothing(planPublication(WHO, behind, input({})), behind));
  const lagging = published({}, { ack_needed: true, cursor: ACK_LAG_BATCHES });
  assert(!writesNothing(planPublication(WHO, lagging, input({})), lagging));
});

Deno.test("controls only: the datasite is not published, the round's controls go first", () => {
  const state = published({}, {
    controls: [{ type: "channel.resync", from_seq: 1, reason: "asked" }],
  });
  const plan = planPublication(
    WHO,
    state,
    input({ "public/a.csv": "h1" }, {
      publishDatasite: false,
      extraControls: [{ type: "peer.remove" }],
    }),
  );
  assertEquals(plan.outgoing, []);
  assertEquals(plan.controls.map((c) => c.type), ["peer.remove", "channel.resync"]);
});

Deno.test("batches never hold more events than the limit", () => {
  const events: OutgoingEvent[] = [...Array(BATCH_LIMITS.events + 1)].map((_, i) => ({
    event: { ...changeEvent(ME, `public/${i}`, info("h"), null, 0), content: "blob" },
    source: null,
  }));
  assertEquals(groupEvents(events).map((g) => g.length), [BATCH_LIMITS.events, 1]);
});

Deno.test("a path whose content changed since the scan keeps its old record", () => {
  const plan = planPublication(
    WHO,
    published({ "public/a.csv": "old" }),
    input({ "public/a.csv": "new", "public/b.csv": "fresh" }),
  );
  const record = sentRecord(plan, {
    me: ME,
    before: { "public/a.csv": "old" },
    stale: new Set(["new", "fresh"]),
  });
  assertEquals(record, { "public/a.csv": "old" });
  assertEquals(
    sentRecord(plan, { me: ME, before: {}, stale: new Set() }),
    { "public/a.csv": "new", "public/b.csv": "fresh" },
  );
});
