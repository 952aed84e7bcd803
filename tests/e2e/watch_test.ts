/**
 * `syft sync --watch` between two datasites on one `local:` transport (docs/cli.md,
 * Sync): edits show in the peer's mirror within a second, editor saves and
 * bursts are coalesced, and SIGINT/SIGTERM stop it with exit 0.
 * @module
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { childEnv, syftArgv } from "../../scripts/syft_process.ts";
import { filesUnder, peerUp, put, type Site, world } from "./_rig.ts";

/** A running `syft sync --watch`. */
interface Watcher {
  /** Send `signal`, then wait for the exit; what it printed, and how long the exit took. */
  stop(signal?: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string; ms: number }>;
}

function watch(site: Site, flags: string[] = []): Watcher {
  const child = new Deno.Command(Deno.execPath(), {
    args: syftArgv(["--home", site.home, ...flags, "sync", "--watch"]),
    env: childEnv({ HOME: posix.dirname(site.home) }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let stopped: ReturnType<Watcher["stop"]> | null = null;
  return {
    stop(signal = "SIGTERM") {
      stopped ??= (async () => {
        const start = performance.now();
        try {
          child.kill(signal);
        } catch {
          // already gone: its status says why
        }
        const out = await output;
        const decoder = new TextDecoder();
        return {
          code: out.code,
          stdout: decoder.decode(out.stdout),
          stderr: decoder.decode(out.stderr),
          ms: performance.now() - start,
        };
      })();
      return stopped;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `path` holds `text`; the time it took. Bounds are generous: CI machines are slow. */
async function waitForText(path: string, text: string, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (await Deno.readTextFile(path).catch(() => null) === text) return performance.now() - start;
    await sleep(10);
  }
  throw new Error(`${path} did not become ${JSON.stringify(text)} within ${timeoutMs} ms`);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Two peered sites, both in `sync --watch`, the first edit through; `stopAll` asserts exit 0. */
async function watchingPair() {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  await peerUp(ds, owner);
  // The ds talks JSON Lines, the owner to people: both forms are checked below.
  const watchers = { owner: watch(owner), ds: watch(ds, ["--json"]) };
  const stopAll = async (signals: [Deno.Signal, Deno.Signal] = ["SIGTERM", "SIGTERM"]) => {
    const [a, b] = await Promise.all([
      watchers.owner.stop(signals[0]),
      watchers.ds.stop(signals[1]),
    ]);
    for (const [who, r] of [["owner", a], ["ds", b]] as const) {
      assertEquals(r.code, 0, `${who} sync --watch exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    }
    return { owner: a, ds: b };
  };
  try {
    // The first round of each side (start-up, discovery) is not what is measured.
    await put(owner.datasite, "public/settle.txt", "settled");
    await waitForText(posix.join(ds.mirror(owner), "public/settle.txt"), "settled", 20_000);
    await sleep(500);
  } catch (err) {
    await stopAll().catch(() => {});
    await Deno.remove(w.base, { recursive: true }).catch(() => {});
    throw err;
  }
  const cleanup = () => Deno.remove(w.base, { recursive: true }).catch(() => {});
  return { owner, ds, shared: w.shared, stopAll, cleanup };
}

Deno.test("with both sides in sync --watch an owner's edit shows in the peer's mirror within a second (median)", async () => {
  const { owner, ds, stopAll, cleanup } = await watchingPair();
  const latencies: number[] = [];
  try {
    const target = posix.join(ds.mirror(owner), "public/x.txt");
    for (let i = 0; i < 5; i++) {
      const text = `v${i} ${crypto.randomUUID()}`;
      const start = performance.now();
      await put(owner.datasite, "public/x.txt", text);
      await waitForText(target, text, 15_000);
      latencies.push(performance.now() - start);
      await sleep(300);
    }
  } finally {
    await stopAll().finally(cleanup);
  }
  const ms = latencies.map((l) => Math.round(l));
  assert(median(latencies) < 1_000, `median edit -> visible ${median(ms)} ms (samples ${ms})`);
});

Deno.test("sync --watch coalesces a temp-file + rename save and a burst of 50 writes; the temp file never reaches the peer", async () => {
  const { owner, ds, stopAll, cleanup } = await watchingPair();
  const mirror = ds.mirror(owner);
  const doc = posix.join(owner.datasite, "public/doc.txt");
  // Names editors save through (gedit/GIO, and a plain `<name>.tmp`): neither is syft's own temp pattern.
  const temps = [".goutputstream-Q2ZL1X", "doc.txt.tmp"];
  const seen = new Set<string>();
  const mirrorWatch = Deno.watchFs(mirror, { recursive: true });
  const recording = (async () => {
    for await (const e of mirrorWatch) for (const p of e.paths) seen.add(posix.basename(p));
  })();
  let stopped: Awaited<ReturnType<typeof stopAll>> | undefined;
  const burstStart = Date.now();
  try {
    const save = async (tempName: string, text: string) => {
      const temp = posix.join(owner.datasite, "public", tempName);
      await Deno.writeTextFile(temp, text);
      await Deno.rename(temp, doc);
    };
    await save(temps[0]!, "saved once");
    for (let i = 0; i < 50; i++) await Deno.writeTextFile(doc, `burst ${i}`);
    await save(temps[1]!, "final");
    await waitForText(posix.join(mirror, "public/doc.txt"), "final", 20_000);
    // Anything still in flight (a late round) has time to land before the checks.
    await sleep(1_000);
    assertEquals(await filesUnder(posix.join(mirror, "public")), ["doc.txt", "settle.txt"]);
    assertEquals(await Deno.readTextFile(posix.join(mirror, "public/doc.txt")), "final");
  } finally {
    mirrorWatch.close();
    await recording;
    stopped = await stopAll().finally(cleanup);
  }
  for (const t of temps) {
    assert(!seen.has(t), `${t} appeared in the peer's mirror (scan ran mid-save?)`);
  }
  // The owner prints one line per round that moved something; 52 edits must not cost 52 rounds.
  // Its stamps are to the second: a round in the burst's first second counts too.
  const rounds = stopped.owner.stdout.split("\n").filter((line) => {
    const m = /^(\S+) ds@lab\.org: .*\bsent /.exec(line);
    return m !== null && Date.parse(m[1]!) >= burstStart - 1000;
  });
  assert(rounds.length >= 1, `no round line named what the owner sent:\n${stopped.owner.stdout}`);
  assert(rounds.length <= 4, `the owner sent in ${rounds.length} rounds:\n${rounds.join("\n")}`);
});

Deno.test("sync --watch says when it starts (datasite, transport, peers), names the files of each round that moved some, says nothing for idle rounds, and says when it stops; --json gives one object per line", async () => {
  const { owner, ds, stopAll, cleanup } = await watchingPair();
  let stopped: Awaited<ReturnType<typeof stopAll>>;
  try {
    await put(owner.datasite, "public/talk.txt", "said");
    await waitForText(posix.join(ds.mirror(owner), "public/talk.txt"), "said", 20_000);
    await sleep(1_500); // idle rounds: no line
  } finally {
    stopped = await stopAll().finally(cleanup);
  }
  const lines = stopped.owner.stdout.trimEnd().split("\n");
  assertMatch(
    lines[0]!,
    new RegExp(
      `^\\S+Z watching ${owner.datasite} over local:\\S+ with ds@lab\\.org \\(Ctrl-C to stop\\)$`,
    ),
  );
  assert(
    lines.some((l) => /^\S+Z ds@lab\.org: sent public\/talk\.txt$/.test(l)),
    stopped.owner.stdout,
  );
  assertMatch(lines[lines.length - 1]!, /^\S+Z stopped after \d+ round\(s\)$/);
  // Only the start, the rounds that moved files and the stop: never an idle round's line.
  for (const l of lines.slice(1, -1)) assertMatch(l, /^\S+Z ds@lab\.org: (received|sent) /);

  const events = stopped.ds.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assertEquals(events[0].event, "start");
  assertEquals(events[0].peers, [owner.email]);
  assertEquals(events[events.length - 1].event, "stop");
  const rounds = events.filter((e) => e.event === "round");
  assert(
    rounds.some((e) =>
      e.moved.some((m: { peer: string; received_paths: string[] }) =>
        m.peer === owner.email && m.received_paths.includes("public/talk.txt")
      )
    ),
    stopped.ds.stdout,
  );
});

Deno.test("sync --watch --quiet prints nothing, from start to stop", async () => {
  const w = await world();
  try {
    const site = await w.site("owner@hospital.org");
    const watcher = watch(site, ["--quiet"]);
    await put(site.datasite, "public/a.txt", "a");
    await sleep(1_500);
    const r = await watcher.stop("SIGINT");
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, "");
    assertEquals(r.stderr, "");
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});

Deno.test("SIGINT and SIGTERM stop sync --watch with exit 0, mid-round too, leaving no half-written file", async () => {
  const { owner, ds, stopAll, cleanup } = await watchingPair();
  try {
    const texts = new Map<string, string>();
    for (let i = 0; i < 300; i++) texts.set(`f${i}.txt`, `${i} `.repeat(500));
    for (const [name, text] of texts) await put(owner.datasite, `public/many/${name}`, text);
    // Signal as soon as the ds's round starts writing them: it finishes that round first.
    const arrived = posix.join(ds.mirror(owner), "public/many");
    const start = performance.now();
    while ((await filesUnder(arrived)).length === 0) {
      if (performance.now() - start > 20_000) throw new Error("no file arrived within 20 s");
      await sleep(5);
    }
    const stopped = await stopAll(["SIGINT", "SIGTERM"]);
    for (const [who, r] of Object.entries(stopped)) {
      assert(r.ms < 10_000, `${who} took ${Math.round(r.ms)} ms to stop`);
    }
    // Nothing half-written: every file there is whole, and one more round brings the rest.
    for (const name of await filesUnder(arrived)) {
      assertEquals(await Deno.readTextFile(posix.join(arrived, name)), texts.get(name), name);
    }
    await ds.ok(["sync"]);
    assertEquals((await filesUnder(arrived)).length, texts.size);
  } finally {
    await stopAll().catch(() => {});
    await cleanup();
  }
});

Deno.test("sync --watch rides out storage that is briefly unreachable, then syncs what was written meanwhile", async () => {
  const { owner, ds, shared, stopAll, cleanup } = await watchingPair();
  let stopped: Awaited<ReturnType<typeof stopAll>>;
  try {
    const aside = `${shared}-aside`;
    await Deno.rename(shared, aside);
    await put(owner.datasite, "public/during.txt", "written while the storage was away");
    await sleep(2500);
    await Deno.rename(aside, shared);
    await waitForText(
      posix.join(ds.mirror(owner), "public/during.txt"),
      "written while the storage was away",
      30_000,
    );
  } finally {
    stopped = await stopAll().finally(cleanup);
  }
  assertMatch(stopped.owner.stderr, /trying again in \d+ s/);
});

Deno.test("sync refuses --interval that is not a positive number, or without --watch (exit 2)", async () => {
  const w = await world();
  try {
    const site = await w.site("owner@hospital.org");
    for (
      const args of [["--watch", "--interval", "0"], ["--watch", "--interval", "5s"], [
        "--interval",
        "5",
      ]]
    ) {
      const r = await site.syft(["sync", ...args]);
      assertEquals(r.code, 2, `sync ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
      assertMatch(r.stderr, /--interval/);
    }
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});
