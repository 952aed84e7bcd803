import { assertEquals } from "../../assert.ts";
import {
  addToRolling,
  afterCheckpoint,
  checkpointDue,
  emptyRolling,
  incrementalEvents,
} from "../../../core/checkpoints/rolling.ts";
import type { FileChangeEvent } from "../../../core/events/types.ts";

const ME = "owner@hospital.org";
const ev = (path: string, hash: string, datasite = ME): FileChangeEvent => ({
  id: crypto.randomUUID(),
  datasite,
  path,
  old_hash: null,
  new_hash: hash,
  size: 1,
  deleted: false,
  mode: "file",
  submitted_at: 1,
  ts: 1,
  content: "inline",
});
const T = { checkpoint: 3, compact: 2 };

Deno.test("rolling: keeps the latest event per path, counts every publication, ignores proposals", () => {
  let r = emptyRolling();
  r = addToRolling(r, ME, [ev("a", "1".repeat(64)), ev("b", "2".repeat(64))]);
  r = addToRolling(r, ME, [ev("a", "3".repeat(64)), ev("inbox/x", "4".repeat(64), "ds@lab.org")]);
  assertEquals(r.count, 3);
  assertEquals(incrementalEvents(r).map((e) => [e.path, e.new_hash![0]]), [["a", "3"], ["b", "2"]]);
});

Deno.test("rolling: a ci at the threshold, a cf after `compact` incrementals", () => {
  let r = emptyRolling();
  const kinds: (string | null)[] = [];
  for (let i = 0; i < 12; i++) {
    r = addToRolling(r, ME, [ev(`f${i}`, "a".repeat(64))]);
    const due = checkpointDue(r, T);
    kinds.push(due);
    if (due) r = afterCheckpoint(r, due);
  }
  assertEquals(kinds, [null, null, "ci", null, null, "ci", null, null, "cf", null, null, "ci"]);
});
