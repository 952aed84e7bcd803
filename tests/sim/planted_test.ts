/**
 * The simulation's checker can fail: a bug planted in the world (a permission
 * engine that says yes, a reader that skips a file, a transport that loses
 * objects) makes seeds fail, while the same seeds pass without it. Without
 * these, a checker that never fails would look like a green engine.
 */
import { assert, assertEquals } from "../assert.ts";
import { channelName } from "../../core/transport/contract.ts";
import type { LocalFs } from "../../core/fs/local_fs.ts";
import { MemoryFs } from "../../core/testing/memory_fs.ts";
import type { MemoryWorld } from "../../core/testing/world.ts";
import { emailsOf, type Plant, runSeed } from "./run.ts";
import { shrink } from "./shrink.ts";

const SEEDS = [1, 2, 3];
const OPS = 150;

/**
 * The invariants `plant` broke over {@linkcode SEEDS}, one entry per failing
 * seed; with `sharedSetup`, planted into each seed's fork of the shared set-up.
 */
async function broken(plant: Plant | undefined, sharedSetup = false): Promise<string[]> {
  const out: string[] = [];
  for (const seed of SEEDS) {
    const r = await runSeed({ seed, ops: OPS, plant, sharedSetup });
    if (r.failure) out.push(`${seed}:${r.failure.invariant}`);
    if (r.failure && Deno.env.get("SYFT_TEST_VERBOSE")) {
      console.log(`  seed ${seed}: ${r.failure.invariant}: ${r.failure.detail}`);
    }
  }
  return out;
}

/** Give every site's engine a file system wrapped by `wrap` (the model still reads the real one). */
function wrapEngineFs(world: MemoryWorld, wrap: (fs: MemoryFs, me: string) => LocalFs): void {
  for (const site of world.sites) {
    const fs = wrap(site.fs, site.me);
    site.ctx.fs = fs;
    (site.ctx.layout as { fs: LocalFs }).fs = fs;
  }
}

Deno.test("the planted-bug seeds pass without a planted bug", async () => {
  assertEquals(await broken(undefined), []);
});

/** Every site's permission files read as "everyone may write everything" by its engine. */
const permissive: Plant = (world) => {
  const yes = new MemoryFs();
  yes.writeFileSync(
    "/yes.yaml",
    new TextEncoder().encode("rules:\n  - pattern: '**'\n    access:\n      write: ['*']\n"),
  );
  wrapEngineFs(world, (fs) =>
    new Proxy(fs, {
      get(target, key) {
        if (key === "open") {
          return (path: string, options: Deno.OpenOptions) =>
            path.endsWith("/syft.pub.yaml") && !options.write
              ? yes.open("/yes.yaml", options)
              : target.open(path, options);
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }));
};

Deno.test("a permission engine that lets everyone read and write everything fails seeds", async () => {
  const failed = await broken(permissive);
  assert(failed.length > 0, "no seed failed");
  // CI's 2,000 seeds start from the shared set-up: planted after it, the same seeds fail alike.
  assertEquals(await broken(permissive, true), failed);
});

Deno.test("a failing seed shrinks to fewer operations that break the same invariant", async () => {
  const options = { seed: 1, ops: OPS, plant: permissive };
  const failed = await runSeed(options);
  assert(failed.failure !== null);
  const { result, tries } = await shrink(options, failed, 40);
  assert(tries <= 40);
  assertEquals(result.failure?.invariant, failed.failure.invariant);
  assert(result.ops.length < failed.ops.length / 4, `${result.ops.length} operations left`);
  // The shrunk list replays to the same failure.
  const again = await runSeed({ ...options, only: new Set(result.ops.map((op) => op.id)) });
  assertEquals(again.failure, result.failure);
});

Deno.test("a reader that skips one file of the mirrors fails seeds", async () => {
  const failed = await broken((world) =>
    wrapEngineFs(world, (fs, me) =>
      new Proxy(fs, {
        get(target, key) {
          if (key === "renameSync" || key === "rename") {
            return (from: string, to: string) => {
              // Contents of a peer's public/f1.txt never arrive in a mirror.
              const skipped = to.endsWith("/public/f1.txt") && !to.includes(`/SyftBox/${me}/`);
              if (skipped) return key === "rename" ? target.remove(from) : target.removeSync(from);
              return key === "rename" ? target.rename(from, to) : target.renameSync(from, to);
            };
          }
          const value = Reflect.get(target, key);
          return typeof value === "function" ? value.bind(target) : value;
        },
      }))
  );
  // Mirrors differ (a), or the engine cannot settle around the hole.
  assert(failed.length > 0, "no seed failed");
  assert(failed.every((f) => /:(a|settle)$/.test(f)), failed.join(", "));
});

Deno.test("a transport that silently loses every later object of one channel fails seeds", async () => {
  const failed = await broken((world) => {
    const [a, b] = emailsOf(2);
    const stored = world.storage.channels.get(channelName({ sender: a!, recipient: b! }))!;
    stored.objects.set = function () {
      return this;
    };
  });
  assert(failed.length > 0, "no seed failed");
});
