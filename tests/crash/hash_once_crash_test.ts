/**
 * Crash points of a round that hashes a large file while sealing it into the
 * pool (issue 17 item 3): a new file and an edit that changes a large file's
 * size, so the scan leaves both hashes for the seal. Whatever operation the
 * owner dies after, the restarted owner converges the mirror.
 */
import { assertEquals } from "../assert.ts";
import { DS, OWNER, peers } from "./_scenarios.ts";
import { disagreements, record, timedSweep } from "./_sweep.ts";
import { DEFER_HASH } from "../../core/sync/deferred_hash.ts";
import { INLINE_LIMIT } from "../../core/events/types.ts";

Deno.test("a crash anywhere in a round that hashes large files while sealing them: every mirror converges", async () => {
  const saved = DEFER_HASH.bytes;
  DEFER_HASH.bytes = INLINE_LIMIT; // small files keep the sweep cheap
  try {
    const { world, owner } = await peers();
    owner.writeOwn("public/grows.bin", "g".repeat(INLINE_LIMIT + 1));
    await world.settle();
    owner.writeOwn("public/grows.bin", "h".repeat(INLINE_LIMIT + 2));
    owner.writeOwn("public/new.bin", "n".repeat(INLINE_LIMIT + 3));
    owner.writeOwn("public/small.txt", "small");
    const r = await record(world, owner, (site) => site.sync());
    const result = await timedSweep(r, {
      judge: (w) => disagreements(w, OWNER, DS, ["public/"]),
    });
    assertEquals(result.failures, []);
  } finally {
    DEFER_HASH.bytes = saved;
  }
});
