/**
 * Issue 17's fan-out and idle scenarios for `deno task bench`, through the real
 * CLI (scripts/syft_process.ts) on the local transport:
 *
 * - P8: one big file published by an owner to K peers, K small (1) and K large (10; 3 with
 *   `--smoke`). The time figure is the owner's publishing round alone (`syft sync`), the
 *   part that grows with K when every channel gets its own encrypted copy; each peer's
 *   receiving round is timed too (one after another, so they do not share the cores) and
 *   reported as a median beside the one peer's of K=1. Bytes are those the owner's round
 *   left in the shared storage folder (new or changed files, by size and mtime), with the
 *   peers' rounds (acks) reported apart.
 * - P9: an idle round: after P8's large-K world has also published N small files and every
 *   side has gone quiet, one more `syft sync` of the owner. Bytes written are the kernel's
 *   `write_bytes` of that process and its children (/proc/<pid>/io, read by a `sh` wrapper
 *   after it reaped syft, which folds a reaped child's counters into its own), and every
 *   file or folder whose size or mtime changed under the owner's home, its SyftBox root and
 *   the shared folder. Its time is set against `deno eval 0`, run the same way (the deno
 *   binary directly, through the same wrapper).
 * @module
 */
import { posix } from "node:path";
import { childEnv, denoDir, runSyft, syftArgv, type SyftRun } from "./syft_process.ts";
import { assertMirrored, median, sh, writeBigFile } from "./bench_util.ts";
import { count, type Outcome, round3, type Row, seconds } from "./bench_rows.ts";
import { profileLine } from "./bench_profile.ts";

/** The sizes of P8 and P9. */
export interface FanoutSizes {
  /** P8's file, MiB. */
  p8MiB: number;
  /** P8's small and large K; P9 runs with the large one's peers. */
  p8Ks: [number, number];
  /** P9's small files (4 KiB each). */
  p9Files: number;
  /** P8's publications per K, the two K interleaved; the owner's time is the best of them. */
  p8Repeats: number;
  /** P9's idle rounds (and `deno eval 0` runs); the time is their median. */
  p9Runs: number;
}

/** Issue 17's goals. */
export const FANOUT_GOALS = { p8TimeRatio: 1.5, p8BytesRatio: 1.05, p9Bytes: 0, p9Ratio: 4 };

// ---------------------------------------------------------------------------
// Sites

interface Site {
  email: string;
  home: string;
  root: string;
  /** This site's own datasite folder. */
  datasite: string;
  run(args: string[]): Promise<SyftRun>;
}

/** `site`'s mirror of `other`'s datasite. */
function mirrorOf(site: Site, other: Site): string {
  return posix.join(site.root, other.email);
}

async function newSite(world: string, name: string, shared: string): Promise<Site> {
  const email = `${name}@bench.example`;
  const home = posix.join(world, name, ".syft");
  const root = posix.join(world, name, "SyftBox");
  const run = async (args: string[]) => {
    const r = await runSyft(["--home", home, ...args]);
    if (r.code !== 0) throw new Error(`${name}: syft ${args.join(" ")}: ${r.stderr}`);
    return r;
  };
  await run(["init", "--email", email, "--root", root, "--transport", `local:${shared}`]);
  return { email, home, root, datasite: posix.join(root, email), run };
}

/** `fn` over `items`, at most `width` at a time (2 cores: setup, never a measured run). */
async function pool<T, R>(items: T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return out;
}

/** What a `syft --json sync` says it moved; NaN when its output says neither. */
function moved(r: SyftRun): { sent: number; received: number } {
  try {
    const j = JSON.parse(r.stdout) as { sent?: unknown; received?: unknown };
    if (typeof j.sent === "number" && typeof j.received === "number") {
      return { sent: j.sent, received: j.received };
    }
  } catch {
    // not JSON: read the text line below
  }
  const m = /sent (\d+) batch\(es\), received (\d+)/.exec(r.stdout);
  return m ? { sent: Number(m[1]), received: Number(m[2]) } : { sent: NaN, received: NaN };
}

/**
 * Passes (the owner's round, then each peer's) until one leaves nothing in flight: the
 * owner received nothing (it owes no answer) and no peer sent anything (nothing waits
 * for the owner). A further pass that confirms it would cost 1 + K runs of the CLI and
 * has always moved nothing here; P9's measured round reports what it moved, so a world
 * that was not quiet shows. Returns the passes taken, or -1 past the limit.
 */
async function settle(owner: Site, peers: Site[]): Promise<number> {
  for (let pass = 1; pass <= 6; pass++) {
    const o = moved(await owner.run(["--json", "sync"]));
    const ps = await pool(peers, 2, async (p) => moved(await p.run(["--json", "sync"])));
    const peersSent = ps.reduce((sum, m) => sum + m.sent, 0);
    if (o.received === 0 && peersSent === 0) return pass;
  }
  return -1;
}

/** An owner and `k` peers on one local transport, every peer approved, all quiet. */
async function star(
  world: string,
  k: number,
): Promise<{ owner: Site; peers: Site[]; shared: string; settled: number }> {
  const shared = posix.join(world, "shared");
  await Deno.mkdir(shared, { recursive: true });
  const names = ["owner", ...Array.from({ length: k }, (_, i) => `peer${i}`)];
  const [owner, ...peers] = await pool(names, 2, (n) => newSite(world, n, shared));
  await pool(peers, 2, (p) => p.run(["peer", "add", owner!.email]));
  for (const p of peers) await owner!.run(["peer", "approve", p.email]);
  const settled = await settle(owner!, peers);
  return { owner: owner!, peers, shared, settled };
}

// ---------------------------------------------------------------------------
// What a run wrote

interface Entry {
  size: number;
  mtime: number;
  dir: boolean;
}

/** Every file and folder under `roots` (lstat: links are not followed). */
async function snapshot(roots: string[]): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const walk = async (path: string): Promise<void> => {
    const info = await Deno.lstat(path).catch(() => undefined);
    if (!info) return;
    out.set(path, { size: info.size, mtime: info.mtime?.getTime() ?? 0, dir: info.isDirectory });
    if (!info.isDirectory) return;
    for await (const e of Deno.readDir(path)) await walk(posix.join(path, e.name));
  };
  for (const root of roots) await walk(root);
  return out;
}

/** What changed between two snapshots. */
interface Written {
  /** Sizes of the files that are new or changed size (a same-size rewrite is strace's to see). */
  bytes: number;
  /** Files new or of another size. */
  files: number;
  /** Files of the same size with a new mtime: rewritten in place, or only touched (utime). */
  touched: number;
  /** Folders whose mtime changed (an entry made or removed in them, even a temporary one). */
  dirs: number;
  removed: number;
  /** A few of the changed paths, for the note. */
  sample: string[];
}

const NOTHING: Written = { bytes: 0, files: 0, touched: 0, dirs: 0, removed: 0, sample: [] };

function entries(w: Written): number {
  return w.files + w.touched + w.dirs + w.removed;
}

function diff(before: Map<string, Entry>, after: Map<string, Entry>): Written {
  const w: Written = { ...NOTHING, sample: [] };
  for (const [path, a] of after) {
    const b = before.get(path);
    if (b && b.size === a.size && b.mtime === a.mtime) continue;
    if (a.dir) w.dirs++;
    else if (b && b.size === a.size) w.touched++;
    else {
      w.files++;
      w.bytes += a.size;
    }
    if (w.sample.length < 3) w.sample.push(path);
  }
  for (const path of before.keys()) if (!after.has(path)) w.removed++;
  return w;
}

/** `files 1 (20 B), same-size 2, folders 0, removed 0 (e.g. ...)`. */
function describeWritten(w: Written, base: string): string {
  const sample = w.sample.map((p) => p.startsWith(base) ? p.slice(base.length + 1) : p);
  return `new/resized ${w.files} (${bytes(w.bytes)}), same size new mtime ${w.touched}, ` +
    `folders ${w.dirs}, removed ${w.removed}${sample.length ? ` (${sample.join(", ")})` : ""}`;
}

/** /proc/<pid>/io fields, e.g. `write_bytes`. */
type Io = Record<string, number>;

/**
 * Run `argv` under `sh`, which reads its own /proc/<pid>/io once it has reaped the
 * command (a reaped child's counters are folded into its parent's). The same wrapper
 * runs syft and the `deno eval 0` baseline, so both pay the same few ms.
 */
async function runWithIo(
  argv: string[],
  ioFile: string,
): Promise<{ seconds: number; io: Io | undefined; stdout: string }> {
  const script = 'f=$1; shift; "$@"; s=$?; cat /proc/$$/io > "$f" 2>/dev/null; exit $s';
  const start = performance.now();
  const out = await new Deno.Command("sh", {
    args: ["-c", script, "sh", ioFile, ...argv],
    env: childEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const s = (performance.now() - start) / 1000;
  const decoder = new TextDecoder();
  if (!out.success) throw new Error(`${argv.join(" ")}: ${decoder.decode(out.stderr)}`);
  const text = await Deno.readTextFile(ioFile).catch(() => "");
  const io: Io = {};
  for (const m of text.matchAll(/^(\w+): (\d+)$/gm)) io[m[1]!] = Number(m[2]);
  return {
    seconds: s,
    io: "write_bytes" in io ? io : undefined,
    stdout: decoder.decode(out.stdout),
  };
}

/** What the writes strace saw went to, outside deno's own cache. */
export interface Traced {
  bytes: number;
  /** Renames, unlinks, mkdirs and files opened to write or create, outside deno's cache. */
  ops: number;
  /** The paths written most, largest first, `path bytes`. */
  top: string[];
  /** A few of the ops' paths, `op path`. */
  opPaths: string[];
  /** Bytes written into deno's own cache (left out of `bytes`). */
  denoCacheBytes: number;
}

/**
 * Run `argv` once under strace (-f: every thread, so the plugin workers too) and add up
 * the bytes each write put into a file, by path. Deno's cache folder (its own
 * sqlite and code caches, which `deno eval 0` writes too) is left out, as are
 * pipes, sockets, eventfds and /dev. Undefined where strace is missing or fails.
 */
async function traceWrites(argv: string[], out: string): Promise<Traced | undefined> {
  const calls = "write,pwrite64,writev,pwritev,pwritev2,rename,renameat,renameat2,unlink," +
    "unlinkat,mkdir,mkdirat,openat,truncate,ftruncate";
  const run = await new Deno.Command("strace", {
    args: ["-f", "-y", "-qq", "-s", "0", "-e", "signal=none", "-e", `trace=${calls}`, "-o", out]
      .concat(argv),
    env: childEnv(),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  if (!run?.success) return undefined;
  return parseStrace(await Deno.readTextFile(out), denoDir());
}

/**
 * Sum an `strace -f -y -s 0` log: bytes written per file path (deno's cache folder `cache`,
 * /dev and /proc apart), and the renames, unlinks, mkdirs, truncates and opens to write.
 * A call another thread interrupted (`<unfinished ...>`, then `<... resumed>`) is joined.
 */
export function parseStrace(text: string, cache: string | undefined): Traced {
  const mine = (path: string) =>
    path.startsWith("/") && !path.startsWith("/dev/") && !path.startsWith("/proc/") &&
    (cache === undefined || !path.startsWith(cache));
  const perPath = new Map<string, number>();
  const opPaths = new Set<string>();
  const pending = new Map<string, string>();
  let ops = 0;
  let denoCacheBytes = 0;
  for (const raw of text.split("\n")) {
    const unfinished = /^(\d+)\s+(.*?)\s*<unfinished \.\.\.>$/.exec(raw);
    if (unfinished) {
      pending.set(unfinished[1]!, unfinished[2]!);
      continue;
    }
    let line = raw;
    const resumed = /^(\d+)\s+<\.\.\. \w+ resumed>(.*)$/.exec(raw);
    if (resumed) {
      const head = pending.get(resumed[1]!);
      if (head === undefined) continue;
      pending.delete(resumed[1]!);
      line = `${resumed[1]} ${head}${resumed[2]}`;
    }
    const w = /^\d+\s+p?writev?\w*\(\d+<([^>]*)>.*\)\s+=\s+(\d+)/.exec(line);
    if (w) {
      if (mine(w[1]!)) perPath.set(w[1]!, (perPath.get(w[1]!) ?? 0) + Number(w[2]));
      else if (cache !== undefined && w[1]!.startsWith(cache)) denoCacheBytes += Number(w[2]);
      continue;
    }
    const op =
      /^\d+\s+(rename\w*|unlink\w*|mkdir\w*|openat|truncate|ftruncate)\((.*)\)\s+=\s+(-?\d+)/
        .exec(line);
    if (!op || Number(op[3]) < 0) continue;
    const [, name, rest] = op;
    if (name === "openat" && !/O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(rest!)) continue;
    // The quoted path when there is one (relative to the dirfd's <path> before it), else the fd's.
    const quoted = /"([^"]*)"/.exec(rest!)?.[1];
    const fd = /<([^>]*)>/.exec(rest!)?.[1] ?? "";
    const p = quoted === undefined ? fd : quoted.startsWith("/") ? quoted : posix.join(fd, quoted);
    if (!mine(p)) continue;
    ops++;
    if (opPaths.size < 3) opPaths.add(`${name} ${posix.basename(p)}`);
  }
  const sorted = [...perPath].sort((a, b) => b[1] - a[1]);
  return {
    bytes: sorted.reduce((sum, [, n]) => sum + n, 0),
    ops,
    top: sorted.slice(0, 4).map(([path, n]) => `${path} ${bytes(n)}`),
    opPaths: [...opPaths],
    denoCacheBytes,
  };
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

// ---------------------------------------------------------------------------
// P8

interface FanoutRun {
  k: number;
  ownerS: number;
  /** Bytes the owner's round left in the shared folder. */
  storageBytes: number;
  /** Bytes the peers' receiving rounds then left there (acks and the like). */
  peersStorageBytes: number;
  /** The owner's own write_bytes (disk and storage), when /proc says. */
  ownerWriteBytes: number | undefined;
  peerS: number[];
}

/** Publish one `mib` MiB file from the owner of `w` to its peers; every peer checked. */
async function publishBig(
  w: { owner: Site; peers: Site[]; shared: string },
  mib: number,
  scratch: string,
  name: string,
): Promise<FanoutRun> {
  const rel = posix.join("public", "fanout");
  const dir = posix.join(w.owner.datasite, rel);
  await Deno.mkdir(dir, { recursive: true });
  await writeBigFile(posix.join(dir, name), mib);
  // Flush our own write first: on ext4 the owner's first fsync would otherwise pay for it.
  await sh("sync", []);
  const before = await snapshot([w.shared]);
  const o = await runWithIo(
    [Deno.execPath(), ...syftArgv(["--home", w.owner.home, "sync"])],
    posix.join(scratch, "owner.io"),
  );
  const afterOwner = await snapshot([w.shared]);
  const peerS: number[] = [];
  for (const p of w.peers) {
    const start = performance.now();
    await p.run(["sync"]);
    peerS.push((performance.now() - start) / 1000);
  }
  for (const p of w.peers) await assertMirrored("P8", dir, posix.join(mirrorOf(p, w.owner), rel));
  const afterPeers = await snapshot([w.shared]);
  return {
    k: w.peers.length,
    ownerS: o.seconds,
    storageBytes: diff(before, afterOwner).bytes,
    peersStorageBytes: diff(afterOwner, afterPeers).bytes,
    ownerWriteBytes: o.io?.write_bytes,
    peerS,
  };
}

function p8Outcome(small: FanoutRun, large: FanoutRun, mib: number, repeats: number): Outcome {
  const timeRatio = large.ownerS / small.ownerS;
  const bytesRatio = large.storageBytes / small.storageBytes;
  const peerSmall = median(small.peerS);
  const peerLarge = median(large.peerS);
  const [ks, kl] = [String(small.k), String(large.k)];
  const ownerDisk = (r: FanoutRun) =>
    r.ownerWriteBytes === undefined ? "n/a" : bytes(r.ownerWriteBytes);
  const rows: Row[] = [
    {
      id: "P8",
      scenario: `${count(mib)} MiB to ${kl} peers: owner's publishing round`,
      figure: `${seconds(large.ownerS)} (${timeRatio.toFixed(2)}x)`,
      baseline: `K=${ks}: ${seconds(small.ownerS)}`,
      goal: `<= ${FANOUT_GOALS.p8TimeRatio}x K=${ks}`,
      met: timeRatio <= FANOUT_GOALS.p8TimeRatio,
      note: `owner's syft sync only, best of ${repeats}; owner's write_bytes K=${ks} ${
        ownerDisk(small)
      }, K=${kl} ${ownerDisk(large)}`,
    },
    {
      id: "P8",
      scenario: `${count(mib)} MiB to ${kl} peers: bytes into the shared folder`,
      figure: `${bytes(large.storageBytes)} (${bytesRatio.toFixed(2)}x)`,
      baseline: `K=${ks}: ${bytes(small.storageBytes)}`,
      goal: `<= ${FANOUT_GOALS.p8BytesRatio}x K=${ks}`,
      met: bytesRatio <= FANOUT_GOALS.p8BytesRatio,
      note: `new/changed files after the owner's round; the peers' rounds then added ${
        bytes(small.peersStorageBytes)
      } (K=${ks}), ${bytes(large.peersStorageBytes)} (K=${kl})`,
    },
    {
      id: "P8",
      scenario: `${count(mib)} MiB to ${kl} peers: one peer's receiving round, median`,
      figure: `${seconds(peerLarge)} (${(peerLarge / peerSmall).toFixed(2)}x)`,
      baseline: `K=${ks}: ${seconds(peerSmall)}`,
      goal: "",
      note: `peers one after another; K=${kl}: ${large.peerS.map((s) => s.toFixed(2)).join(" ")}`,
    },
  ];
  return {
    json: {
      P8: {
        time_ratio: round3(timeRatio),
        bytes_ratio: round3(bytesRatio),
        mib,
        owner_s: { [ks]: round3(small.ownerS), [kl]: round3(large.ownerS) },
        storage_bytes: { [ks]: small.storageBytes, [kl]: large.storageBytes },
        peer_receive_median_s: { [ks]: round3(peerSmall), [kl]: round3(peerLarge) },
      },
    },
    rows,
  };
}

// ---------------------------------------------------------------------------
// P9

async function idleRound(
  w: { owner: Site; peers: Site[]; shared: string },
  files: number,
  runs: number,
  scratch: string,
): Promise<Outcome> {
  const rel = posix.join("public", "idle");
  const dir = posix.join(w.owner.datasite, rel);
  await Deno.mkdir(dir, { recursive: true });
  const block = new Uint8Array(4096);
  for (let i = 0; i < files; i++) {
    crypto.getRandomValues(block);
    await Deno.writeFile(posix.join(dir, `f${String(i).padStart(6, "0")}.bin`), block);
  }
  const settled = await settle(w.owner, w.peers);
  for (const p of w.peers) await assertMirrored("P9", dir, posix.join(mirrorOf(p, w.owner), rel));
  await sh("sync", []); // the settling rounds' writes are not the idle round's to flush
  const disk = [w.owner.home, w.owner.root];
  const syftTimes: number[] = [];
  const baseTimes: number[] = [];
  let writeBytes: number | undefined = 0;
  let baseWriteBytes = 0;
  let wchar = 0;
  let worstDisk = NOTHING;
  let worstStore = NOTHING;
  let stillMoving = 0;
  for (let i = 0; i < runs; i++) {
    const [diskBefore, storeBefore] = [await snapshot(disk), await snapshot([w.shared])];
    const r = await runWithIo(
      [Deno.execPath(), ...syftArgv(["--home", w.owner.home, "--json", "sync"])],
      posix.join(scratch, "idle.io"),
    );
    const d = diff(diskBefore, await snapshot(disk));
    const st = diff(storeBefore, await snapshot([w.shared]));
    const m = moved({ code: 0, stdout: r.stdout, stderr: "" });
    stillMoving += (m.sent + m.received) || 0;
    syftTimes.push(r.seconds);
    if (entries(d) > entries(worstDisk)) worstDisk = d;
    if (entries(st) > entries(worstStore)) worstStore = st;
    writeBytes = r.io && writeBytes !== undefined
      ? Math.max(writeBytes, r.io.write_bytes ?? 0)
      : undefined;
    wchar = Math.max(wchar, r.io?.wchar ?? 0);
    const base = await runWithIo([Deno.execPath(), "eval", "0"], posix.join(scratch, "base.io"));
    baseTimes.push(base.seconds);
    baseWriteBytes = Math.max(baseWriteBytes, base.io?.write_bytes ?? 0);
  }
  // One more idle round under strace: which files it writes, deno's own cache left out.
  const traced = await traceWrites(
    [Deno.execPath(), ...syftArgv(["--home", w.owner.home, "sync"])],
    posix.join(scratch, "idle.strace"),
  );
  // Bytes syft put in files: the snapshot's new or changed files, or what strace saw written
  // (in place, or to files gone again), the larger. The kernel's write_bytes also counts
  // deno's own caches (deno eval 0 writes some too), so it is shown, not used.
  const written = Math.max(worstDisk.bytes + worstStore.bytes, traced?.bytes ?? 0);
  const touched = entries(worstDisk) + entries(worstStore);
  const storeTouched = entries(worstStore);
  const syftS = median(syftTimes);
  const baseS = median(baseTimes);
  const ratio = syftS / baseS;
  const peers = w.peers.length;
  const what = `idle round, ${peers} peers, ${count(files)} files`;
  const settleNote = settled < 0 ? "; WARNING: the sites never all went quiet" : "";
  const profile = ratio > FANOUT_GOALS.p9Ratio
    ? await profileLine(
      `P9 ${what}`,
      syftArgv(["--home", w.owner.home, "sync"]),
      posix.join(scratch, "prof-p9"),
    )
    : undefined;
  return {
    notes: profile ? [profile] : [],
    json: {
      P9: {
        bytes_written: written,
        entries_changed: touched,
        storage_entries_changed: storeTouched,
        ratio: round3(ratio),
        syft_s: round3(syftS),
        baseline_s: round3(baseS),
        ...(writeBytes === undefined ? {} : { write_bytes: writeBytes }),
        baseline_write_bytes: baseWriteBytes,
        ...(traced === undefined ? {} : { traced_bytes: traced.bytes, traced_ops: traced.ops }),
        wchar,
        peers,
        files,
      },
    },
    rows: [
      {
        id: "P9",
        scenario: `${what}: bytes written (disk + storage)`,
        figure: `${bytes(written)}; entries ${storeTouched} storage, ${
          touched - storeTouched
        } disk`,
        baseline: "",
        goal: `${FANOUT_GOALS.p9Bytes} B, 0 storage entries`,
        met: written <= FANOUT_GOALS.p9Bytes && storeTouched === 0,
        note: `worst of ${runs}: storage: ${describeWritten(worstStore, w.shared)}; ` +
          `home+root: ${describeWritten(worstDisk, posix.dirname(w.owner.home))}` +
          (traced === undefined
            ? "; strace n/a"
            : `; strace: ${bytes(traced.bytes)} written${
              traced.top.length ? ` [${traced.top.join(", ")}]` : ""
            }, ${traced.ops} file op(s)${
              traced.opPaths.length ? ` [${traced.opPaths.join(", ")}]` : ""
            }, ${bytes(traced.denoCacheBytes)} into deno's own cache`) +
          `; /proc write_bytes ${writeBytes === undefined ? "n/a" : bytes(writeBytes)} ` +
          `(deno eval 0: ${bytes(baseWriteBytes)}; both count deno's own caches)` +
          `; wchar ${bytes(wchar)} (incl. stdout)${
            stillMoving ? `; rounds still moved ${stillMoving} batch(es)` : ""
          }${settleNote}`,
      },
      {
        id: "P9",
        scenario: `${what}: owner's syft sync`,
        figure: `${(syftS * 1000).toFixed(0)} ms (${ratio.toFixed(1)}x)`,
        baseline: `${(baseS * 1000).toFixed(0)} ms`,
        goal: `<= ${FANOUT_GOALS.p9Ratio}x baseline`,
        met: ratio <= FANOUT_GOALS.p9Ratio,
        note: `baseline: deno eval 0, same deno binary, same sh wrapper; median of ${runs}; ` +
          `settled in ${settled} pass(es)`,
      },
    ],
  };
}

// ---------------------------------------------------------------------------

/** P8 at both K, then P9 in P8's large-K world. */
export async function benchFanout(world: string, sizes: FanoutSizes): Promise<Outcome> {
  const [kSmall, kLarge] = sizes.p8Ks;
  const scratch = posix.join(world, "scratch");
  await Deno.mkdir(scratch, { recursive: true });
  const smallWorld = posix.join(world, `k${kSmall}`);
  const small = await star(smallWorld, kSmall);
  const large = await star(posix.join(world, `k${kLarge}`), kLarge);
  // K=1 and K=10 take turns, so a busy spell of the machine falls on both.
  const runs: [FanoutRun[], FanoutRun[]] = [[], []];
  for (let i = 0; i < sizes.p8Repeats; i++) {
    runs[0].push(await publishBig(small, sizes.p8MiB, scratch, `big-${i}.bin`));
    runs[1].push(await publishBig(large, sizes.p8MiB, scratch, `big-${i}.bin`));
  }
  await Deno.remove(smallWorld, { recursive: true }); // P9 needs the large world only
  const [s, l] = [combine(runs[0]), combine(runs[1])];
  const p8 = p8Outcome(s, l, sizes.p8MiB, sizes.p8Repeats);
  const notes: string[] = [];
  if (l.ownerS / s.ownerS > FANOUT_GOALS.p8TimeRatio) {
    // One more publication to the K peers, profiled (P9's settling then delivers it).
    const file = posix.join(large.owner.datasite, "public", "fanout", "big-profiled.bin");
    await writeBigFile(file, sizes.p8MiB);
    await sh("sync", []);
    const line = await profileLine(
      `P8 owner's round to ${kLarge} peers`,
      syftArgv(["--home", large.owner.home, "sync"]),
      posix.join(scratch, "prof-p8"),
    );
    if (line) notes.push(line);
  }
  const p9 = await idleRound(large, sizes.p9Files, sizes.p9Runs, scratch);
  return {
    json: { ...p8.json, ...p9.json },
    rows: [...p8.rows, ...p9.rows],
    notes: [...notes, ...(p9.notes ?? [])],
  };
}

/** Repeats of one K as one: the owner's best time, median bytes, every peer's time. */
function combine(runs: FanoutRun[]): FanoutRun {
  const mid = (f: (r: FanoutRun) => number) => median(runs.map(f));
  const disk = runs.map((r) => r.ownerWriteBytes);
  return {
    k: runs[0]!.k,
    ownerS: Math.min(...runs.map((r) => r.ownerS)),
    storageBytes: mid((r) => r.storageBytes),
    peersStorageBytes: mid((r) => r.peersStorageBytes),
    ownerWriteBytes: disk.includes(undefined) ? undefined : median(disk as number[]),
    peerS: runs.flatMap((r) => r.peerS),
  };
}
