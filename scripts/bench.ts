/**
 * `deno task bench [--quick] [--json]`: every figure is a ratio against a baseline
 * measured in the same run on the same machine, never an absolute claim.
 *
 * Scenarios so far:
 * - P1: first sync of N x 4 KiB files owner -> peer (both rounds) vs `cp -r` + `sync`.
 * - P2: one large file owner -> peer vs `cp` + `sync`, with each syncing process's peak RSS.
 * - P4: edit -> visible latency with both sides in `sync --watch` (p50, p95).
 * - P5: `syft status` cold start (deno binary directly) vs `deno --version`.
 * - T1: N small objects put through the local transport plugin (Worker + RPC) vs `cp -r` + `sync`.
 * - T2: one large object streamed through the plugin (put, then get) vs `cp` + `sync`, with RSS.
 * - P6: permission checks per second over 1,000 permission files in a 6-level tree
 *   (goal ≥ 200,000/s on one core), and reloading one changed file vs building the
 *   whole tree (it must not rebuild).
 * @module
 */
import { posix } from "node:path";
import { startPlugin } from "../plugins/host.ts";
import { manifestFor } from "../plugins/registry.ts";
import { childEnv, runSyft, syftArgv } from "./syft_process.ts";
import { buildBenchFixture, runBenchChecks } from "../core/permissions/bench.ts";
import { PermissionEngine } from "../core/permissions/engine.ts";

const quick = Deno.args.includes("--quick");
const asJson = Deno.args.includes("--json");

interface Row {
  scenario: string;
  syft_s: number;
  baseline_s: number;
  ratio: number;
  note: string;
}
const rows: Row[] = [];
const figures: Record<string, Record<string, number>> = {};

function record(
  key: string,
  scenario: string,
  syft: number,
  baseline: number,
  note: string,
  extra = {},
) {
  rows.push({ scenario, syft_s: syft, baseline_s: baseline, ratio: syft / baseline, note });
  figures[key] = {
    syft_s: round(syft),
    baseline_s: round(baseline),
    ratio: round(syft / baseline),
    ...extra,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

async function sh(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const lines: string[] = [];

// P6: permission checks (pure CPU, measured first while the machine is quiet).
{
  const fixture = buildBenchFixture({ files: 1000, depth: 6 });
  const n = quick ? 200_000 : 1_000_000;
  runBenchChecks(fixture, Math.min(n, 100_000)); // warm-up: let the JIT settle
  const fast = runBenchChecks(fixture, n, "allows");
  const full = runBenchChecks(fixture, n, "check");
  const buildStart = performance.now();
  const rebuilt = new PermissionEngine();
  for (const [folder, text] of fixture.files) rebuilt.setFile(folder, text);
  const buildS = (performance.now() - buildStart) / 1000;
  const [oneFolder, oneText] = [...fixture.files][fixture.files.size >> 1]!;
  const reloads = 200;
  const reloadStart = performance.now();
  for (let i = 0; i < reloads; i++) rebuilt.setFile(oneFolder, oneText + `# edit ${i}\n`);
  const reloadS = (performance.now() - reloadStart) / 1000 / reloads;
  figures.P6 = {
    checks_per_s: Math.round(fast.checksPerSecond),
    decisions_per_s: Math.round(full.checksPerSecond),
    reload_one_file_s: reloadS,
    rebuild_all_s: round(buildS),
    reload_vs_rebuild_ratio: reloadS / buildS,
  };
  lines.push(
    `P6 permissions: ${Math.round(fast.checksPerSecond).toLocaleString("en")} checks/s ` +
      `(${Math.round(full.checksPerSecond).toLocaleString("en")}/s with reasons), ${
        n.toLocaleString("en")
      } checks, ` +
      `${fixture.files.size} files; goal >= 200,000/s`,
    `P6 reload one changed file: ${(reloadS * 1000).toFixed(3)} ms vs whole tree ${
      (buildS * 1000).toFixed(0)
    } ms ` +
      `(ratio ${(reloadS / buildS).toExponential(1)})`,
  );
}

interface BenchSite {
  home: string;
  datasite: string;
  /** This site's mirror of the other site. */
  mirror: string;
  run(args: string[]): Promise<unknown>;
}

/** Two initialised sites on one local transport, peered (peer asked, owner approved). */
async function pairOfSites(
  world: string,
): Promise<{ owner: BenchSite; peer: BenchSite; world: string }> {
  const shared = posix.join(world, "shared");
  await Deno.mkdir(shared, { recursive: true });
  const emails = { owner: "owner@bench.example", peer: "peer@bench.example" };
  const site = async (name: "owner" | "peer"): Promise<BenchSite> => {
    const home = posix.join(world, name, ".syft");
    const root = posix.join(world, name, "SyftBox");
    const run = async (args: string[]) => {
      const r = await runSyft(["--home", home, ...args]);
      if (r.code !== 0) throw new Error(`syft ${args.join(" ")}: ${r.stderr}`);
      return r;
    };
    await run(["init", "--email", emails[name], "--root", root, "--transport", `local:${shared}`]);
    const other = name === "owner" ? emails.peer : emails.owner;
    return { home, datasite: posix.join(root, emails[name]), mirror: posix.join(root, other), run };
  };
  const owner = await site("owner");
  const peer = await site("peer");
  await peer.run(["peer", "add", emails.owner]);
  await owner.run(["peer", "approve", emails.peer]);
  await peer.run(["sync"]);
  return { owner, peer, world };
}

/** Run `syft <args>` and sample its peak RSS (VmHWM) until it exits. */
async function measured(
  home: string,
  args: string[],
): Promise<{ seconds: number; peakRssMiB: number }> {
  const start = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: syftArgv(["--home", home, ...args]),
    env: childEnv(),
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let peakKiB = 0;
  // Deno reads /proc/<pid> only with --allow-all; cat needs just --allow-run. VmHWM is
  // the kernel's own high-water mark, so sampling it late still gives the peak.
  const sample = async () => {
    const out = await new Deno.Command("cat", {
      args: [`/proc/${child.pid}/status`],
      stdout: "piped",
      stderr: "null",
    })
      .output().catch(() => undefined);
    const m = out ? /VmHWM:\s+(\d+) kB/.exec(new TextDecoder().decode(out.stdout)) : null;
    if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
  };
  const timer = setInterval(sample, 50);
  const out = await child.output();
  clearInterval(timer);
  if (!out.success) {
    throw new Error(`syft ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { seconds: (performance.now() - start) / 1000, peakRssMiB: peakKiB / 1024 };
}

const base = await Deno.makeTempDir({ prefix: "syft-bench-" });
try {
  // P5: cold start.
  const home = posix.join(base, "home");
  const shared = posix.join(base, "shared");
  await Deno.mkdir(shared);
  const init = await runSyft([
    "--home",
    home,
    "init",
    "--email",
    "bench@example.org",
    "--root",
    posix.join(base, "root"),
    "--transport",
    `local:${shared}`,
  ]);
  if (init.code !== 0) throw new Error(init.stderr);
  const runs = quick ? 3 : 10;
  const statusTimes: number[] = [];
  const versionTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    statusTimes.push(await time(() => runSyft(["--home", home, "status"])));
    versionTimes.push(await time(() => sh(Deno.execPath(), ["--version"])));
  }
  record(
    "P5",
    "syft status cold start vs deno --version",
    median(statusTimes),
    median(versionTimes),
    `median of ${runs}`,
  );

  // T1: many small objects through the plugin vs cp -r + sync.
  const count = quick ? 200 : 2000;
  const src = posix.join(base, "small");
  await Deno.mkdir(src);
  const payload = new Uint8Array(4096).fill(7);
  for (let i = 0; i < count; i++) {
    await Deno.writeFile(posix.join(src, `b-${String(i).padStart(16, "0")}.syft`), payload);
  }
  const baselineSmall = await time(async () => {
    await sh("cp", ["-r", src, posix.join(base, "small-copy")]);
    await sh("sync", []);
  });
  const transport = await startPlugin(
    manifestFor(`local:${shared}`, { identity: "bench@example.org", home }),
  );
  const channel = await transport.openChannel("peer@example.org");
  const names = [...Deno.readDirSync(src)].map((e) => e.name);
  const syftSmall = await time(async () => {
    for (const name of names) await transport.put(channel, name, payload);
  });
  record(
    "T1",
    `${count} x 4 KiB objects: local transport put vs cp -r + sync`,
    syftSmall,
    baselineSmall,
    "one fsync per object (create-only put)",
  );

  // T2: one large object streamed in and out.
  const mib = quick ? 64 : 512;
  const big = posix.join(base, "big.bin");
  const chunk = new Uint8Array(1 << 20).fill(3);
  {
    const f = await Deno.open(big, { write: true, create: true });
    for (let i = 0; i < mib; i++) await f.write(chunk);
    f.close();
  }
  const baselineBig = await time(async () => {
    await sh("cp", [big, posix.join(base, "big-copy.bin")]);
    await sh("sync", []);
  });
  const rssBefore = Deno.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => rssPeak = Math.max(rssPeak, Deno.memoryUsage().rss), 20);
  const syftBig = await time(async () => {
    const file = await Deno.open(big);
    await transport.put(channel, "x-big.syft", file.readable);
    let n = 0;
    for await (const c of await transport.get(channel, "x-big.syft")) n += c.byteLength;
    if (n !== mib << 20) throw new Error(`read back ${n} bytes`);
  });
  clearInterval(sampler);
  await transport.close();
  record(
    "T2",
    `${mib} MiB object: streamed put + get vs cp + sync`,
    syftBig,
    baselineBig,
    "put and get: 2 reads + 2 writes",
    {
      peak_rss_growth_mib: round((rssPeak - rssBefore) / 1048576),
    },
  );

  // P1: first sync of many small files owner → peer, both rounds, vs cp -r + sync.
  {
    const n = quick ? 1000 : 10_000;
    const { owner, peer, world } = await pairOfSites(posix.join(base, "p1"));
    const dir = posix.join(owner.datasite, "public", "small");
    await Deno.mkdir(dir, { recursive: true });
    const block = new Uint8Array(4096);
    for (let i = 0; i < n; i++) {
      crypto.getRandomValues(block);
      await Deno.writeFile(posix.join(dir, `f${String(i).padStart(6, "0")}.bin`), block);
    }
    const baseline = await time(async () => {
      await sh("cp", ["-r", dir, posix.join(world, "cp-copy")]);
      await sh("sync", []);
    });
    const ownerS = await time(() => owner.run(["sync"]));
    const peerS = await time(() => peer.run(["sync"]));
    record(
      "P1",
      `first sync of ${n} x 4 KiB owner -> peer vs cp -r + sync`,
      ownerS + peerS,
      baseline,
      `owner ${ownerS.toFixed(2)} s + peer ${peerS.toFixed(2)} s`,
    );
  }

  // P2: one large file owner → peer vs cp + sync, with the peak RSS of each syncing process.
  {
    const mib = quick ? 128 : 1024;
    const { owner, peer, world } = await pairOfSites(posix.join(base, "p2"));
    const file = posix.join(owner.datasite, "public", "big.bin");
    await Deno.mkdir(posix.dirname(file), { recursive: true });
    const chunk = new Uint8Array(1 << 20);
    const f = await Deno.open(file, { write: true, create: true });
    for (let i = 0; i < mib; i++) {
      crypto.getRandomValues(chunk.subarray(0, 65536));
      await f.write(chunk);
    }
    f.close();
    const baseline = await time(async () => {
      await sh("cp", [file, posix.join(world, "big-copy.bin")]);
      await sh("sync", []);
    });
    const o = await measured(owner.home, ["sync"]);
    const p = await measured(peer.home, ["sync"]);
    const rss = Math.max(o.peakRssMiB, p.peakRssMiB);
    record(
      "P2",
      `${mib} MiB file owner -> peer vs cp + sync`,
      o.seconds + p.seconds,
      baseline,
      `peak RSS ${rss.toFixed(0)} MiB`,
      {
        peak_rss_mib: Math.round(rss),
      },
    );
  }

  // P4: edit → visible in the peer's mirror, both sides in sync --watch.
  {
    const samples = quick ? 5 : 20;
    const { owner, peer } = await pairOfSites(posix.join(base, "p4"));
    const watchers = [owner, peer].map((s) =>
      new Deno.Command(Deno.execPath(), {
        args: syftArgv(["--home", s.home, "sync", "--watch"]),
        env: childEnv(),
        stdout: "null",
        stderr: "null",
        stdin: "null",
      }).spawn()
    );
    const latencies: number[] = [];
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const src = posix.join(owner.datasite, "public", "edit.txt");
      const dst = posix.join(peer.mirror, "public", "edit.txt");
      for (let i = 0; i < samples; i++) {
        const text = `edit ${i} ${crypto.randomUUID()}`;
        const start = performance.now();
        await Deno.writeTextFile(src, text);
        while ((await Deno.readTextFile(dst).catch(() => "")) !== text) {
          if (performance.now() - start > 30_000) throw new Error("P4: edit never arrived");
          await new Promise((r) => setTimeout(r, 10));
        }
        latencies.push((performance.now() - start) / 1000);
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      for (const w of watchers) w.kill("SIGTERM");
      await Promise.all(watchers.map((w) => w.status));
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    figures.P4 = { p50_s: round(pct(0.5)), p95_s: round(pct(0.95)) };
    lines.push(
      `P4 edit -> visible with both sides in --watch: p50 ${pct(0.5).toFixed(3)} s, p95 ${
        pct(0.95).toFixed(3)
      } s (${samples} samples; goal p50 <= 1 s)`,
    );
  }
} finally {
  await Deno.remove(base, { recursive: true });
}

console.log(`syft bench${quick ? " (quick)" : ""}`);
const width = Math.max(...rows.map((r) => r.scenario.length));
console.log(`${"scenario".padEnd(width)}  syft s   base s   ratio  note`);
for (const r of rows) {
  console.log(
    `${r.scenario.padEnd(width)}  ${r.syft_s.toFixed(3).padStart(6)}  ${
      r.baseline_s.toFixed(3).padStart(7)
    }  ${r.ratio.toFixed(2).padStart(6)}  ${r.note}`,
  );
}
for (const line of lines) console.log(line);
if (asJson) console.log(JSON.stringify(figures));
