/**
 * An owner and its peers in memory, each peer connected to the owner, over a
 * transport with or without a pool (protocol v2): the world of the pool and
 * hash-once tests.
 * @module
 */
import { type MemorySite, MemoryWorld } from "../../../../core/testing/world.ts";

/** The owner's address in these worlds. */
export const OWNER = "owner@hospital.org";

/** A world of {@linkcode OWNER} and `peers`, connected, not settled. */
export async function poolWorld(
  peers: string[],
  pool = true,
): Promise<{ w: MemoryWorld; owner: MemorySite; sites: MemorySite[] }> {
  const w = new MemoryWorld();
  w.storage.pool = pool;
  const owner = await w.site(OWNER);
  const sites: MemorySite[] = [];
  for (const p of peers) {
    const site = await w.site(p);
    await w.connect(site, owner);
    sites.push(site);
  }
  return { w, owner, sites };
}
