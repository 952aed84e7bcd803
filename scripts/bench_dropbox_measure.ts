/**
 * The Dropbox figures of `deno task bench` (issue 18): the real sync engine
 * in this process over the real Dropbox plugin (one Worker per identity,
 * started through the host under the manifest's grants) against the fake
 * Dropbox (tests/fakes/dropbox_server.ts, in this process), as the Drive
 * figures are measured (bench_gdrive_measure.ts, whose helpers this reuses).
 *
 * Calls are HTTP requests the fake received from the identity measured (its
 * per-user call counts), not transport operations: that is what Dropbox
 * rate-limits. Measured:
 * - an idle round of an identity with 10 accepted peers;
 * - a round of k new small files to one peer (publishing and receiving round);
 * - a first sync of many 4 KiB files owner -> peer (all calls of both sides);
 * - edit -> visible latency with both sides in `syft sync --watch` (real CLI
 *   processes, `SYFT_DROPBOX_API` at the fake), p50 and p95;
 * - a 64 MiB put against a plain `fetch` of the same bytes in one
 *   `files/upload` to the same fake, alternated, median.
 *
 * `bench_dropbox.ts` runs this module as a child process with
 * `--allow-net=127.0.0.1` and reads the one JSON line it prints last (see
 * {@linkcode DropboxFigures}).
 * @module
 */
import { posix } from "node:path";
import { initialise } from "../core/config/init.ts";
import { homeLayout } from "../core/config/home.ts";
import type { ChannelRef } from "../core/transport/contract.ts";
import { CountingTransport, summarizeCalls } from "./counting_transport.ts";
import { startPlugin } from "../plugins/host.ts";
import { dropboxManifest } from "../plugins/dropbox/manifest.ts";
import { type FakeDropbox, startFakeDropbox } from "../tests/fakes/dropbox_server.ts";
import { storeFakeSignIn } from "../tests/e2e/_dropbox_rig.ts";
import {
  type CallCount,
  engineSite,
  mirrored,
  mirrorOf,
  pair,
  quiesce,
  roundOf,
  type Site,
  streamOf,
  writeSmall,
} from "./bench_gdrive_measure.ts";
import { median, percentile, sleep, time } from "./bench_util.ts";
import { childEnv, syftArgv } from "./syft_process.ts";

/** What this module prints (one JSON line) for `bench_dropbox.ts`. */
export interface DropboxFigures {
  idle: { peers: number; calls: CallCount };
  /** Keyed by k. */
  rounds: Record<string, { publish: CallCount; receive: CallCount }>;
  firstSync: { files: number; owner: CallCount; peer: CallCount; rounds: number; seconds: number };
  /** `lost`: edits that never showed in time (the rest were not tried). */
  watch: { samples: number; lost: number; p50S: number; p95S: number };
  upload: { mib: number; runs: number; syftS: number; baselineS: number };
  /** What the engine warned about on any side (normally nothing). */
  warnings: string[];
}

/**
 * Sizes of a full run, of `--quick` (10 peers, the goal's own figure; fewer
 * files and repeats) and of `--smoke` (every path at toy sizes).
 */
export const DROPBOX_SIZES = {
  full: {
    peers: 10,
    ks: [1, 10, 100],
    files: 10_000,
    uploadMiB: 64,
    uploadRuns: 3,
    edits: 10,
    editTimeoutS: 30,
  },
  quick: {
    peers: 10,
    ks: [1, 100],
    files: 500,
    uploadMiB: 64,
    uploadRuns: 1,
    edits: 5,
    editTimeoutS: 30,
  },
  /** The suite runs this: an edit that has not shown in 5 s is late enough to report. */
  smoke: {
    peers: 3,
    ks: [1, 100],
    files: 100,
    uploadMiB: 4,
    uploadRuns: 1,
    edits: 2,
    editTimeoutS: 5,
  },
};

const MiB = 1024 * 1024;

/** The engine's warnings from every site, for the report (stdout must stay one JSON line). */
const warnings = new Set<string>();

/** A home made as `init --transport dropbox` makes it, signed in to the fake as `email`. */
async function makeHome(base: string, fake: FakeDropbox, email: string) {
  const home = posix.join(base, email, ".syft");
  const root = posix.join(base, email, "SyftBox");
  await initialise(
    { home, email, root, transport: { kind: "dropbox" }, force: false },
    { checkTransport: async () => {}, now: () => Date.now() },
  );
  const credentials = homeLayout(home).credentials;
  await storeFakeSignIn(fake, email, credentials);
  return { home, root, credentials };
}

async function openSite(base: string, fake: FakeDropbox, email: string): Promise<Site> {
  const { home, root, credentials } = await makeHome(base, fake, email);
  const transport = new CountingTransport(
    await startPlugin(
      dropboxManifest({ identity: email, credentialsDir: credentials, apiBase: fake.url }),
    ),
  );
  return await engineSite({ email, home, root }, transport, warnings);
}

/** What `site` asked of the fake since the last reset, with its transport operations. */
function callsOf(fake: FakeDropbox, site: Site): CallCount {
  const { total, ...methods } = fake.callCounts(site.email);
  return { total: total ?? 0, methods, ops: summarizeCalls(site.transport.reset()) };
}

function resetCounts(fake: FakeDropbox, sites: Site[]): void {
  fake.resetCounts();
  for (const site of sites) site.transport.reset();
}

async function counted(fake: FakeDropbox, site: Site, fn: () => Promise<unknown>) {
  resetCounts(fake, [site]);
  await fn();
  return callsOf(fake, site);
}

async function idleRound(fake: FakeDropbox, base: string, peers: number) {
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
    await Promise.all(others.map((site) => site.service.requestPeer(hub.email)));
    await hub.service.discover();
    for (const site of others) {
      await hub.service.approvePeer(site.email, { datasite: hub.datasite });
    }
    await quiesce([[hub], others]);
    await roundOf(hub); // takes in what the peers' last rounds wrote
    return { peers, calls: await counted(fake, hub, () => roundOf(hub)) };
  } finally {
    for (const site of sites) await site.close();
  }
}

async function pairRounds(
  fake: FakeDropbox,
  base: string,
  sizes: { ks: number[]; files: number },
): Promise<Pick<DropboxFigures, "rounds" | "firstSync">> {
  const owner = await openSite(base, fake, "owner@bench.example");
  try {
    const peer = await openSite(base, fake, "peer@bench.example");
    try {
      await pair(peer, owner);
      await quiesce([[owner], [peer]]);
      const rounds: DropboxFigures["rounds"] = {};
      for (const k of sizes.ks) {
        const rel = `public/k${k}`;
        const dir = await writeSmall(owner, rel, k, 100);
        const publish = await counted(fake, owner, () => roundOf(owner));
        const receive = await counted(fake, peer, () => roundOf(peer));
        if (!(await mirrored(dir, mirrorOf(peer, owner, rel)))) {
          throw new Error(`k=${k}: one round did not bring every file to the peer`);
        }
        rounds[String(k)] = { publish, receive };
        await quiesce([[owner], [peer]]);
      }

      const rel = "public/first";
      const dir = await writeSmall(owner, rel, sizes.files, 4096);
      resetCounts(fake, [owner, peer]);
      let seconds = 0;
      let n = 0;
      for (; n < 5; n++) {
        seconds += await time(async () => {
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
          owner: callsOf(fake, owner),
          peer: callsOf(fake, peer),
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

/** `syft sync --watch` as the identity of `home`, talking to the fake. */
function watch(home: string, api: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: syftArgv(["--home", home, "sync", "--watch"]),
    env: childEnv({ SYFT_DROPBOX_API: api }),
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
}

/**
 * Seconds from writing `text` at `src` until `dst` reads back the same text;
 * null when it has not arrived within `timeoutS`.
 */
async function editLatency(
  src: string,
  dst: string,
  text: string,
  timeoutS: number,
): Promise<number | null> {
  const start = performance.now();
  await Deno.writeTextFile(src, text);
  while ((await Deno.readTextFile(dst).catch(() => "")) !== text) {
    if (performance.now() - start > timeoutS * 1000) return null;
    await sleep(10);
  }
  return (performance.now() - start) / 1000;
}

/** Pair two identities in process, then time edits with both in `sync --watch`. */
async function watchLatency(
  fake: FakeDropbox,
  base: string,
  samples: number,
  timeoutS: number,
): Promise<DropboxFigures["watch"]> {
  const owner = await openSite(base, fake, "wowner@bench.example");
  const peer = await openSite(base, fake, "wpeer@bench.example");
  try {
    await pair(peer, owner);
    await quiesce([[owner], [peer]]);
  } finally {
    await owner.close();
    await peer.close();
  }
  const home = (s: Site) => posix.join(posix.dirname(s.root), ".syft");
  const watchers = [watch(home(owner), fake.url), watch(home(peer), fake.url)];
  const latencies: number[] = [];
  let lost = 0;
  try {
    const src = posix.join(owner.datasite, "public", "edit.txt");
    const dst = mirrorOf(peer, owner, "public/edit.txt");
    // The first edit also waits for both watchers' first rounds: not a sample.
    await editLatency(src, dst, `warm-up ${crypto.randomUUID()}`, 2 * timeoutS);
    for (let i = 0; i < samples; i++) {
      await sleep(300);
      const s = await editLatency(src, dst, `edit ${i} ${crypto.randomUUID()}`, timeoutS);
      if (s === null) {
        lost = samples - i; // the watchers are stuck: the rest would only wait as long
        break;
      }
      latencies.push(s);
    }
  } finally {
    for (const w of watchers) w.kill("SIGTERM");
    await Promise.all(watchers.map((w) => w.status));
  }
  return {
    samples: latencies.length,
    lost,
    p50S: latencies.length > 0 ? percentile(latencies, 0.5) : NaN,
    p95S: latencies.length > 0 ? percentile(latencies, 0.95) : NaN,
  };
}

async function upload(
  fake: FakeDropbox,
  base: string,
  sizes: { uploadMiB: number; uploadRuns: number },
): Promise<DropboxFigures["upload"]> {
  const bytes = new Uint8Array(sizes.uploadMiB * MiB);
  for (let at = 0; at < bytes.length; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, at + 65536));
  }
  const me = "uploader@bench.example";
  const site = await openSite(base, fake, me);
  try {
    const channel: ChannelRef = await site.transport.openChannel("sink@bench.example");
    const token = fake.token(me);
    const syft: number[] = [];
    const plain: number[] = [];
    for (let run = 0; run < sizes.uploadRuns; run++) {
      const path = `/bench/plain-${run}.bin`;
      plain.push(await time(() => plainUpload(fake.url, token, path, bytes)));
      await plainDelete(fake.url, token, path); // keep the fake's memory flat
      const name = `x-upload-${run}.syft`;
      syft.push(await time(() => site.transport.put(channel, name, streamOf(bytes))));
      const page = await site.transport.list(channel, { prefix: name });
      if (page.objects[0]?.size !== bytes.length) throw new Error(`${name} arrived incomplete`);
      await site.transport.delete(channel, name);
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

/** The baseline: the bytes in one `files/upload` request (Dropbox allows up to 150 MiB). */
async function plainUpload(
  api: string,
  token: string,
  path: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<void> {
  const response = await fetch(`${api}/content/2/files/upload`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/octet-stream",
      "dropbox-api-arg": JSON.stringify({ path, mode: "overwrite", mute: true }),
    },
    body: bytes,
  });
  const meta = await response.json() as { size?: number };
  if (!response.ok || meta.size !== bytes.length) {
    throw new Error(`plain upload: HTTP ${response.status} ${JSON.stringify(meta)}`);
  }
}

async function plainDelete(api: string, token: string, path: string): Promise<void> {
  const response = await fetch(`${api}/api/2/files/delete_v2`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ path }),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`plain upload: delete answered HTTP ${response.status}`);
}

/** Measure everything against one fake; every folder and the fake are gone afterwards. */
export async function measureDropbox(
  size: keyof typeof DROPBOX_SIZES,
): Promise<DropboxFigures> {
  const sizes = DROPBOX_SIZES[size];
  const fake = await startFakeDropbox();
  const base = await Deno.makeTempDir({ prefix: "syft-bench-dropbox-" });
  try {
    const idle = await idleRound(fake, posix.join(base, "idle"), sizes.peers);
    const { rounds, firstSync } = await pairRounds(fake, posix.join(base, "pair"), sizes);
    const watched = await watchLatency(
      fake,
      posix.join(base, "watch"),
      sizes.edits,
      sizes.editTimeoutS,
    );
    const up = await upload(fake, posix.join(base, "upload"), sizes);
    return { idle, rounds, firstSync, watch: watched, upload: up, warnings: [...warnings] };
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
  console.log(JSON.stringify(await measureDropbox(size)));
}
