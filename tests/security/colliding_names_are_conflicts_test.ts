/**
 * Issue 12 item 12: names that collide on the owner's disk are conflicts. Two
 * paths equal under case folding or Unicode normalisation would be one file
 * on a case-insensitive or normalising file system: the second is rejected
 * (a `.rejected` copy), never written over the first. The check applies on
 * every file system, since a datasite may later move to such a one.
 * @module
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { filesUnder, peered, put } from "../e2e/_rig.ts";

Deno.test("a proposed name that differs only by case or Unicode form from an existing one is rejected with a .rejected copy and never overwrites it", async () => {
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  try {
    await owner.ok(["perm", "grant", "shared/", ds.email, "--write"]);
    const nfc = "caf\u00e9.txt";
    const nfd = "cafe\u0301.txt";
    await put(owner.datasite, "shared/README.md", "owner's readme");
    await put(owner.datasite, `shared/${nfc}`, "owner's café");
    await put(owner.datasite, "shared/Docs/a.txt", "owner's doc");
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);

    const mirror = ds.mirror(owner);
    await put(mirror, "shared/readme.md", "ds readme");
    await put(mirror, `shared/${nfd}`, "ds café");
    await put(mirror, "shared/docs/b.txt", "ds doc");
    // Two new names that collide with each other, in one batch.
    await put(mirror, "shared/new/Data.csv", "first");
    await put(mirror, "shared/new/data.csv", "second");
    const sent = JSON.parse((await ds.ok(["sync", "--json"])).stdout);
    assertEquals(sent.proposed, 5);
    await owner.ok(["sync"]);

    const ownerFiles = await filesUnder(posix.join(owner.datasite, "shared"));
    assertEquals(
      await Deno.readTextFile(posix.join(owner.datasite, "shared/README.md")),
      "owner's readme",
    );
    assertEquals(
      await Deno.readTextFile(posix.join(owner.datasite, "shared", nfc)),
      "owner's café",
    );
    for (const clash of ["readme.md", nfd, "docs/b.txt"]) {
      assert(!ownerFiles.includes(clash), `${clash} was written beside its twin: ${ownerFiles}`);
    }
    const fresh = ownerFiles.filter((f) => f.startsWith("new/"));
    assertEquals(fresh.length, 1, `one of two colliding new names lands: ${fresh}`);

    // The peer is told: its attempts are kept as .rejected copies.
    await ds.ok(["sync"]);
    await ds.ok(["sync"]);
    const back = await filesUnder(posix.join(mirror, "shared"));
    for (const clash of ["readme.md", nfd, "docs/b.txt"]) {
      assert(
        back.some((f) => f.startsWith(`${clash}.rejected.`)),
        `no .rejected copy of ${clash}: ${back}`,
      );
    }
    assertEquals(
      back.filter((f) => f.startsWith("new/") && f.includes(".rejected.")).length,
      1,
      `${back}`,
    );
    assertEquals(await Deno.readTextFile(posix.join(mirror, "shared/README.md")), "owner's readme");
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});

Deno.test("a published name that collides with one already in the mirror never overwrites it: the reader keeps it as a .rejected copy, unless it holds the same content", async () => {
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  try {
    await put(owner.datasite, "public/Data.csv", "upper");
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
    // The same content under the colliding name is no conflict: no copy, nothing counted.
    await put(owner.datasite, "public/DATA.csv", "upper");
    await owner.ok(["sync"]);
    const same = JSON.parse((await ds.ok(["sync", "--json"])).stdout);
    assertEquals(same.conflicts, 0);
    assertEquals(
      (await filesUnder(posix.join(ds.mirror(owner), "public"))).filter((f) =>
        f !== "syft.pub.yaml"
      ),
      ["Data.csv"],
    );
    await put(owner.datasite, "public/data.csv", "lower");
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
    const mirror = ds.mirror(owner);
    const files = await filesUnder(posix.join(mirror, "public"));
    assertEquals(await Deno.readTextFile(posix.join(mirror, "public/Data.csv")), "upper");
    assert(!files.includes("data.csv"), `${files}`);
    const copy = files.find((f) => /^data\.csv\.rejected\.\d{8}T\d{6}Z(-\d+)?$/.test(f));
    assert(copy, `no .rejected copy: ${files}`);
    assertEquals(await Deno.readTextFile(posix.join(mirror, "public", copy)), "lower");
    // Nothing of it is proposed back to the owner.
    await owner.ok(["sync"]);
    assertEquals(
      (await filesUnder(posix.join(owner.datasite, "public"))).filter((f) => f !== "syft.pub.yaml"),
      ["DATA.csv", "Data.csv", "data.csv"],
    );
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});
