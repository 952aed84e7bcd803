import { assertEquals } from "../../assert.ts";
import { type ChainEntry, entryName, planGc } from "../../../core/checkpoints/chain.ts";

const b = (seq: number, events = 1, blobs: string[] = []): ChainEntry => ({
  kind: "batch",
  seq,
  events,
  blobs,
});
const ci = (seq: number, blobs: string[] = []): ChainEntry => ({
  kind: "ci",
  seq,
  events: 5,
  blobs,
});
const cf = (seq: number, blobs: string[] = []): ChainEntry => ({
  kind: "cf",
  seq,
  events: 9,
  blobs,
});
const removed = (chain: ChainEntry[], acked: number) => planGc(chain, acked).remove.map(entryName);

Deno.test("gc: nothing goes before the recipient's ack has passed it", () => {
  const chain = [cf(0), b(1), b(2), ci(2), b(3, 0)];
  assertEquals(removed(chain, 0), []);
});

Deno.test("gc: acked batches covered by a checkpoint go; uncovered ones stay", () => {
  const chain = [cf(0), b(1), b(2), ci(2), b(3), b(4)];
  assertEquals(removed(chain, 4), ["b-0000000000000001.syft", "b-0000000000000002.syft"]);
});

Deno.test("gc: acked events-free batches go, but never the newest batch", () => {
  const chain = [b(1, 0), b(2, 0), b(3, 0)];
  assertEquals(removed(chain, 3), ["b-0000000000000001.syft", "b-0000000000000002.syft"]);
});

Deno.test("gc: an acked ci covered by a cf goes; the two newest cfs stay whatever the acks", () => {
  const chain = [cf(0), b(1), ci(1), b(2), cf(2), b(3)];
  assertEquals(removed(chain, 3), [
    "b-0000000000000001.syft",
    "ci-0000000000000001.syft",
    "b-0000000000000002.syft",
  ]);
});

Deno.test("gc: without any ack, only the two newest cfs and what follows the older one are kept", () => {
  const chain = [cf(0), b(1), ci(1), b(2), cf(2), b(3), ci(3), b(4), cf(4), b(5)];
  const plan = planGc(chain, 0);
  assertEquals(plan.remove.map(entryName), [
    "cf-0000000000000000.syft",
    "b-0000000000000001.syft",
    "ci-0000000000000001.syft",
    "b-0000000000000002.syft",
  ]);
  assertEquals(plan.keep.map(entryName), [
    "cf-0000000000000002.syft",
    "b-0000000000000003.syft",
    "ci-0000000000000003.syft",
    "b-0000000000000004.syft",
    "cf-0000000000000004.syft",
    "b-0000000000000005.syft",
  ]);
});

Deno.test("gc: a blob goes only when no kept object references it", () => {
  const chain = [b(1, 1, ["x1", "x2"]), b(2, 1, ["x2"]), ci(2, ["x2"]), b(3, 1, ["x3"])];
  const plan = planGc(chain, 3);
  assertEquals(plan.remove.map(entryName), ["b-0000000000000001.syft", "b-0000000000000002.syft"]);
  assertEquals(plan.blobs, ["x1"]);
});
