/**
 * Issue 17 item 3, hash each file once per round: a large new file is read
 * once by the owner's round (hashed while it is sealed into the pool), and
 * what the batch names is the hash of the bytes sealed, even when the file
 * changed after the scan. Where a hash is needed first (a per-channel blob)
 * or nobody reads the file, it is hashed before use; no index saved lacks one.
 */
import { assertEquals } from "../../../assert.ts";
import { SyftError } from "../../../../core/errors/mod.ts";
import { createHash } from "node:crypto";
import type { MemorySite } from "../../../../core/testing/world.ts";
import { OWNER, poolWorld } from "./_pool_world.ts";
import type { LocalFs } from "../../../../core/fs/local_fs.ts";
import { loadIndex } from "../../../../core/sync/state.ts";
import { DEFER_HASH } from "../../../../core/sync/deferred_hash.ts";
import { INLINE_LIMIT } from "../../../../core/events/types.ts";

const PEERS = ["ann@lab.org", "bob@lab.org"];

const SIZE = INLINE_LIMIT + 65536;

/** A test with files of {@linkcode SIZE} deferred (small "large" files keep it cheap). */
function hashOnceTest(name: string, fn: () => Promise<void>): void {
  Deno.test(name, async () => {
    const saved = DEFER_HASH.bytes;
    DEFER_HASH.bytes = INLINE_LIMIT;
    try {
      await fn();
    } finally {
      DEFER_HASH.bytes = saved;
    }
  });
}

function bigFile(seed: number): Uint8Array {
  const big = new Uint8Array(SIZE);
  for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
  big[0] = seed;
  return big;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function world(peers: string[], pool = true) {
  const made = await poolWorld(peers, pool);
  await made.w.settle();
  return made;
}

/** Count the owner's opens of `path`; `onOpen` runs before each. */
function watchOpens(site: MemorySite, path: string, onOpen: (n: number) => void = () => {}) {
  const opens = { n: 0 };
  const fs = site.ctx.fs;
  (site.ctx as { fs: LocalFs }).fs = new Proxy(fs, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (
          ["open", "openSync", "readFile", "readFileSync"].includes(String(prop)) &&
          args[0] === path
        ) {
          onOpen(++opens.n);
        }
        return value.apply(target, args);
      };
    },
  });
  return opens;
}

function fileOf(site: MemorySite, rel: string): Uint8Array | null {
  try {
    return site.fs.readFileSync(`${site.ctx.root}/${rel}`);
  } catch {
    return null;
  }
}

hashOnceTest(
  "a large new file published to two peers is read once by the owner's round, and both get it",
  async () => {
    const { w, owner, sites } = await world(PEERS);
    const big = bigFile(1);
    owner.writeOwn("public/big.bin", big);
    const opens = watchOpens(owner, `${owner.datasite}/public/big.bin`);
    await owner.sync();
    assertEquals(opens.n, 1, "one read: the seal's, which hashes as it goes");
    assertEquals(w.storage.poolNames(OWNER).length, 1, "one pool object for both peers");
    const index = await loadIndex(owner.ctx.layout);
    assertEquals(index.get("public/big.bin")?.hash, sha(big), "the saved index has the hash");
    await w.settle();
    for (const site of sites) assertEquals(sha(fileOf(site, `${OWNER}/public/big.bin`)!), sha(big));
    assertEquals(sites.flatMap((s) => s.warnings), []);
    // The next round finds nothing new: no read, no object.
    const names = w.storage.names({ sender: OWNER, recipient: PEERS[0]! }).length;
    await owner.sync();
    assertEquals(opens.n, 1);
    assertEquals(w.storage.names({ sender: OWNER, recipient: PEERS[0]! }).length, names);
  },
);

hashOnceTest(
  "a large file rewritten between the scan and the seal: the batch names the bytes sealed, the peer takes them",
  async () => {
    const { w, owner, sites } = await world(PEERS.slice(0, 1));
    const first = bigFile(2);
    const second = bigFile(3); // same size: the scan cannot tell
    owner.writeOwn("public/big.bin", first);
    const path = `${owner.datasite}/public/big.bin`;
    watchOpens(owner, path, (n) => {
      if (n === 1) owner.fs.writeFileSync(path, second); // after the scan, before the seal reads it
    });
    await owner.sync();
    await w.settle();
    const ann = sites[0]!;
    assertEquals(sha(fileOf(ann, `${OWNER}/public/big.bin`)!), sha(second));
    assertEquals(ann.warnings, [], "nothing quarantined: what was named is what was sealed");
    assertEquals((await loadIndex(owner.ctx.layout)).get("public/big.bin")?.hash, sha(second));
  },
);

hashOnceTest(
  "without a pool the hash comes first (a per-channel blob is named by it), and the peer gets the file",
  async () => {
    const { w, owner, sites } = await world(PEERS.slice(0, 1), false);
    const big = bigFile(4);
    owner.writeOwn("public/big.bin", big);
    await w.settle();
    assertEquals(sha(fileOf(sites[0]!, `${OWNER}/public/big.bin`)!), sha(big));
    assertEquals(sites[0]!.warnings, []);
  },
);

hashOnceTest("a large private file no peer reads is hashed before the index is saved", async () => {
  const { owner } = await world(PEERS.slice(0, 1));
  const big = bigFile(5);
  owner.writeOwn("private/big.bin", big);
  await owner.sync();
  assertEquals((await loadIndex(owner.ctx.layout)).get("private/big.bin")?.hash, sha(big));
});

hashOnceTest(
  "a crash in or after the pool put of a file hashed while sealing leaves nothing for good, and the peer gets the file",
  async () => {
    for (const op of ["poolPut", "put"]) {
      const { w, owner, sites } = await world(PEERS.slice(0, 1));
      const big = bigFile(6);
      owner.writeOwn("public/big.bin", big);
      let crash = true;
      w.storage.faults = {
        fail: (called, who) => {
          if (called !== op || who !== OWNER || !crash) return undefined;
          crash = false;
          return new SyftError("E_INTERNAL", "killed");
        },
      };
      await owner.sync().catch(() => {});
      assertEquals(crash, false, `the ${op} was attempted`);
      w.storage.faults = null;
      await w.settle();
      await w.settle();
      assertEquals(sha(fileOf(sites[0]!, `${OWNER}/public/big.bin`)!), sha(big), op);
      assertEquals(w.storage.poolNames(OWNER).length, 1, `${op}: the orphan is collected`);
    }
  },
);

hashOnceTest(
  "a large file moved is hashed by the scan, and its pool object reused, not sealed again",
  async () => {
    const { w, owner, sites } = await world(PEERS.slice(0, 1));
    const big = bigFile(7);
    owner.writeOwn("public/big.bin", big);
    await w.settle();
    const before = w.storage.poolNames(OWNER);
    w.clock.advance(1000);
    owner.fs.renameSync(`${owner.datasite}/public/big.bin`, `${owner.datasite}/public/moved.bin`);
    await w.settle();
    assertEquals(sha(fileOf(sites[0]!, `${OWNER}/public/moved.bin`)!), sha(big));
    assertEquals(w.storage.poolNames(OWNER), before, "the same object, named again");
  },
);
