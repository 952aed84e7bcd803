import { posix } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { childEnv, syftArgv } from "../../scripts/syft_process.ts";
import { filesUnder, peerUp, put, type Site, world } from "./_rig.ts";
import { probeBubblewrap } from "../../core/sandbox/probe.ts";

/** `syft sync --watch` for a site, as a child process. */
function startWatch(site: Site): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: syftArgv(["--home", site.home, "sync", "--watch", "--interval", "1"]),
    env: childEnv({ HOME: posix.dirname(site.home) }),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

Deno.test("while sync --watch runs, perm and peer commands and a second syft sync all succeed", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  const other = await w.site("other@uni.org");
  await peerUp(ds, owner);
  const watcher = startWatch(owner);
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

Deno.test("while the owner's sync --watch runs, a job arrives, is approved, run and released, and job wait sees it", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  await peerUp(ds, owner);
  const watcher = startWatch(owner);
  try {
    const job = posix.join(w.base, "job");
    await put(job, "run.sh", 'echo 42 > "$SYFT_OUTPUT_DIR/answer.txt"\n');
    const id = JSON.parse(
      (await ds.ok(["job", "submit", "--to", owner.email, "--dir", job, "--json"])).stdout,
    ).id;
    // The watching owner records the job as pending without any command.
    for (let i = 0; i < 100; i++) {
      const rows = JSON.parse((await owner.ok(["job", "list", "--json"])).stdout);
      if (rows.length === 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const sandbox = (await probeBubblewrap()).available ? "bwrap" : "none";
    const results = await Promise.all([
      owner.syft(["job", "approve", id]).then(async (r) =>
        r.code === 0 ? await owner.syft(["job", "run", id, "--sandbox", sandbox, "--release"]) : r
      ),
      ds.syft(["job", "wait", id, "--timeout", "60"]),
    ]);
    for (const r of results) assertEquals(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = posix.join(w.base, "out");
    await ds.ok(["job", "results", id, "--out", out]);
    assertEquals(
      await Deno.readTextFile(posix.join(out, owner.email, "outputs/answer.txt")),
      "42\n",
    );
  } finally {
    watcher.kill("SIGTERM");
  }
  const status = await watcher.output();
  assertEquals(status.code, 0, new TextDecoder().decode(status.stderr));
});

Deno.test("a job a policy runs under sync --watch does not hold up syncing; its results follow when it ends", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  await peerUp(ds, owner);
  const sandbox = (await probeBubblewrap()).available ? "bwrap" : "none";
  if (sandbox === "none") return; // policies run only in a sandbox; the CLI test covers the refusal
  const body = 'sleep 4\necho slow > "$SYFT_OUTPUT_DIR/done.txt"\n';
  const submit = async (name: string) => {
    const dir = posix.join(w.base, name);
    await put(dir, "run.sh", body);
    return JSON.parse(
      (await ds.ok(["job", "submit", "--to", owner.email, "--dir", dir, "--json"])).stdout,
    ).id as string;
  };
  const first = await submit("first");
  await owner.ok(["sync"]);
  await owner.ok(["job", "approve", first]);
  await owner.ok(["job", "policy", "add", "slow", "--from", first]);
  const watcher = startWatch(owner);
  try {
    const second = await submit("second");
    // Wait until the watcher has started the policy's run.
    const review = posix.join(owner.datasite, `app_data/job/review/${ds.email}/${second}/status`);
    for (
      let i = 0;
      i < 100 && !(await Deno.lstat(posix.join(review, "running")).catch(() => null));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert(
      await Deno.lstat(posix.join(review, "running")).catch(() => null),
      "the policy run never started",
    );
    // While it sleeps, an edit still reaches the peer.
    await put(owner.datasite, "public/news.txt", "fresh");
    let seen = false;
    for (let i = 0; i < 30 && !seen; i++) {
      await ds.ok(["sync"]);
      seen = await Deno.readTextFile(posix.join(ds.mirror(owner), "public/news.txt")).then(
        () => true,
        () => false,
      );
      if (!seen) await new Promise((r) => setTimeout(r, 100));
    }
    assert(seen, "sync stalled while the job ran");
    assert(
      !(await Deno.lstat(posix.join(review, "done")).catch(() => null)),
      "the job had already ended",
    );
    await ds.ok(["job", "wait", second, "--timeout", "60"]);
  } finally {
    watcher.kill("SIGTERM");
  }
  await watcher.output();
});
