/**
 * Crash safety (docs/architecture.md invariant 4; issue 4 item 8): `syft sync`
 * children are killed with SIGKILL at random instants of their lifetime while
 * a 500-file sync is in flight, on the publishing side (owner) and on the
 * applying side (peer), and with proposals in flight both ways. After plain
 * rounds until quiet, the trees must converge byte for byte, with nothing
 * lost, nothing applied twice and no false proposal.
 *
 * A third test stops rounds in process at exactly the instants around a put
 * (intent saved, put not done; put done, state not saved), windows too narrow
 * for random kills to hit reliably.
 *
 * Kill delays come from a seeded PRNG: `SYFT_CRASH_SEED=<n>` replays a run
 * (the seed is printed and named in every assertion message);
 * `SYFT_CRASH_KILLS=<n>` sets the kills per side (default 8, for the suite's 8 minutes; raise it for a soak).
 * @module
 */
import { posix } from "node:path";
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../assert.ts";
import { childEnv, syftArgv } from "../../scripts/syft_process.ts";
import { filesUnder, peerUp, put, setSyncSettings, type Site, world } from "./_rig.ts";
import type { Context } from "../../cli/context.ts";
import { Output } from "../../cli/output.ts";
import { openSync } from "../../cli/sync.ts";
import { openTransport } from "../../cli/transport.ts";
import { loadConfig } from "../../core/config/load.ts";
import { prng } from "../../core/random/prng.ts";
import { type RoundSummary, runRound } from "../../core/sync/round.ts";
import { loadChannelState, stateLayout } from "../../core/sync/state.ts";
import type { ChannelRef, ObjectBody, Transport } from "../../core/transport/contract.ts";

const SEED = (() => {
  const raw = Deno.env.get("SYFT_CRASH_SEED");
  if (raw !== undefined && raw !== "") {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`SYFT_CRASH_SEED=${raw} is not an integer`);
    return n >>> 0;
  }
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
})();

const KILLS = (() => {
  const raw = Deno.env.get("SYFT_CRASH_KILLS");
  const n = raw === undefined || raw === "" ? 8 : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`SYFT_CRASH_KILLS=${raw} is not a count`);
  return n;
})();

/** `SYFT_CRASH_VERBOSE=1` prints every step as it happens. */
const VERBOSE = Boolean(Deno.env.get("SYFT_CRASH_VERBOSE"));

console.log(`crash tests: SYFT_CRASH_SEED=${SEED} SYFT_CRASH_KILLS=${KILLS}`);

/** Contents up to this size travel inline; larger ones as blobs (docs/protocol.md §4.3). */
const INLINE = 256 * 1024;

// ---------------------------------------------------------------- randomness

/** A per-test stream, so one test's draws do not depend on another having run. */
function streamFor(name: string): () => number {
  let h = SEED;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return prng(h);
}

/**
 * `n` pseudo-random bytes with a readable tag in front (so every version
 * differs), or an empty file (many paths then share one content hash).
 */
function content(rand: () => number, tag: string, n: number): Uint8Array {
  if (n === 0) return new Uint8Array(0);
  const head = new TextEncoder().encode(`${tag}\n`);
  const out = new Uint8Array(Math.max(n, head.length));
  out.set(head);
  for (let i = head.length; i < out.length; i += 4) {
    const v = (rand() * 4294967296) >>> 0;
    out[i] = v & 0xff;
    if (i + 1 < out.length) out[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < out.length) out[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < out.length) out[i + 3] = (v >>> 24) & 0xff;
  }
  return out;
}

/** Mostly small files (0-4 KiB), about 1 in 100 past the inline limit (a blob). */
function size(rand: () => number): number {
  const r = rand();
  if (r < 0.01) return INLINE + 1 + Math.floor(rand() * 400 * 1024);
  if (r < 0.03) return 0;
  return Math.floor(rand() * 4096);
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

// ---------------------------------------------------------------- sync children

/** What `syft sync --json` reports. */
type Summary = RoundSummary;

/** One `syft sync` child: killed by us, or finished with its summary. */
interface Outcome {
  killed: boolean;
  ms: number;
  summary: Summary | null;
}

/** The story of a run, for assertion messages. */
class Log {
  lines: string[] = [];
  constructor(readonly test: string) {}
  add(line: string): void {
    this.lines.push(line);
    if (VERBOSE) console.log(`[${this.test}] ${line}`);
  }
  /** Context for an assertion message: the seed and the last steps. */
  why(what: string): string {
    return `${what}\n[${this.test}] SYFT_CRASH_SEED=${SEED} SYFT_CRASH_KILLS=${KILLS}; last steps:\n  ` +
      this.lines.slice(-25).join("\n  ");
  }
}

const decoder = new TextDecoder();

/**
 * Run `syft sync --json` as `site` in a child of its own, SIGKILLed after
 * `killAfterMs` unless it finished first. A finished round must succeed and
 * report nothing rejected, conflicting, quarantined or problematic: in these
 * scenarios any of those would be a crash turned into a false edit or a replay.
 */
async function syncChild(
  site: Site,
  killAfterMs: number | null,
  log: Log,
  options: { mayPropose: boolean },
): Promise<Outcome> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: syftArgv(["--home", site.home, "sync", "--json"]),
    env: childEnv({ HOME: posix.dirname(site.home) }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (killAfterMs !== null) {
    timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited: it finished before its kill instant.
      }
    }, killAfterMs);
  }
  const out = await child.output();
  clearTimeout(timer);
  const ms = Math.round(performance.now() - started);
  const who = site.email.split("@")[0];
  const at = killAfterMs === null ? "" : ` (kill at ${Math.round(killAfterMs)} ms)`;
  if (out.signal === "SIGKILL") {
    log.add(`${who}: killed after ${ms} ms${at}`);
    return { killed: true, ms, summary: null };
  }
  const stdout = decoder.decode(out.stdout);
  const stderr = decoder.decode(out.stderr);
  assertEquals(
    out.code,
    0,
    log.why(`${who}: syft sync exited ${out.code}${at}:\n${stdout}\n${stderr}`),
  );
  const summary = JSON.parse(stdout) as Summary;
  log.add(
    `${who}: finished in ${ms} ms${at}: sent ${summary.sent} received ${summary.received} ` +
      `applied ${summary.applied} proposed ${summary.proposed}`,
  );
  const reported = {
    rejected: summary.rejected,
    conflicts: summary.conflicts,
    quarantined: summary.quarantined,
    problems: summary.problems,
    ...(options.mayPropose ? {} : { proposed: summary.proposed }),
  };
  const none = {
    rejected: 0,
    conflicts: 0,
    quarantined: 0,
    problems: [],
    ...(options.mayPropose ? {} : { proposed: 0 }),
  };
  assertEquals(reported, none, log.why(`${who}: a finished round reported trouble\n${stderr}`));
  return { killed: false, ms, summary };
}

/**
 * A kill instant within a child's lifetime `t` (measured on an un-killed round
 * with the same amount of work): half uniform over the whole life, startup
 * included, half over its second half, where the commits happen (journal,
 * renames, barrier, state, put, settle), so those windows are hit often.
 */
function killInstant(rand: () => number, t: number): number {
  return rand() < 0.5 ? rand() * 1.1 * t : (0.5 + 0.6 * rand()) * t;
}

/** Plain rounds, one site after the other, until a whole pass sends and receives nothing. */
async function untilQuiet(sites: Site[], log: Log, options: { mayPropose: boolean }) {
  for (let pass = 0; pass < 8; pass++) {
    let busy = false;
    for (const s of sites) {
      const r = await syncChild(s, null, log, options);
      if (r.summary!.sent > 0 || r.summary!.received > 0) busy = true;
    }
    if (!busy) return;
  }
  throw new Error(log.why("the sites did not quiet down within 8 passes"));
}

// ---------------------------------------------------------------- checks

/** The engine's record of `peer` in `site`'s state folder (core/sync/state.ts). */
async function channelState(site: Site, peer: Site): Promise<Record<string, unknown>> {
  // Through the engine: the file holds the head only, the maps are stored beside it.
  const layout = stateLayout(posix.join(site.home, "state"));
  return { ...await loadChannelState(layout, peer.email) };
}

/** Seqs of the `b-` objects in the channel `from` → `to`. */
async function batchSeqs(sharedDir: string, from: Site, to: Site): Promise<number[]> {
  const dir = posix.join(sharedDir, `syft1#${from.email}#${to.email}`);
  const seqs: number[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = /^b-(\d{16})\.syft$/.exec(e.name);
    if (m) seqs.push(Number(m[1]));
  }
  return seqs.sort((a, b) => a - b);
}

/** `reader` has batches from `sender` it has not applied yet. */
async function hasUnread(sharedDir: string, reader: Site, sender: Site): Promise<boolean> {
  const seqs = await batchSeqs(sharedDir, sender, reader);
  const cursor = (await channelState(reader, sender)).cursor as number;
  return seqs.length > 0 && seqs[seqs.length - 1]! > cursor;
}

/** Files under `dir` and their bytes. */
async function snapshot(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const f of await filesUnder(dir)) out.set(f, await Deno.readFile(posix.join(dir, f)));
  return out;
}

/** `actual` holds exactly `expected`'s files with the same bytes. */
function assertSameTree(
  actual: Map<string, Uint8Array>,
  expected: Map<string, Uint8Array>,
  what: string,
  log: Log,
): void {
  const a = [...actual.keys()].sort();
  const e = [...expected.keys()].sort();
  const extra = a.filter((p) => !expected.has(p));
  const missing = e.filter((p) => !actual.has(p));
  assertEquals(
    { extra, missing },
    { extra: [], missing: [] },
    log.why(`${what}: not the same files (${a.length} vs ${e.length} expected)`),
  );
  const differ = e.filter((p) => sha256(actual.get(p)!) !== sha256(expected.get(p)!));
  assertEquals(differ, [], log.why(`${what}: files with other bytes`));
}

/** Both ends of the pair agree on the channels: contiguous seqs, all applied, nothing pending. */
async function assertChannelsSettled(
  sharedDir: string,
  a: Site,
  b: Site,
  log: Log,
): Promise<void> {
  for (const [from, to] of [[a, b], [b, a]] as const) {
    // Contiguous, none skipped or doubled (older ones may have been collected).
    const seqs = await batchSeqs(sharedDir, from, to);
    const first = seqs[0] ?? 1;
    const n = seqs[seqs.length - 1] ?? 0;
    assertEquals(
      seqs,
      Array.from({ length: n - first + 1 }, (_, i) => first + i),
      log.why(`${from.email} → ${to.email}: batch seqs are not contiguous`),
    );
    const sender = await channelState(from, to);
    const reader = await channelState(to, from);
    assertEquals(
      {
        next_seq: sender.next_seq,
        pending_put: sender.pending_put,
        controls: sender.controls,
        republish: sender.republish,
        cursor: reader.cursor,
        quarantined: reader.quarantined,
      },
      {
        next_seq: n + 1,
        pending_put: null,
        controls: [],
        republish: [],
        cursor: n,
        quarantined: [],
      },
      log.why(`${from.email} → ${to.email}: channel state not settled`),
    );
  }
  for (const [s, peer] of [[a, b], [b, a]] as const) {
    const state = posix.join(s.home, "state");
    // No journal entry, staged content or dead temp file of a state write is left.
    assertEquals(
      await filesUnder(posix.join(state, "journal")),
      [],
      log.why(`${s.email}: journal entries left`),
    );
    assertEquals(
      await filesUnder(posix.join(state, "channels")),
      [`${peer.email}.json`],
      log.why(`${s.email}: stray files beside the channel state`),
    );
    assertEquals(
      (await filesUnder(state)).filter((f) => f.includes(".tmp-")),
      [],
      log.why(`${s.email}: temp files left in the state folder`),
    );
    assertEquals(
      await filesUnder(posix.join(s.root, ".syft-tmp")),
      [],
      log.why(`${s.email}: staged contents left behind`),
    );
  }
}

/** What the owner believes the peer's mirror holds is the truth. */
async function assertPublishedMatches(
  owner: Site,
  peer: Site,
  expected: Map<string, Uint8Array>,
  log: Log,
): Promise<void> {
  const published = (await channelState(owner, peer)).published as Record<string, string>;
  const want = Object.fromEntries([...expected].map(([p, b]) => [p, sha256(b)]));
  assertEquals(published, want, log.why("the owner's record of the peer's mirror is wrong"));
}

// ---------------------------------------------------------------- the owner's files

/** The owner's readable files as they should be, and edits to them. */
class OwnerFiles {
  readonly files = new Map<string, Uint8Array>();
  #next = 0;
  #version = 0;
  constructor(readonly site: Site, readonly rand: () => number, readonly folder: string) {}

  async #write(rel: string, bytes: Uint8Array): Promise<void> {
    const abs = posix.join(this.site.datasite, rel);
    await Deno.mkdir(posix.dirname(abs), { recursive: true });
    await Deno.writeFile(abs, bytes);
    this.files.set(rel, bytes);
  }

  /** `n` new files, a few of them blobs. */
  async add(n: number): Promise<void> {
    const v = ++this.#version;
    for (let i = 0; i < n; i++) {
      const id = this.#next++;
      const rel = `${this.folder}/d${id % 16}/f${String(id).padStart(4, "0")}.dat`;
      await this.#write(rel, content(this.rand, `${rel} v${v}`, size(this.rand)));
    }
    await this.#ensureBlobs(v);
  }

  /** Rewrite about `share` of the files, delete a few, add a few: one sync's worth of work. */
  async churn(share: number): Promise<number> {
    const v = ++this.#version;
    let changes = 0;
    for (const rel of [...this.files.keys()]) {
      const r = this.rand();
      if (r < 0.03) {
        await Deno.remove(posix.join(this.site.datasite, rel));
        this.files.delete(rel);
        changes++;
      } else if (r < 0.03 + share) {
        await this.#write(rel, content(this.rand, `${rel} v${v}`, size(this.rand)));
        changes++;
      }
    }
    const fresh = Math.max(1, Math.round(this.files.size * 0.03));
    await this.add(fresh);
    return changes + fresh;
  }

  /** At least 3 files past the inline limit in every version. */
  async #ensureBlobs(v: number): Promise<void> {
    const big = [...this.files].filter(([, b]) => b.length > INLINE).length;
    const names = [...this.files.keys()];
    for (let i = big; i < 3 && names.length; i++) {
      const rel = names[Math.floor(this.rand() * names.length)]!;
      await this.#write(rel, content(this.rand, `${rel} v${v} big`, INLINE + 1 + i * 50_000));
    }
  }
}

/** The peer's submissions, written into its inbox in its mirror of the owner's datasite. */
class Inbox {
  readonly files = new Map<string, Uint8Array>();
  readonly rel: string;
  #next = 0;
  constructor(readonly owner: Site, readonly peer: Site, readonly rand: () => number) {
    this.rel = `app_data/job/inbox/${peer.email}`;
  }

  async #write(rel: string, bytes: Uint8Array): Promise<void> {
    const abs = posix.join(this.peer.mirror(this.owner), rel);
    await Deno.mkdir(posix.dirname(abs), { recursive: true });
    await Deno.writeFile(abs, bytes);
    this.files.set(rel, bytes);
  }

  /** `n` small submissions in job folders of their own, and one blob. */
  async submit(n: number): Promise<void> {
    let job = "";
    for (let i = 0; i < n; i++) {
      job = `${this.rel}/job${String(this.#next++).padStart(4, "0")}`;
      const rel = `${job}/${i % 3 ? "data.bin" : "run.sh"}`;
      await this.#write(rel, content(this.rand, `${rel} from the peer`, size(this.rand)));
    }
    const big = `${job}/big.bin`;
    await this.#write(big, content(this.rand, big, INLINE + 1 + Math.floor(this.rand() * 200_000)));
  }
}

/**
 * After proposals and the owner's own changes crossed: the owner holds each
 * submission exactly once with the peer's bytes; the peer's mirror is exactly
 * the owner's readable files plus its submissions (write ⊇ read, so the owner
 * publishes them back), with no .rejected. or .conflict. copy; every proposal
 * is answered, and the inbox quota counted each submission once.
 */
async function assertProposalsLanded(
  sharedDir: string,
  owner: Site,
  peer: Site,
  pub: OwnerFiles,
  inbox: Inbox,
  log: Log,
): Promise<void> {
  const ownerInbox = await snapshot(posix.join(owner.datasite, inbox.rel));
  const wantInbox = new Map(
    [...inbox.files].map(([rel, b]) => [rel.slice(inbox.rel.length + 1), b] as const),
  );
  const perm = ownerInbox.get("syft.pub.yaml");
  assert(perm !== undefined, log.why("the inbox permission file is gone"));
  wantInbox.set("syft.pub.yaml", perm);
  assertSameTree(ownerInbox, wantInbox, "owner's inbox", log);
  const wantMirror = new Map([...pub.files, ...inbox.files]);
  assertSameTree(await snapshot(peer.mirror(owner)), wantMirror, "peer's mirror", log);
  await assertPublishedMatches(owner, peer, wantMirror, log);
  await assertChannelsSettled(sharedDir, owner, peer, log);
  const ownerState = await channelState(owner, peer);
  const peerState = await channelState(peer, owner);
  const bytes = [...inbox.files.values()].reduce((n, b) => n + b.length, 0);
  assertEquals(
    { quota_used: ownerState.quota_used, proposed: peerState.proposed },
    { quota_used: bytes, proposed: {} },
    log.why("proposals applied other than exactly once, or left unanswered"),
  );
  const last = await syncChild(peer, null, log, { mayPropose: false });
  assertEquals(last.summary!.proposed, 0, log.why("the peer proposes again"));
}

/**
 * A transport whose put of a batch (`b-…`) never returns, having done the put
 * first (`after`) or not (`before`): the round is stopped at exactly that
 * instant, as a SIGKILL there would stop it. `reached` is called when it is.
 */
function freezeAtPut(
  inner: Transport,
  when: "before" | "after",
  reached: () => void,
): Transport {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "put") {
        return async (channel: ChannelRef, name: string, body: ObjectBody) => {
          if (!name.startsWith("b-")) return await target.put(channel, name, body);
          if (when === "after") await target.put(channel, name, body);
          reached();
          return await new Promise<void>(() => {});
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Run one round of `site` in process until it puts a batch, and abandon it
 * there (its transport closed, nothing after the put ever runs): the state on
 * disk is what a kill at that instant leaves.
 */
async function roundStoppedAtPut(site: Site, when: "before" | "after", log: Log): Promise<void> {
  const ctx: Context = {
    home: site.home,
    out: new Output({ json: false, quiet: true }),
    env: { HOME: posix.dirname(site.home) },
    cwd: Deno.cwd(),
    debug: false,
    interactive: false,
  };
  const config = await loadConfig(site.home);
  let reached = () => {};
  const stopped = new Promise<void>((resolve) => reached = resolve);
  const transport = freezeAtPut(await openTransport(config, site.home), when, reached);
  const opened = await openSync(ctx, config, { transport });
  const round = runRound(opened.sync, opened.peers);
  const ended = round.then(
    () => "the round ended without putting a batch",
    (err) => `the round failed before putting a batch: ${err}`,
  );
  const outcome = await Promise.race([stopped.then(() => null), ended]);
  await opened.close();
  assertEquals(outcome, null, log.why(`${site.email}: ${outcome}`));
  log.add(`${site.email.split("@")[0]}: round stopped ${when} its put`);
}

// ---------------------------------------------------------------- the tests

const SMALL_THRESHOLDS = { checkpoint_threshold: 7, compact_threshold: 2 };

Deno.test("SIGKILL during a 500-file sync, on the publishing and on the applying side: trees converge, nothing lost or applied twice, no false proposal", async () => {
  const started = performance.now();
  const log = new Log("500 files");
  const rand = streamFor("500 files");
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  // Small thresholds: checkpoints are written (and killed) often too.
  for (const s of [owner, ds]) await setSyncSettings(s, SMALL_THRESHOLDS);
  await peerUp(ds, owner);
  const quiet = { mayPropose: false };

  // Files the peer may not read, to prove the mirror holds exactly the readable ones.
  await put(owner.datasite, "reports/q1.csv", "a,b\n1,2\n");
  await put(owner.datasite, "private/secret.txt", "never leaves");
  const model = new OwnerFiles(owner, rand, "public/data");
  await model.add(500);
  const ownerOthers = (await filesUnder(owner.datasite)).filter((f) => !model.files.has(f));
  const dsOwn = await snapshot(ds.datasite);

  // Calibration: one un-killed round on each side with the same amount of work.
  const t = {
    owner: (await syncChild(owner, null, log, quiet)).ms,
    peer: (await syncChild(ds, null, log, quiet)).ms,
  };
  log.add(`calibrated: owner round ${t.owner} ms, peer round ${t.peer} ms`);

  // The publishing side: the owner changes ~500 files and is killed while it publishes.
  let changes = await model.churn(0.9);
  log.add(`owner: ${changes} changes to publish`);
  let ownerKills = 0;
  let ownerFinished = 0;
  for (let attempt = 0; ownerKills < KILLS; attempt++) {
    assert(attempt < KILLS * 5, log.why("the owner's rounds keep finishing before their kill"));
    const r = await syncChild(owner, killInstant(rand, t.owner), log, quiet);
    if (r.killed) {
      ownerKills++;
      continue;
    }
    // It got through: it tells how long such rounds live now (the first
    // publication, with its blobs, is slower than later ones) ...
    if (r.summary!.sent > 0) t.owner = (t.owner + r.ms) / 2;
    // ... and gets another 500-file sync to be killed in.
    ownerFinished++;
    changes = await model.churn(0.9);
    log.add(`owner: ${changes} more changes to publish`);
  }

  // The applying side: the peer is killed while it applies what the owner published.
  let peerKills = 0;
  let peerFinished = 0;
  for (let attempt = 0; peerKills < KILLS; attempt++) {
    assert(attempt < KILLS * 5, log.why("the peer's rounds keep finishing before their kill"));
    const r = await syncChild(ds, killInstant(rand, t.peer), log, quiet);
    if (r.killed) {
      peerKills++;
      continue;
    }
    if (r.summary!.received > 0) t.peer = (t.peer + r.ms) / 2;
    peerFinished++;
    changes = await model.churn(0.9);
    log.add(`owner: ${changes} more changes, published un-killed`);
    await syncChild(owner, null, log, quiet);
  }

  await untilQuiet([owner, ds], log, quiet);

  // Converged: the peer's mirror is exactly the owner's readable files, same bytes
  // (so no duplicate, .conflict. or .rejected. copy either).
  assertSameTree(await snapshot(ds.mirror(owner)), model.files, "peer's mirror", log);
  // The owner never received a proposal: its datasite holds what it wrote, nothing more.
  const ownerExpected = new Map(model.files);
  for (const f of ownerOthers) {
    ownerExpected.set(f, await Deno.readFile(posix.join(owner.datasite, f)));
  }
  assertSameTree(await snapshot(owner.datasite), ownerExpected, "owner's datasite", log);
  assertSameTree(await snapshot(ds.datasite), dsOwn, "peer's own datasite", log);
  await assertPublishedMatches(owner, ds, model.files, log);
  await assertChannelsSettled(w.shared, owner, ds, log);
  const ownerState = await channelState(owner, ds);
  const peerState = await channelState(ds, owner);
  assertEquals(
    { quota_used: ownerState.quota_used, proposed: peerState.proposed },
    { quota_used: 0, proposed: {} },
    log.why("a proposal was made or applied"),
  );
  // No false proposal: with nothing edited in the mirror, a round proposes nothing.
  const last = await syncChild(ds, null, log, quiet);
  assertEquals(last.summary!.proposed, 0, log.why("the peer proposes files it received"));

  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `500 files: owner killed ${ownerKills}× (${ownerFinished} rounds got through), ` +
      `peer killed ${peerKills}× (${peerFinished} got through), ${model.files.size} files, ${secs} s`,
  );
});

Deno.test("SIGKILL on both sides with 100 proposals in flight: each applied exactly once, no .rejected or .conflict copies", async () => {
  const started = performance.now();
  const log = new Log("proposals");
  const rand = streamFor("proposals");
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  for (const s of [owner, ds]) await setSyncSettings(s, SMALL_THRESHOLDS);
  await peerUp(ds, owner);
  const mayPropose = { mayPropose: true };

  // The owner publishes too, so both directions carry work while rounds die.
  const pub = new OwnerFiles(owner, rand, "public/news");
  await pub.add(100);
  await syncChild(owner, null, log, mayPropose);
  await syncChild(ds, null, log, mayPropose);
  const inbox = new Inbox(owner, ds, rand);

  // Calibration: one un-killed round each way with the work of a turn.
  await inbox.submit(100);
  await pub.churn(0.3);
  const t = {
    peer: (await syncChild(ds, null, log, mayPropose)).ms,
    owner: (await syncChild(owner, null, log, mayPropose)).ms,
  };
  log.add(`calibrated: peer round ${t.peer} ms, owner round ${t.owner} ms`);
  await syncChild(ds, null, log, mayPropose);

  // In flight: the same again. In turns, each side that has work (new batches
  // to read, its own changes, or a killed round to recover) runs and is killed
  // at a random instant; once a side has been killed KILLS times its rounds run
  // to the end. When neither side has work, more arrives.
  await inbox.submit(100);
  await pub.churn(0.3);
  let peerKills = 0;
  let ownerKills = 0;
  let refills = 0;
  const dirty = { peer: true, owner: true };
  for (let turn = 1; peerKills < KILLS || ownerKills < KILLS; turn++) {
    assert(turn <= KILLS * 8, log.why("the kills do not land"));
    dirty.peer ||= await hasUnread(w.shared, ds, owner);
    dirty.owner ||= await hasUnread(w.shared, owner, ds);
    if (!dirty.peer && !dirty.owner) {
      refills++;
      await inbox.submit(20);
      await pub.churn(0.1);
      dirty.peer = dirty.owner = true;
    }
    if (dirty.peer) {
      const at = peerKills < KILLS ? killInstant(rand, t.peer) : null;
      const r = await syncChild(ds, at, log, mayPropose);
      if (r.killed) peerKills++;
      // A round that got through tells how long such rounds live now.
      else t.peer = (t.peer + r.ms) / 2;
      dirty.peer = r.killed;
    }
    if (dirty.owner) {
      const at = ownerKills < KILLS ? killInstant(rand, t.owner) : null;
      const r = await syncChild(owner, at, log, mayPropose);
      if (r.killed) ownerKills++;
      else t.owner = (t.owner + r.ms) / 2;
      dirty.owner = r.killed;
    }
  }

  await untilQuiet([ds, owner], log, mayPropose);
  await assertProposalsLanded(w.shared, owner, ds, pub, inbox, log);

  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `proposals: peer killed ${peerKills}×, owner killed ${ownerKills}×, ${refills} refills, ` +
      `${inbox.files.size} submissions, ${secs} s`,
  );
});

Deno.test("rounds stopped exactly before and after a put (the narrowest windows) lose nothing and replay nothing", async () => {
  const log = new Log("at the put");
  const rand = streamFor("at the put");
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  await peerUp(ds, owner);
  const mayPropose = { mayPropose: true };
  const pub = new OwnerFiles(owner, rand, "public/docs");
  await pub.add(30);
  await untilQuiet([owner, ds], log, mayPropose);
  const inbox = new Inbox(owner, ds, rand);

  // The peer stops after saving its intent, before the put: its proposals
  // must still go out (they are not "pending" until the batch is in the channel).
  await inbox.submit(5);
  await roundStoppedAtPut(ds, "before", log);
  await untilQuiet([ds, owner], log, mayPropose);
  await assertProposalsLanded(w.shared, owner, ds, pub, inbox, log);

  // The peer stops right after the put, and the owner answers (applies, echoes,
  // publishes changes) before the peer's next round: settling the put must not
  // roll back what that round then applies (no re-read, no false proposal).
  await inbox.submit(5);
  await roundStoppedAtPut(ds, "after", log);
  await pub.churn(0.5);
  await syncChild(owner, null, log, mayPropose);
  await untilQuiet([ds, owner], log, mayPropose);
  await assertProposalsLanded(w.shared, owner, ds, pub, inbox, log);

  // The same on the owner's side: it stops right after publishing its
  // changes, then proposals arrive before its next round.
  await pub.churn(0.5);
  await roundStoppedAtPut(owner, "after", log);
  await inbox.submit(5);
  await syncChild(ds, null, log, mayPropose);
  await untilQuiet([owner, ds], log, mayPropose);
  await assertProposalsLanded(w.shared, owner, ds, pub, inbox, log);

  // And right before its put.
  await pub.churn(0.5);
  await roundStoppedAtPut(owner, "before", log);
  await inbox.submit(5);
  await syncChild(ds, null, log, mayPropose);
  await untilQuiet([owner, ds], log, mayPropose);
  await assertProposalsLanded(w.shared, owner, ds, pub, inbox, log);
});
