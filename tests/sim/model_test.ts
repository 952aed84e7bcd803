/**
 * The simulation's independent model answers as docs/permissions.md says, for
 * the rules the simulation writes; and it refuses to guess on rules it does
 * not know.
 */
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { DEFAULT_PERMISSION_FILES } from "../../core/datasite/layout.ts";
import { inboxPermissionText } from "../../core/peers/service.ts";
import { may, projection, treeDiff, withoutMarkers } from "./model.ts";

const O = "o@sim.example";
const P = "p@sim.example";
const Q = "q@sim.example";

function datasite(extra: Record<string, string> = {}): Map<string, string> {
  return new Map(Object.entries({ ...DEFAULT_PERMISSION_FILES, ...extra }));
}

const grant = (read: string[], write: string[], terminal = false) =>
  `${terminal ? "terminal: true\n" : ""}rules:\n  - pattern: '**'\n    access:\n      read: ${
    JSON.stringify(read)
  }\n      write: ${JSON.stringify(write)}\n`;

Deno.test("a fresh datasite: public/ readable by all and writable by none, the rest owner-only", () => {
  const tree = datasite({ "public/a.txt": "a", "notes/b.txt": "b", "private/c.txt": "c" });
  assert(may(tree, O, P, "public/a.txt", "read"));
  assert(!may(tree, O, P, "public/a.txt", "write"));
  assert(!may(tree, O, P, "notes/b.txt", "read"));
  assert(!may(tree, O, P, "private/c.txt", "read"));
  assert(may(tree, O, O, "private/c.txt", "write"));
  assertEquals([...projection(tree, O, P).keys()], ["public/a.txt"]);
});

Deno.test("the deepest permission file governs alone, and write implies read", () => {
  const tree = datasite({
    "shared/syft.pub.yaml": grant([P], [Q]),
    "shared/deep/syft.pub.yaml": grant([], []),
  });
  assert(may(tree, O, P, "shared/x.txt", "read"));
  assert(!may(tree, O, P, "shared/x.txt", "write"));
  assert(may(tree, O, Q, "shared/x.txt", "read"));
  assert(may(tree, O, Q, "shared/x.txt", "write"));
  // The deeper file grants nothing, and parents are never merged in.
  assert(!may(tree, O, P, "shared/deep/y.txt", "read"));
});

Deno.test("a terminal file stops the walk; private/ is closed whatever a rule says", () => {
  const tree = datasite({
    "t/syft.pub.yaml": grant([], [], true),
    "t/open/syft.pub.yaml": grant(["*"], ["*"]),
    "private/syft.pub.yaml": grant(["*"], ["*"]),
  });
  assert(!may(tree, O, P, "t/open/x.txt", "read"));
  assert(!may(tree, O, P, "private/x.txt", "read"));
});

Deno.test("a permission file needs admin, which the simulation never grants", () => {
  const tree = datasite({ "shared/syft.pub.yaml": grant(["*"], ["*"]) });
  assert(!may(tree, O, P, "shared/syft.pub.yaml", "read"));
  assert(may(tree, O, P, "shared/a.txt", "write"));
});

Deno.test("an approved peer's inbox is writable by it alone", () => {
  const tree = datasite({ [`app_data/job/inbox/${P}/syft.pub.yaml`]: inboxPermissionText(P) });
  assert(may(tree, O, P, `app_data/job/inbox/${P}/job/run.sh`, "write"));
  assert(!may(tree, O, Q, `app_data/job/inbox/${P}/job/run.sh`, "read"));
});

Deno.test("a job's review folder: the submitter reads status/ at once, the rest once released", async () => {
  const { reviewPermissionText } = await import("../../core/jobs/layout.ts");
  const held = datasite({ "review/j/syft.pub.yaml": reviewPermissionText(P, false) });
  assert(may(held, O, P, "review/j/status/state.json", "read"));
  assert(!may(held, O, P, "review/j/outputs/result.txt", "read"));
  assert(!may(held, O, Q, "review/j/status/state.json", "read"));
  const released = datasite({ "review/j/syft.pub.yaml": reviewPermissionText(P, true) });
  assert(may(released, O, P, "review/j/outputs/result.txt", "read"));
  assert(!may(released, O, P, "review/j/outputs/.hidden", "read"));
});

Deno.test("an invalid permission file denies its subtree", () => {
  const tree = datasite({ "shared/syft.pub.yaml": "rules: [unclosed" });
  assert(!may(tree, O, P, "shared/a.txt", "read"));
});

Deno.test("the model refuses a rule it does not know rather than guess", () => {
  const tree = datasite({
    "shared/syft.pub.yaml": "rules:\n  - pattern: '*.csv'\n    access:\n      read: ['*']\n",
  });
  assertThrows(
    () => may(tree, O, P, "shared/a.csv", "read"),
    (err) => assert(String(err).includes("only knows")),
  );
});

Deno.test("mirrors compare without their marker copies, and a diff names each difference", () => {
  const mirror = new Map([
    ["a.txt", "1"],
    ["a.txt.rejected.20260101T000000Z", "mine"],
    ["b.txt.conflict.20260101T000000Z-2", "mine too"],
    ["old.txt", "x"],
  ]);
  const expected = new Map([["a.txt", "2"], ["c.txt", "3"]]);
  assertEquals(treeDiff(withoutMarkers(mirror), expected), [
    'a.txt holds "1", not "2"',
    "extra old.txt",
    "missing c.txt",
  ]);
});
