import { posix } from "node:path";
import { assertEquals } from "../assert.ts";
import { childEnv, syftArgv } from "../../scripts/syft_process.ts";
import { filesUnder, peerUp, put, world } from "./_rig.ts";

Deno.test("while sync --watch runs, perm and peer commands and a second syft sync all succeed", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  const other = await w.site("other@uni.org");
  await peerUp(ds, owner);
  const watcher = new Deno.Command(Deno.execPath(), {
    args: syftArgv(["--home", owner.home, "sync", "--watch", "--interval", "1"]),
    env: childEnv({ HOME: posix.dirname(owner.home) }),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    for (let i = 0; i < 20; i++) await put(owner.datasite, `public/f${i}.txt`, `v${i}`);
    await other.ok(["peer", "add", owner.email]);
    // Each of these needs the round lock (sync, peer approve) or edits files the round reads.
    const results = await Promise.all([
      owner.syft(["sync"]),
      owner.syft(["perm", "grant", "reports/", ds.email, "--read"]),
      owner.syft(["peer", "approve", other.email]),
      owner.syft(["sync"]),
      owner.syft(["status", "--json"]),
    ]);
    for (const r of results) assertEquals(r.code, 0, `${r.stdout}\n${r.stderr}`);
    await ds.ok(["sync"]);
    assertEquals((await filesUnder(posix.join(ds.mirror(owner), "public"))).length, 20);
  } finally {
    watcher.kill("SIGTERM");
  }
  const status = await watcher.output();
  assertEquals(status.code, 0, new TextDecoder().decode(status.stderr));
});
