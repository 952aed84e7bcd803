/**
 * Issue 17 P1: a round's scan of a mirror takes the files its own journal
 * just wrote as the state records them, without an lstat each; an edit made
 * between the journal and that scan is not lost, the next round proposes it.
 */
import { assert, assertEquals } from "../../../assert.ts";
import type { LocalFs } from "../../../../core/fs/local_fs.ts";
import { type MemorySite, MemoryWorld } from "../../../../core/testing/world.ts";

const OWNER = "owner@hospital.org";
const PEER = "ann@lab.org";
const FILES = 20;

/**
 * Count the peer's lstats of paths under `dir`; the first listing of `dir`
 * (the scan's: the apply never lists a folder it creates) runs `onList` first.
 */
function watch(site: MemorySite, dir: string, onList: () => void): { lstats: number } {
  const seen = { lstats: 0, listed: false };
  const fs = site.ctx.fs;
  const watched = new Proxy(fs, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const path = String(args[0]);
        if ((prop === "lstatSync" || prop === "lstat") && path.startsWith(`${dir}/`)) {
          seen.lstats++;
        }
        if (prop === "readDirSync" && path === dir && !seen.listed) {
          seen.listed = true;
          onList();
        }
        return value.apply(target, args);
      };
    },
  });
  (site.ctx as { fs: LocalFs }).fs = watched;
  (site.ctx.layout as { fs: LocalFs }).fs = watched;
  return seen;
}

Deno.test("a peer's round lstats none of the mirror files its journal just wrote, and an edit made meanwhile is proposed next round", async () => {
  const w = new MemoryWorld();
  const owner = await w.site(OWNER);
  const peer = await w.site(PEER);
  await w.connect(peer, owner);
  await w.settle();
  for (let i = 0; i < FILES; i++) owner.writeOwn(`public/small/f${i}.txt`, `content ${i}`);
  await owner.sync();

  const mirrored = `${peer.ctx.root}/${OWNER}/public/small`;
  const seen = watch(peer, mirrored, () => {
    // Between the rename into place and the scan: a user's edit.
    w.clock.advance(1000);
    peer.fs.writeFileSync(`${mirrored}/f0.txt`, new TextEncoder().encode("my edit"));
  });
  const first = await peer.sync();
  assertEquals(first.applied, FILES);
  assertEquals(seen.lstats, 0);
  assertEquals(first.proposed, 0);
  assertEquals(peer.read(`${OWNER}/public/small/f1.txt`), "content 1");

  // The next round's scan lstats every file again (and the edited one after hashing it).
  const second = await peer.sync();
  assertEquals(second.proposed, 1);
  assert(seen.lstats >= FILES, `${seen.lstats} lstats`);
});
