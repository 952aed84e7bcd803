import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { filesUnder, peered, put } from "./_rig.ts";

Deno.test("an owner's change that meets an unproposed local edit keeps ours as a .conflict copy", async () => {
  const { owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  await owner.ok(["perm", "grant", "shared/", ds.email, "--write"]);
  await put(owner.datasite, "shared/notes.txt", "v1");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  const mirror = ds.mirror(owner);
  assertEquals(await Deno.readTextFile(posix.join(mirror, "shared/notes.txt")), "v1");

  // Both edit the same file; the owner's edit travels first.
  await put(owner.datasite, "shared/notes.txt", "owner v2");
  await owner.ok(["sync"]);
  await put(mirror, "shared/notes.txt", "ds local edit");
  await ds.ok(["sync"]);

  assertEquals(await Deno.readTextFile(posix.join(mirror, "shared/notes.txt")), "owner v2");
  const copies = (await filesUnder(posix.join(mirror, "shared"))).filter((f) =>
    /^notes\.txt\.conflict\.\d{8}T\d{6}Z(-\d+)?$/.test(f)
  );
  assertEquals(copies.length, 1, "exactly one conflict copy");
  assertEquals(await Deno.readTextFile(posix.join(mirror, "shared", copies[0]!)), "ds local edit");

  // The conflict copy is a marker: never proposed to the owner.
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  await owner.ok(["sync"]);
  const ownerFiles = await filesUnder(posix.join(owner.datasite, "shared"));
  assert(!ownerFiles.some((f) => f.includes(".conflict.")), ownerFiles.join(", "));
  assertEquals(await Deno.readTextFile(posix.join(owner.datasite, "shared/notes.txt")), "owner v2");
});

Deno.test("a permitted edit by the peer on a shared writable file reaches the owner and comes back once", async () => {
  const { owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  await owner.ok(["perm", "grant", "shared/", ds.email, "--write"]);
  await put(owner.datasite, "shared/notes.txt", "v1");
  await owner.ok(["sync"]);
  await ds.ok(["sync"]);
  await put(ds.mirror(owner), "shared/notes.txt", "ds v2");
  const proposed = JSON.parse((await ds.ok(["sync", "--json"])).stdout);
  assertEquals(proposed.proposed, 1);
  await owner.ok(["sync"]);
  assertEquals(await Deno.readTextFile(posix.join(owner.datasite, "shared/notes.txt")), "ds v2");
  const back = JSON.parse((await ds.ok(["sync", "--json"])).stdout);
  assertEquals(back.conflicts, 0);
  assertEquals(back.proposed, 0, "the owner's echo of our own edit is not proposed again");
  assertEquals(await filesUnder(posix.join(ds.mirror(owner), "shared")), ["notes.txt"]);
});
