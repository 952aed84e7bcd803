/**
 * Issue 12 item 13: user files are never mistaken for syft's markers. Only the
 * exact names syft writes (`<name>.rejected.<UTC time>`, `<name>.conflict.<UTC time>`,
 * and earlier versions' `<name>.rejected.<ms>`,
 * `.<name>.tmp-<uuid>`) are its own; anything else is content and travels.
 * @module
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { filesUnder, peered, put } from "../e2e/_rig.ts";
import {
  freeMarkerName,
  isMarker,
  isSyftTemp,
  markerName,
  syftTempName,
} from "../../core/datasite/names.ts";

Deno.test("only the exact marker and temp names syft writes are recognised as syft's", () => {
  const now = Date.now();
  assert(isMarker(markerName("a.csv", "conflict", now)));
  assert(isMarker(markerName("a.csv", "rejected", now)));
  assert(isSyftTemp(syftTempName("a.csv")));
  for (
    const user of [
      "minutes.conflict.2024.md",
      "notes.rejected.1.txt",
      "a.conflict.12x",
      "a.conflict.",
      ".conflict.123",
      "a.conflict.-1",
      "a.CONFLICT.123",
      "a.conflict.0123",
      "a.rejected.20261205T011502",
      "a.rejected.20261205T011502Z-1",
      "a.rejected.20261205T011502Z-0",
      "a.rejected.20261205t011502z",
      "a.rejected.2026-12-05T01:15:02Z",
    ]
  ) {
    assert(!isMarker(user), `${user} taken for a marker`);
  }
  for (const user of [".notes.tmp-draft", ".tmp-x", ".a.tmp-1", "a.tmp-" + crypto.randomUUID()]) {
    assert(!isSyftTemp(user), `${user} taken for a temp file`);
  }
});

Deno.test("markers are named by readable UTC time, two in the same second do not collide, and earlier versions' epoch-ms markers are still recognised", async () => {
  const at = Date.UTC(2026, 11, 5, 1, 15, 2, 345);
  assertEquals(
    markerName("public/x.csv", "rejected", at),
    "public/x.csv.rejected.20261205T011502Z",
  );
  const taken = new Set(["x.csv.rejected.20261205T011502Z", "x.csv.rejected.20261205T011502Z-2"]);
  const free = await freeMarkerName(
    "x.csv",
    "rejected",
    at + 300,
    (n) => Promise.resolve(taken.has(n)),
  );
  assertEquals(free, "x.csv.rejected.20261205T011502Z-3");
  assert(isMarker(free!));
  assert(isMarker("x.csv.rejected.1764897302345"), "an earlier version's marker");
  assert(isMarker("x.csv.conflict.20261205T011502Z"));
});

Deno.test("a user's file named like a marker (minutes.conflict.2024.md) is proposed and synced like any other", async () => {
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  try {
    await owner.ok(["perm", "grant", "shared/", ds.email, "--write"]);
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
    const names = ["minutes.conflict.2024.md", "plan.rejected.v2.txt", "2024.conflict.1a"];
    for (const n of names) await put(ds.mirror(owner), `shared/${n}`, `user text ${n}`);
    const sent = JSON.parse((await ds.ok(["sync", "--json"])).stdout);
    assertEquals(sent.proposed, names.length);
    await owner.ok(["sync"]);
    const got = await filesUnder(posix.join(owner.datasite, "shared"));
    for (const n of names) {
      assert(got.includes(n), `${n} never reached the owner: ${got}`);
      assertEquals(
        await Deno.readTextFile(posix.join(owner.datasite, "shared", n)),
        `user text ${n}`,
      );
    }
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});
