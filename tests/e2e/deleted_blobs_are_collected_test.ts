/**
 * Issue 14, item 14: a deleted large file's blob leaves shared storage once
 * the peer acknowledged the deletion, and the shared folder returns near its
 * size before the file was published.
 * @module
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { filesUnder, peered, put } from "./_rig.ts";

async function sharedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await filesUnder(dir)) total += (await Deno.stat(posix.join(dir, f))).size;
  return total;
}

Deno.test("a deleted large file's blob is collected from shared storage once the peer acked the deletion", async () => {
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  try {
    const channel = posix.join(w.shared, `syft1#${owner.email}#${ds.email}`);
    // Protocol v2 stores it in the owner's pool; protocol 1 in the channel.
    const pool = posix.join(w.shared, `syft2pool#${owner.email}`);
    const blobs = async () => [
      ...(await filesUnder(channel)).filter((f) => f.startsWith("x-")),
      ...(await filesUnder(pool).catch(() => [])).filter((f) => f.startsWith("p-")),
    ];
    const baseline = await sharedBytes(w.shared);

    // 3 MiB of incompressible bytes: far past the inline limit, so it travels as a blob.
    const big = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    await Deno.mkdir(posix.join(owner.datasite, "public"), { recursive: true });
    await Deno.writeFile(posix.join(owner.datasite, "public/big.bin"), big);
    await owner.ok(["sync"]);
    await ds.ok(["sync"]);
    assertEquals(
      (await Deno.stat(posix.join(ds.mirror(owner), "public/big.bin"))).size,
      big.length,
    );
    assertEquals((await blobs()).length, 1, "the file went as one blob");

    await Deno.remove(posix.join(owner.datasite, "public/big.bin"));
    // The ds's own edits carry its acks back; a few rounds each way at most.
    for (let i = 0; i < 4 && (await blobs()).length > 0; i++) {
      await owner.ok(["sync"]);
      await put(ds.datasite, `public/ack${i}.txt`, `ack ${i}`);
      await ds.ok(["sync"]);
    }
    await owner.ok(["sync"]);
    await owner.ok(["sync"]);
    assertEquals(await blobs(), [], "the deleted file's blob is still in the channel");
    assert(
      !(await filesUnder(ds.mirror(owner))).includes("public/big.bin"),
      "the deletion reached the peer",
    );
    const after = await sharedBytes(w.shared);
    assert(
      after - baseline < 256 * 1024,
      `shared storage grew by ${after - baseline} bytes after the file was deleted`,
    );

    // The peer still restores cleanly from what is left (no reference to the gone blob).
    const r = await ds.ok(["sync", "--json"]);
    assertEquals(JSON.parse(r.stdout).quarantined, 0, r.stderr);
  } finally {
    await Deno.remove(w.base, { recursive: true }).catch(() => {});
  }
});
