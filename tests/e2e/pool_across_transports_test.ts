/**
 * Protocol v2 across two storages: an owner publishing one large file to a
 * peer on each of its two `local:` folders stores one pool copy per storage,
 * each readable by the peer on it, and no per-channel copy.
 */
import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import { filesUnder, peerUp, world } from "./_rig.ts";

Deno.test("a large file for peers on two storages is stored once in each storage's pool", async () => {
  const w = await world();
  try {
    const folderB = posix.join(w.base, "shared-b");
    await Deno.mkdir(folderB);
    const owner = await w.site("owner@hospital.org");
    const peer1 = await w.site("peer1@lab.org");
    const peer2 = await w.site("peer2@uni.org", { transport: `local:${folderB}` });
    await owner.ok(["transport", "add", "b", `local:${folderB}`]);
    await peerUp(peer1, owner);
    await peerUp(peer2, owner);

    const big = new Uint8Array(2 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    await Deno.mkdir(posix.join(owner.datasite, "public"), { recursive: true });
    await Deno.writeFile(posix.join(owner.datasite, "public/big.bin"), big);
    await owner.ok(["sync"]);
    await peer1.ok(["sync"]);
    await peer2.ok(["sync"]);
    for (const p of [peer1, peer2]) {
      assertEquals(await Deno.readFile(posix.join(p.mirror(owner), "public/big.bin")), big);
    }
    const pooled = async (dir: string) =>
      (await filesUnder(posix.join(dir, `syft2pool#${owner.email}`)).catch(() => []))
        .filter((f) => f.startsWith("p-"));
    const [a, b] = [await pooled(w.shared), await pooled(folderB)];
    assertEquals([a.length, b.length], [1, 1], "one copy on each storage");
    assertEquals(a, b, "under the same name");
    const blobs = [
      ...await filesUnder(w.shared),
      ...await filesUnder(folderB),
    ].filter((f) => posix.basename(f).startsWith("x-"));
    assertEquals(blobs, [], "no per-channel copy");
  } finally {
    await Deno.remove(w.base, { recursive: true }).catch(() => {});
  }
});
