/**
 * The Drive figures of `deno task bench` (issue 13): the real sync engine in
 * this process over the real Drive plugin (one Worker per identity, started
 * through the host under the manifest's grants) against the fake Drive in a
 * child process (`tests/plugins/gdrive/_fake_rig.ts`, imported from tests/ so
 * the bench and the plugin's tests start the fake the same way).
 *
 * Calls are HTTP requests the fake received from the identity measured (its
 * per-user call counts), not transport operations: that is what Drive bills
 * against quota. Measured:
 * - an idle round of an identity with 10 accepted peers;
 * - a round of k new small files to one peer (the owner's publishing round and
 *   the peer's receiving round);
 * - a first sync of many 4 KiB files owner -> peer (all calls of both sides
 *   until the peer's mirror holds every file);
 * - a 64 MiB put against a plain `fetch` upload (`uploadType=media`) of the
 *   same bytes to the same fake, alternated, median.
 *
 * `bench_gdrive.ts` runs this module as a child process with `--allow-net=127.0.0.1`
 * (the bench task itself has no network grant) and reads the one JSON line it
 * prints last (see {@linkcode GdriveFigures}).
 * @module
 */
import { posix } from "node:path";
import { initialise } from "../core/config/init.ts";
import { homeLayout } from "../core/config/home.ts";
import { readKeys } from "../core/config/keystore.ts";
import { loadConfig } from "../core/config/load.ts";
import { datasiteDir } from "../core/datasite/layout.ts";
import { PeerService } from "../core/peers/service.ts";
import { type RoundSummary, runRound } from "../core/sync/round.ts";
import { openSession } from "../core/sync/session.ts";
import type { ChannelRef } from "../core/transport/contract.ts";
import { CountingTransport, summarizeCalls } from "./counting_transport.ts";
import { startPlugin } from "../plugins/host.ts";
import { gdriveManifest } from "../plugins/gdrive/manifest.ts";
import { type FakeDriveProcess, startFakeDriveProcess } from "../tests/plugins/gdrive/_fake_rig.ts";

/** Calls of one identity: HTTP requests, total and per Drive method, and the transport operations behind them. */
export interface CallCount {
  total: number;
  methods: Record<string, number>;
  /** The transport operations of the round, e.g. `changes, list(b-), put(b-0001.syft)`. */
  ops: string;
}

/** What this module prints (one JSON line) for `bench.ts`. */
export interface GdriveFigures {
  idle: { peers: number; calls: CallCount };
  /** Keyed by k. */
  rounds: Record<string, { publish: CallCount; receive: CallCount }>;
  firstSync: { files: number; owner: CallCount; peer: CallCount; rounds: number; seconds: number };
  upload: { mib: number; runs: number; syftS: number; baselineS: number };
  /** What the engine warned about on any side (normally nothing). */
  warnings: string[];
}

/**
 * The sizes of a full run and of `--quick` (which keeps 10 peers, the goal's own
 * figure, and shrinks what only costs time: k=10, the first sync's files, repeats).
 */
export const GDRIVE_SIZES = {
  full: { peers: 10, ks: [1, 10, 100], files: 10_000, uploadMiB: 64, uploadRuns: 3 },
  quick: { peers: 10, ks: [1, 100], files: 500, uploadMiB: 64, uploadRuns: 1 },
  /** Every path at toy sizes (the suite's smoke test of the bench). */
  smoke: { peers: 3, ks: [1, 100], files: 100, uploadMiB: 4, uploadRuns: 1 },
};

const MiB = 1024 * 1024;

/**
 * The plugin's request rate limit (10/s, burst 100) is raised: it sets the
 * pace, not the number of calls, and pairing 11 identities would otherwise
 * spend most of the run waiting on it.
 */
const RATE = { perSecond: 5000, burst: 5000 };

/** The engine's warnings from every site, for the report (stdout must stay one JSON line). */
const warnings = new Set<string>();

/** One identity: a syft home, its Drive plugin, its engine. */
export interface Site {
  email: string;
  datasite: string;
  root: string;
  transport: CountingTransport;
  service: PeerService;
  round(): Promise<RoundSummary>;
  close(): Promise<void>;
}

async function openSite(base: string, fake: FakeDriveProcess, email: string): Promise<Site> {
  const home = posix.join(base, email, ".syft");
  const root = posix.join(base, email, "SyftBox");
  // The home is made as `init` makes it; its transport line is never used, the
  // engine gets the Drive plugin directly (`init --transport gdrive` is not this
  // module's business).
  await initialise(
    {
      home,
      email,
      root,
      transport: { kind: "local", dir: posix.join(base, "unused") },
      force: false,
    },
    { checkTransport: async () => {}, now: () => Date.now() },
  );
  const transport = new CountingTransport(
    await startPlugin(gdriveManifest({
      identity: email,
      credentialsDir: await fake.credentials(email),
      apiBase: fake.api,
      rate: RATE,
    })),
  );
  return await engineSite({ email, home, root }, transport, warnings);
}

/**
 * The engine of one measured identity over `transport` (a plugin already
 * started, its calls counted): its session, peer service and rounds, the
 * engine's warnings kept in `warnings`. The transport is closed if it fails.
 */
export async function engineSite(
  at: { email: string; home: string; root: string },
  transport: CountingTransport,
  warnings: Set<string>,
): Promise<Site> {
  const { email, home, root } = at;
  const config = await loadConfig(home);
  try {
    const report = (text: string) => warnings.add(`${email}: ${text.trim()}`);
    const opened = await openSession({
      home,
      config,
      transport,
      reports: { warn: (m) => report(`warning: ${m}`), note: report },
      openTransport: () => Promise.resolve({ transport }),
    });
    const service = new PeerService({
      transport,
      store: opened.peers,
      me: email,
      keys: await readKeys(homeLayout(home).keys),
      now: () => Date.now(),
    });
    return {
      email,
      root,
      datasite: datasiteDir(root, email),
      transport,
      service,
      round: () => runRound(opened.sync, opened.peers),
      close: () => opened.close(),
    };
  } catch (err) {
    await transport.close();
    throw err;
  }
}

/** `peer add` on one side, then `peer approve` on the other, as the CLI does them. */
export async function pair(asker: Site, owner: Site): Promise<void> {
  await asker.service.requestPeer(owner.email);
  await owner.service.discover();
  await owner.service.approvePeer(asker.email, { datasite: owner.datasite });
}

/** One round of `site`; a channel that failed fails the bench (its figures would mean nothing). */
export async function roundOf(site: Site): Promise<RoundSummary> {
  const r = await site.round();
  if (r.failures.length > 0) {
    throw new Error(`${site.email}: ${r.failures.map((f) => f.error).join("; ")}`);
  }
  return r;
}

/**
 * Rounds until no site sends or receives anything (acks included). Groups take
 * turns; the sites of one group run their rounds at once (their homes and
 * plugins are separate), which only shortens the setup.
 */
export async function quiesce(groups: Site[][]): Promise<void> {
  for (let i = 0; i < 10; i++) {
    let moved = 0;
    for (const group of groups) {
      for (const r of await Promise.all(group.map(roundOf))) moved += r.sent + r.received;
    }
    if (moved === 0) return;
  }
  throw new Error("the sites never went quiet");
}

/** What `site` asked of the fake since the last reset (of both counters). */
async function callsOf(fake: FakeDriveProcess, site: Site): Promise<CallCount> {
  const { total, ...methods } = await fake.control({ counts: site.email }) as Record<
    string,
    number
  >;
  return { total: total ?? 0, methods, ops: summarizeCalls(site.transport.reset()) };
}

/** Start counting afresh, for the fake and for every site's transport. */
async function resetCounts(fake: FakeDriveProcess, sites: Site[]): Promise<void> {
  await fake.control({ reset: true });
  for (const site of sites) site.transport.reset();
}

/** The calls `site` makes to the fake while `fn` runs (nobody else runs meanwhile). */
async function counted(
  fake: FakeDriveProcess,
  site: Site,
  fn: () => Promise<unknown>,
): Promise<CallCount> {
  await resetCounts(fake, [site]);
  await fn();
  return await callsOf(fake, site);
}

/** Whether every file of `src` arrived with the same bytes in `dst`. */
export async function mirrored(src: string, dst: string): Promise<boolean> {
  for await (const e of Deno.readDir(src)) {
    if (!e.isFile) continue;
    const want = await Deno.readFile(posix.join(src, e.name));
    const got = await Deno.readFile(posix.join(dst, e.name)).catch(() => null);
    if (!got || got.length !== want.length) return false;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return false;
  }
  return true;
}

/** The peer's mirror of `rel` in `owner`'s datasite. */
export function mirrorOf(peer: Site, owner: Site, rel: string): string {
  return posix.join(peer.root, owner.email, rel);
}

async function idleRound(fake: FakeDriveProcess, base: string, peers: number) {
  const emails = Array.from(
    { length: peers },
    (_, i) => `p${String(i + 1).padStart(2, "0")}@bench.example`,
  );
  const opened = await Promise.allSettled(
    ["hub@bench.example", ...emails].map((email) => openSite(base, fake, email)),
  );
  const sites = opened.flatMap((o) => o.status === "fulfilled" ? [o.value] : []);
  try {
    const failed = opened.find((o) => o.status === "rejected");
    if (failed) throw failed.reason;
    const [hub, ...others] = sites as [Site, ...Site[]];
    // Every peer asks, then the hub approves each, as `peer add` and `peer approve` would.
    await Promise.all(others.map((site) => site.service.requestPeer(hub.email)));
    await hub.service.discover();
    for (const site of others) {
      await hub.service.approvePeer(site.email, { datasite: hub.datasite });
    }
    await quiesce([[hub], others]);
    return { peers, calls: await counted(fake, hub, () => roundOf(hub)) };
  } finally {
    for (const site of sites) await site.close();
  }
}

/** Write `k` small files under `rel` of the owner's datasite; the folder's path. */
export async function writeSmall(
  owner: Site,
  rel: string,
  k: number,
  bytes: number,
): Promise<string> {
  const dir = posix.join(owner.datasite, rel);
  await Deno.mkdir(dir, { recursive: true });
  const block = new Uint8Array(bytes);
  for (let i = 0; i < k; i++) {
    crypto.getRandomValues(block);
    await Deno.writeFile(posix.join(dir, `f${String(i).padStart(6, "0")}.bin`), block);
  }
  return dir;
}

async function pairRounds(
  fake: FakeDriveProcess,
  base: string,
  sizes: { ks: number[]; files: number },
): Promise<Pick<GdriveFigures, "rounds" | "firstSync">> {
  const owner = await openSite(base, fake, "owner@bench.example");
  try {
    const peer = await openSite(base, fake, "peer@bench.example");
    try {
      await pair(peer, owner);
      await quiesce([[owner], [peer]]);
      const rounds: GdriveFigures["rounds"] = {};
      for (const k of sizes.ks) {
        const rel = `public/k${k}`;
        const dir = await writeSmall(owner, rel, k, 100);
        const publish = await counted(fake, owner, () => roundOf(owner));
        const receive = await counted(fake, peer, () => roundOf(peer));
        // One receiving round must have applied them all, or its count would be too low.
        if (!(await mirrored(dir, mirrorOf(peer, owner, rel)))) {
          throw new Error(`k=${k}: one round did not bring every file to the peer`);
        }
        rounds[String(k)] = { publish, receive };
        await quiesce([[owner], [peer]]); // acks settle, so the next k starts from quiet
      }

      const rel = "public/first";
      const dir = await writeSmall(owner, rel, sizes.files, 4096);
      await resetCounts(fake, [owner, peer]);
      // Rounds on both sides until the peer's mirror holds every file (one each
      // is expected); only the rounds are timed, not the checking.
      let seconds = 0;
      let n = 0;
      for (; n < 5; n++) {
        seconds += await timed(async () => {
          await roundOf(owner);
          await roundOf(peer);
        });
        if (await mirrored(dir, mirrorOf(peer, owner, rel))) break;
      }
      if (n === 5) throw new Error(`first sync of ${sizes.files} files never completed`);
      return {
        rounds,
        firstSync: {
          files: sizes.files,
          owner: await callsOf(fake, owner),
          peer: await callsOf(fake, peer),
          rounds: n + 1,
          seconds,
        },
      };
    } finally {
      await peer.close();
    }
  } finally {
    await owner.close();
  }
}

/** `bytes` as a stream of 1 MiB chunks, as a file would be read. */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + MiB));
      at += MiB;
    },
  });
}

async function upload(
  fake: FakeDriveProcess,
  base: string,
  sizes: { uploadMiB: number; uploadRuns: number },
): Promise<GdriveFigures["upload"]> {
  const bytes = new Uint8Array(sizes.uploadMiB * MiB);
  for (let at = 0; at < bytes.length; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, at + 65536));
  }
  const me = "uploader@bench.example";
  await fake.addUsers([me, "sink@bench.example"]);
  const site = await openSite(base, fake, me);
  try {
    const channel: ChannelRef = await site.transport.openChannel("sink@bench.example");
    const { access } = await fake.control({ creds: me }) as { access: string };
    const syft: number[] = [];
    const plain: number[] = [];
    for (let run = 0; run < sizes.uploadRuns; run++) {
      let id = "";
      plain.push(await timed(async () => id = await plainUpload(fake.api, access, bytes)));
      await plainDelete(fake.api, access, id); // keep the fake's memory flat
      const name = `x-upload-${run}.syft`;
      syft.push(await timed(() => site.transport.put(channel, name, streamOf(bytes))));
      const page = await site.transport.list(channel, { prefix: name });
      if (page.objects[0]?.size !== bytes.length) throw new Error(`${name} arrived incomplete`);
      await site.transport.delete(channel, name); // keep the fake's memory flat
    }
    return {
      mib: sizes.uploadMiB,
      runs: sizes.uploadRuns,
      syftS: median(syft),
      baselineS: median(plain),
    };
  } finally {
    await site.close();
  }
}

/** The baseline: the bytes in one `uploadType=media` request; the new file's id. */
async function plainUpload(
  api: string,
  access: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const response = await fetch(`${api}upload/drive/v3/files?uploadType=media&fields=id,size`, {
    method: "POST",
    headers: { authorization: `Bearer ${access}`, "content-type": "application/octet-stream" },
    body: bytes,
  });
  const file = await response.json() as { id?: string; size?: string };
  if (!response.ok || !file.id || Number(file.size) !== bytes.length) {
    throw new Error(`plain upload: HTTP ${response.status} ${JSON.stringify(file)}`);
  }
  return file.id;
}

async function plainDelete(api: string, access: string, id: string): Promise<void> {
  const response = await fetch(`${api}drive/v3/files/${encodeURIComponent(id)}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${access}` },
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`plain upload: delete answered HTTP ${response.status}`);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Measure everything against one fake; every folder and the fake are gone afterwards. */
export async function measureGdrive(
  size: keyof typeof GDRIVE_SIZES,
): Promise<GdriveFigures> {
  const sizes = GDRIVE_SIZES[size];
  const fake = await startFakeDriveProcess();
  const base = await Deno.makeTempDir({ prefix: "syft-bench-gdrive-" });
  try {
    const idle = await idleRound(fake, posix.join(base, "idle"), sizes.peers);
    const { rounds, firstSync } = await pairRounds(fake, posix.join(base, "pair"), sizes);
    const up = await upload(fake, posix.join(base, "upload"), sizes);
    return { idle, rounds, firstSync, upload: up, warnings: [...warnings] };
  } finally {
    await fake.close();
    await Deno.remove(base, { recursive: true });
  }
}

if (import.meta.main) {
  const size = Deno.args.includes("--smoke")
    ? "smoke"
    : Deno.args.includes("--quick")
    ? "quick"
    : "full";
  console.log(JSON.stringify(await measureGdrive(size)));
}
