/**
 * Issue 17 item 5, idle is free: once everything is settled, a round with
 * nothing to do writes no byte to the disk (no state file rewritten, no
 * journal, no temp file) and nothing to the storage. Only `last_sync.json`'s
 * mtime moves, so `syft status` still knows when the last round ran.
 */
import { assert, assertEquals } from "../../../assert.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";
import type { LocalFs } from "../../../../core/fs/local_fs.ts";
import { stateLayout } from "../../../../core/sync/state.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";
const PEER2 = "other@clinic.org";

/** The calls of a LocalFs that change the disk (utime only moves a time). */
const WRITES = new Set([
  "writeFileSync",
  "copyFileSync",
  "mkdir",
  "mkdirSync",
  "rename",
  "renameSync",
  "link",
  "remove",
  "removeSync",
  "chmod",
  "chmodSync",
]);

/** `fs` with every changing call counted (and `open` for writing). */
function counted(fs: LocalFs, calls: string[]): LocalFs {
  return new Proxy(fs, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const name = String(prop);
        const opts = args[1] as Deno.OpenOptions | undefined;
        const writing = (name === "open" || name === "openSync") &&
          (opts?.write || opts?.append || opts?.create || opts?.createNew || opts?.truncate);
        if (WRITES.has(name) || writing) calls.push(`${name} ${String(args[0])}`);
        return value.apply(target, args);
      };
    },
  });
}

Deno.test("an idle round writes nothing to the disk or the storage, on the owner and on its peers", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  const other = await world.site(PEER2);
  await world.connect(ds, owner);
  await world.connect(other, owner);
  for (let i = 0; i < 40; i++) owner.writeOwn(`public/f${i}.txt`, `file ${i}`);
  ds.write(`${OWNER}/app_data/job/inbox/${DS}/j1/run.sh`, "echo hi");
  await world.settle();
  const calls: string[] = [];
  for (const site of [owner, ds, other]) {
    const fs = counted(world.fs, calls);
    site.ctx.fs = fs;
    site.ctx.layout = stateLayout(site.ctx.layout.dir, fs);
  }
  // The first round on a new fs view learns what is on disk; it may write nothing either.
  const version = world.storage.version;
  for (let pass = 0; pass < 3; pass++) {
    for (const site of [owner, ds, other]) {
      world.clock.advance(1000);
      const r = await site.sync();
      assertEquals(r.sent + r.received, 0, `${site.me} moved something in an idle round`);
    }
  }
  assertEquals(calls, [], "idle rounds changed the disk");
  assertEquals(world.storage.version, version, "idle rounds changed the storage");
  // And the next real change is still published.
  owner.writeOwn("public/late.txt", "late");
  await world.settle();
  assert(ds.read(`${OWNER}/public/late.txt`) === "late", "the change after idle rounds arrived");
});
