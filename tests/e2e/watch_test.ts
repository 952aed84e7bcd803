import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import { childEnv, syftArgv } from "../../scripts/syft_process.ts";
import { peerUp, put, type Site, world } from "./_rig.ts";

function watch(site: Site): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: syftArgv(["--home", site.home, "sync", "--watch"]),
    env: childEnv({ HOME: posix.dirname(site.home) }),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function waitForText(path: string, text: string, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (await Deno.readTextFile(path).catch(() => null) === text) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} did not become ${JSON.stringify(text)} within ${timeoutMs} ms`);
}

Deno.test("with both sides in sync --watch an owner's edit shows in the peer's mirror quickly, and SIGTERM exits 0", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  await peerUp(ds, owner);
  const a = watch(owner);
  const b = watch(ds);
  try {
    const target = posix.join(ds.mirror(owner), "public/x.txt");
    // Generous bounds: this proves the wake-up path, the bench measures latency.
    for (let i = 0; i < 3; i++) {
      await put(owner.datasite, "public/x.txt", `v${i}`);
      await waitForText(target, `v${i}`, i === 0 ? 10_000 : 5_000);
    }
  } finally {
    a.kill("SIGTERM");
    b.kill("SIGTERM");
  }
  assertEquals((await a.status).code, 0);
  assertEquals((await b.status).code, 0);
});
