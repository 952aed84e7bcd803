/**
 * Issue 12 item 13: user files are never mistaken for syft's markers. Only the
 * exact names syft writes (`<name>.rejected.<ms>`, `<name>.conflict.<ms>`,
 * `.<name>.tmp-<uuid>`) are its own; anything else is content and travels.
 * @module
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { filesUnder, peerUp, put, world } from "../e2e/_rig.ts";
import { isMarker, isSyftTemp, markerName, syftTempName } from "../../core/paths/markers.ts";

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
    ]
  ) {
    assert(!isMarker(user), `${user} taken for a marker`);
  }
  for (const user of [".notes.tmp-draft", ".tmp-x", ".a.tmp-1", "a.tmp-" + crypto.randomUUID()]) {
    assert(!isSyftTemp(user), `${user} taken for a temp file`);
  }
});

Deno.test("a user's file named like a marker (minutes.conflict.2024.md) is proposed and synced like any other", async () => {
  const w = await world();
  try {
    const owner = await w.site("owner@hospital.org");
    const ds = await w.site("ds@lab.org");
    await peerUp(ds, owner);
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
