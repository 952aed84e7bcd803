import { assertEquals } from "../../assert.ts";
import { planRead, type ReaderPosition } from "../../../core/checkpoints/read_plan.ts";

const at = (cursor: number, extra: Partial<ReaderPosition> = {}): ReaderPosition => ({
  cursor,
  fresh: false,
  quarantined: new Set(),
  ...extra,
});

Deno.test("read plan: the next batch present means batches", () => {
  assertEquals(planRead({ batches: [4, 5, 6], ci: [3], cf: [0] }, at(4)), { kind: "batches" });
});

Deno.test("read plan: a fresh reader restores from the newest cf and the ci's after it", () => {
  assertEquals(
    planRead({ batches: [1, 2, 3, 4, 5], ci: [1, 3, 4], cf: [0, 2] }, at(0, { fresh: true })),
    {
      kind: "restore",
      cf: 2,
      ci: [3, 4],
    },
  );
  assertEquals(planRead({ batches: [1], ci: [], cf: [] }, at(0, { fresh: true })), {
    kind: "batches",
  });
});

Deno.test("read plan: a reader the channel moved past restores from a newer cf", () => {
  assertEquals(planRead({ batches: [40, 41], ci: [], cf: [30, 40] }, at(7)), {
    kind: "restore",
    cf: 40,
    ci: [],
  });
});

Deno.test("read plan: a gap waits, never skips", () => {
  assertEquals(planRead({ batches: [5, 7], ci: [], cf: [0] }, at(5)), {
    kind: "wait",
    missing: 6,
    why: "gap",
  });
});

Deno.test("read plan: a refused next batch waits for the sender's fresh cf, then restores from it", () => {
  const q = new Set(["b-0000000000000006.syft"]);
  assertEquals(planRead({ batches: [5, 6, 7], ci: [], cf: [0] }, at(5, { quarantined: q })), {
    kind: "wait",
    missing: 6,
    why: "quarantined",
  });
  assertEquals(planRead({ batches: [5, 6, 7, 8], ci: [], cf: [0, 8] }, at(5, { quarantined: q })), {
    kind: "restore",
    cf: 8,
    ci: [],
  });
  // A refused cf is never the one restored from.
  const q2 = new Set([...q, "cf-0000000000000008.syft"]);
  assertEquals(
    planRead({ batches: [5, 6, 7, 8], ci: [], cf: [0, 8] }, at(5, { quarantined: q2 })).kind,
    "wait",
  );
});

Deno.test("read plan: a channel rolled back below our cursor is reported, not restored", () => {
  assertEquals(planRead({ batches: [], ci: [], cf: [0] }, at(9)), {
    kind: "rollback",
    highest: -1,
  });
  assertEquals(planRead({ batches: [9], ci: [], cf: [] }, at(9)), { kind: "idle" });
  // Restored from cf-0 with no batch yet: nothing rolled back.
  assertEquals(planRead({ batches: [], ci: [], cf: [0] }, at(0)), { kind: "idle" });
});

Deno.test("read plan: a fresh reader whose cf-0 was refused reads b-1 (the accept), then restores from the answer", () => {
  const q = new Set(["cf-0000000000000000.syft"]);
  assertEquals(
    planRead({ batches: [1], ci: [], cf: [0] }, at(0, { fresh: true, quarantined: q, wantCf: 0 })),
    { kind: "batches" },
  );
  assertEquals(
    planRead({ batches: [1, 2], ci: [], cf: [0, 2] }, at(1, { quarantined: q, wantCf: 0 })),
    { kind: "restore", cf: 2, ci: [] },
  );
});
