/**
 * One sync round: finish pending journals, learn of peers, read and apply every
 * peer's new batches, then publish to each accepted peer what it may read and
 * what we propose to it. State is saved after every batch, so a round killed at
 * any instant resumes where it stopped.
 * @module
 */
import { indexFingerprint, nothingToPublish } from "./publish_input.ts";
import { MOVED_NAMES } from "./moved_names.ts";
import { planGc } from "../checkpoints/chain.ts";
import { GC_MIN_OBJECTS } from "./gc.ts";
import { ContentCache } from "./content_cache.ts";
import { WrittenFiles } from "./written.ts";
import { PoolWriter } from "./pool.ts";
import { posix } from "node:path";
import { describeError, SyftError, type SyftErrorCode } from "../errors/mod.ts";
import type { PermissionEngine } from "../permissions/mod.ts";
import { lazyImport } from "../lazy_import.ts";
import type { PeerRecord, PeerStore } from "../peers/store.ts";
import { movePeer } from "../peers/state.ts";
import type { Control } from "../events/types.ts";
import { ownDatasite, type PeerKeys, peerKeys, stagingRoot, type SyncContext } from "./context.ts";
import { replayJournals } from "./journal.ts";
import { collectProposals, type ProposalResult } from "./propose.ts";
import type { PeerRefusal } from "./refusals.ts";
import type { RejectReason } from "../events/types.ts";
import { settlePendingPut } from "./settle_seq.ts";
import type { ReceiveResult } from "./reader/types.ts";
import { scanTree } from "./scan.ts";
import { deferHashAfter, settleIndex } from "./deferred_hash.ts";
import { splitCarriable } from "./carriable.ts";
import { loadRoundRecord, type RoundRecord, saveRoundRecord, setTrouble } from "./round_record.ts";
import {
  type ChannelState,
  type FileInfo,
  loadChannelState,
  loadIndex,
  markLastSync,
  readState,
  removeDeadTemps,
  saveChannelState,
  saveIndex,
  writeState,
} from "./state.ts";

/** What a round did (`syft sync` prints it). */
export interface RoundSummary {
  sent: number;
  received: number;
  applied: number;
  rejected: number;
  conflicts: number;
  quarantined: number;
  proposed: number;
  /** Per-peer problems that did not stop the round. */
  problems: string[];
  /**
   * Peers whose channel failed this round (the others still synced): `syft
   * sync` reports each and exits non-zero, `syft status` lists them.
   */
  failures: ChannelFailure[];
  /** Our writes peers refused this round (each kept as a `.rejected` copy). */
  refused: PeerRefusal[];
  /** Peers' writes to our datasite we refused this round, and why. */
  rejections: { peer: string; path: string; reason: RejectReason; detail: string }[];
  /** Per peer, the files this round received from it and sent to it (`--watch` lines). */
  moved: PeerMoved[];
  /** Batches an interrupted earlier round had applied and this one finished (counted in `received`). */
  resumed: number;
}

/** Files one round moved with one peer: counts, and the first few paths. */
export interface PeerMoved {
  peer: string;
  received: number;
  sent: number;
  /** Up to {@linkcode MOVED_NAMES} paths of each. */
  received_paths: string[];
  sent_paths: string[];
}

export { MOVED_NAMES };

function movedOf(summary: RoundSummary, peer: string): PeerMoved {
  let m = summary.moved.find((x) => x.peer === peer);
  if (!m) {
    m = { peer, received: 0, sent: 0, received_paths: [], sent_paths: [] };
    summary.moved.push(m);
  }
  return m;
}

/** One peer's channel that failed in a round. */
export interface ChannelFailure {
  peer: string;
  direction: "reading" | "publishing";
  /** The error's code: `syft sync` exits with its exit code. */
  code: SyftErrorCode;
  error: string;
  hint?: string | undefined;
}

function failure(
  peer: string,
  direction: ChannelFailure["direction"],
  err: unknown,
): ChannelFailure {
  const f: ChannelFailure = {
    peer,
    direction,
    code: err instanceof SyftError ? err.code : "E_INTERNAL",
    error: describeError(err),
  };
  if (err instanceof SyftError && err.hint) f.hint = err.hint;
  return f;
}

/**
 * Whether a peer's error stops only its channel. A transport failure stops the
 * round (nothing is lost: the cursor is not saved), unless peers are routed
 * over several transports: then it is that peer's transport only, and the
 * routes keep that transport's cursor where it was.
 */
function isolated(ctx: SyncContext, err: unknown): boolean {
  return !(err instanceof SyftError && err.code === "E_TRANSPORT") || ctx.routes !== undefined;
}

/** The reader, the writer and the permission engine, loaded by the first round that has work. */
function work(): Promise<typeof import("./round_work.ts")> {
  return lazyImport<typeof import("./round_work.ts")>(new URL("./round_work.ts", import.meta.url));
}

/** What one round carries from step to step. */
interface Round {
  ctx: SyncContext;
  peers: PeerStore;
  summary: RoundSummary;
  /** The round record as it will be saved, and as it was loaded (to skip an unchanged save). */
  record: RoundRecord;
  recordBefore: RoundRecord;
  /** Peers' keys built while reading, reused while writing. */
  keysFor: Map<string, PeerKeys>;
  permissions: Permissions;
}

/** Our datasite's permissions, loaded when first needed and again after they change. */
class Permissions {
  #engine: PermissionEngine | null = null;
  constructor(readonly ctx: SyncContext) {}
  async get(): Promise<PermissionEngine> {
    const { loadDatasitePermissions } = await work();
    return this.#engine ??= await loadDatasitePermissions(ownDatasite(this.ctx), {
      fs: this.ctx.fs,
    });
  }
  forget(): void {
    this.#engine = null;
  }
}

/** The change feed's answer, and the cursor it was asked with (undefined: never asked). */
interface Feed {
  cursor: { cursor: string } | undefined;
  next: string;
  changed: Set<string>;
}

/** Our datasite as the round publishes it. */
interface OwnScan {
  previous: ReadonlyMap<string, FileInfo>;
  index: Map<string, FileInfo>;
  carriable: ReadonlyMap<string, FileInfo>;
  /** What `carriable` holds, as one hash (a channel published for exactly it need not plan again). */
  fingerprint: string;
  /** Loaded at first use: an idle round never walks the permission tree. */
  engine: () => Promise<PermissionEngine>;
}

/**
 * Run one round: recover what a killed round left, ask the change feed, read
 * every peer's channel, scan our datasite, write every peer's channel, then
 * the round's record. Every channel is read before any is written, so what
 * we publish includes the proposals this round applied.
 */
export async function runRound(context: SyncContext, peers: PeerStore): Promise<RoundSummary> {
  // Each content is read and hashed once in the round, however many peers get it.
  const ctx: SyncContext = { ...context, contents: new ContentCache() };
  // The files its journal writes into a mirror are not lstat'ed again by its scan of that mirror.
  ctx.written = new WrittenFiles();
  // Content sealed once into our pool reaches every peer of the round (protocol v2).
  const pool = new PoolWriter(ctx);
  ctx.pool = pool;
  const round = await openRound(ctx, peers);
  await recoverCrashedRound(round);
  const feed = await readChangeFeed(round);
  for (const record of (await peers.list()).records) await readPeer(round, record, feed);
  const own = await scanOwn(round);
  for (const record of (await peers.list()).records) await writePeer(round, record, own);
  for (const record of (await peers.list()).records) await sendControlsOnly(round, record, own);
  await collectPool(round, pool);
  await closeRound(round, own, feed);
  return round.summary;
}

async function openRound(ctx: SyncContext, peers: PeerStore): Promise<Round> {
  const record = await loadRoundRecord(ctx.layout);
  return {
    ctx,
    peers,
    summary: emptySummary(),
    record,
    recordBefore: structuredClone(record),
    keysFor: new Map(),
    permissions: new Permissions(ctx),
  };
}

/** A summary of a round that did nothing: the start of every count. */
export function emptySummary(): RoundSummary {
  return {
    sent: 0,
    received: 0,
    applied: 0,
    rejected: 0,
    conflicts: 0,
    quarantined: 0,
    proposed: 0,
    problems: [],
    failures: [],
    refused: [],
    rejections: [],
    moved: [],
    resumed: 0,
  };
}

/** Finish what a killed round left: journals, staged contents, temp files, puts. */
async function recoverCrashedRound(round: Round): Promise<void> {
  const { ctx, summary } = round;
  // Batches a killed round applied without recording: this round finished them, and says so.
  summary.resumed = await replayJournals(ctx.layout, ctx.clock);
  summary.received += summary.resumed;
  // Contents staged by a round that died before its journal entry was written
  // are referenced by nothing now (every entry is finished, and the round lock
  // keeps other rounds out): without this each such crash leaked a batch's
  // worth of files under <root>/.syft-tmp. (Its entries go, not the folder:
  // `--watch` ignores changes inside it, not to it.)
  const staged = await Array.fromAsync(ctx.fs.readDir(stagingRoot(ctx))).catch(() => []);
  for (const e of staged) {
    await ctx.fs.remove(posix.join(stagingRoot(ctx), e.name), { recursive: true }).catch(() => {});
  }
  await removeDeadTemps(ctx.layout);
  // A put a crash may have left is settled before incoming batches change the
  // channel state (see settlePendingPut).
  for (const record of (await round.peers.list()).records) {
    // The head alone says whether a put is pending (it then comes whole).
    const state = await loadChannelState(ctx.layout, record.email, []);
    if (!state.pending_put) continue;
    try {
      const settled = await settlePendingPut(ctx, record.email, state);
      // The killed round's put did happen: this round finished recording it.
      if (settled.next_seq > state.next_seq) summary.sent++;
    } catch (err) {
      if (!isolated(ctx, err)) throw err;
      // Its transport is down: the put stays pending, its channel waits for the next round.
      summary.failures.push(failure(record.email, "publishing", err));
    }
  }
}

/**
 * Delete the pool objects no channel names any more. A storage that fails
 * leaves them for the next round (the record says which), not the round.
 */
async function collectPool(round: Round, pool: PoolWriter): Promise<void> {
  const live = new Set(
    (await round.peers.list()).records.filter((r) => r.state === "accepted").map((r) => r.email),
  );
  try {
    await pool.collect(live);
  } catch (err) {
    if (!(err instanceof SyftError && err.code === "E_TRANSPORT")) throw err;
    round.ctx.warn(`our pool was not collected this round: ${describeError(err)}`);
  }
}

/** Cheap change detection first; a full discovery only when a channel is new to us. */
async function readChangeFeed(round: Round): Promise<Feed> {
  const { ctx } = round;
  const cursor = await readState<{ cursor: string }>(ctx.layout.changesCursor, ctx.fs);
  const changes = await ctx.transport.changes(cursor?.cursor ?? null);
  const known = new Map((await round.peers.list()).records.map((r) => [r.email, r]));
  if (cursor === undefined || changes.channels.some((c) => !known.get(c.sender)?.sign_key)) {
    await ctx.discover();
  }
  return { cursor, next: changes.cursor, changed: new Set(changes.channels.map((c) => c.sender)) };
}

/** Record a channel's failure, or rethrow one that stops the round. */
function channelFailed(
  round: Round,
  peer: string,
  direction: ChannelFailure["direction"],
  err: unknown,
): void {
  if (!isolated(round.ctx, err)) throw err;
  const f = failure(peer, direction, err);
  round.summary.failures.push(f);
  setTrouble(round.record, peer, direction, f.error);
}

/** Read the peer's channel to us, when it may have news. */
async function readPeer(round: Round, record: PeerRecord, feed: Feed): Promise<void> {
  const { ctx } = round;
  // A channel whose keys changed is refused until `syft peer trust`.
  // A peer that removed us is still read: its peer.accept may follow.
  const readable = !record.key_change &&
    (record.state === "accepted" || record.state === "requested" ||
      (record.state === "removed" && record.removed_by_peer === true));
  if (!readable || !record.sign_key || !record.agree_key) {
    return await noteUnread(round, record.email, feed);
  }
  // A peer whose transport is down this round: said once, here; its channels wait.
  const down = await ctx.routes?.unreachable(record.email);
  if (down) return channelFailed(round, record.email, "reading", down);
  // The head decides; the parts (MiBs for a big datasite) are read only for a channel we read.
  const head = await loadChannelState(ctx.layout, record.email, []);
  if (feed.cursor !== undefined && !feed.changed.has(record.email) && !mayHaveNews(head)) return;
  // Derived only for a channel with work (an idle round derives none).
  const keys = await peerKeys(ctx, record.email, record.sign_key, record.agree_key);
  round.keysFor.set(record.email, keys);
  try {
    const state = await loadChannelState(ctx.layout, record.email);
    const { ChannelReader } = await work();
    const r = await new ChannelReader(ctx, keys, state, {
      acceptsProposals: record.state === "accepted",
      controlsRead: record.controls_read,
      proposalsRead: record.proposals_read,
      onProposalsJudged: (seq: number) =>
        round.peers.update(
          record.email,
          (current) =>
            !current || (current.proposals_read ?? 0) >= seq
              ? null
              : { ...current, proposals_read: seq },
        ).then(() => {}),
      engine: () => round.permissions.get(),
      onPermissionsChanged: () => round.permissions.forget(),
      onPeerControls: (controls: Control[], seq: number) =>
        applyPeerControls(round, record.email, controls, seq),
    }).read();
    countReceived(round.summary, record.email, r);
    setTrouble(round.record, record.email, "reading", null);
  } catch (err) {
    // This peer's channel stops here; the others are still read. The feed
    // moves past it with this round: the next one reads it anyway.
    if (isolated(ctx, err)) await markUnread(round, record.email);
    channelFailed(round, record.email, "reading", err);
  }
}

/**
 * Whether a channel the change feed did not mention is read anyway (false
 * positives are fine): one never started, a reader waiting on a gap (so its
 * timeout can fire), or a batch cut short by `sync.max_proposals`.
 */
function mayHaveNews(state: ChannelState): boolean {
  const waiting = state.waiting !== null && !state.waiting.asked;
  const started = state.cursor > 0 || state.base !== null;
  return !started || waiting || state.resume !== null || state.unread === true;
}

/**
 * The feed reported a channel we may not read now: remembered in its state,
 * since the feed's cursor moves past it with this round. Without it a peer
 * approved again later was never read until it wrote once more: a deletion
 * it published while we held it removed never reached our mirror.
 */
async function noteUnread(round: Round, peer: string, feed: Feed): Promise<void> {
  if (feed.changed.has(peer)) await markUnread(round, peer);
}

/** Mark the peer's channel to be read next round, whatever the change feed says then. */
async function markUnread(round: Round, peer: string): Promise<void> {
  const state = await loadChannelState(round.ctx.layout, peer);
  if (state.unread) return;
  await saveChannelState(round.ctx.layout, { ...state, unread: true });
}

/**
 * A peer's accept, reject or remove, under the store's lock: a peer command may
 * run meanwhile. Controls of a batch at or below the record's `controls_read`
 * were acted on already: the record holds their effect and whatever our own
 * commands did since (a reader that lost `state/` reads them again).
 */
async function applyPeerControls(
  round: Round,
  peer: string,
  controls: Control[],
  seq: number,
): Promise<void> {
  await round.peers.update(peer, (current) => {
    if (!current) return null;
    if (current.controls_read !== undefined && seq <= current.controls_read) return null;
    let next: PeerRecord = { ...current, controls_read: seq };
    for (const c of controls) {
      const answers = next.state === "requested" ||
        (next.state === "removed" && next.removed_by_peer === true);
      if (c.type === "peer.accept" && answers && next.sign_key && !next.key_change) {
        next = { ...movePeer(next, "accepted"), accepted_at: round.ctx.clock.now() };
        delete next.removed_by_peer;
      } else if (c.type === "peer.reject" && next.state !== "removed") {
        next = { ...movePeer(next, "rejected"), reason: c.reason };
      } else if (c.type === "peer.remove") {
        // Our consent stands when we held them accepted or requested: their
        // later peer.accept (they added us again) restores the pair, even
        // when it was sent before we read this remove (seed 5014495).
        const consented = next.state === "accepted" || next.state === "requested" ||
          next.removed_by_peer === true;
        next = movePeer(next, "removed");
        if (consented) next.removed_by_peer = true;
        else delete next.removed_by_peer;
      }
    }
    return next;
  });
}

function countReceived(
  summary: RoundSummary,
  peer: string,
  r: ReceiveResult,
): void {
  summary.received += r.batches;
  summary.applied += r.applied;
  summary.rejected += r.rejected;
  summary.conflicts += r.conflicts;
  summary.quarantined += r.quarantined;
  summary.refused.push(...r.refused.map((x) => ({ ...x, peer })));
  summary.rejections.push(...r.rejections.map((x) => ({ ...x, peer })));
  if (r.applied > 0) {
    const m = movedOf(summary, peer);
    m.received += r.applied;
    m.received_paths.push(...r.paths.slice(0, MOVED_NAMES - m.received_paths.length));
  }
  if (r.gap) summary.problems.push(`waiting for a missing batch from ${peer}`);
  if (r.rollback !== null) {
    summary.problems.push(
      `${peer}'s channel was rolled back: its newest batch is ${r.rollback}, ` +
        `we already applied up to ${r.state.cursor}; nothing was restored from it`,
    );
  }
}

/**
 * Our datasite as it is now (after applied proposals). What cannot travel is
 * left out of every channel, and said once per file (the record keeps what
 * was said), not every round; status lists it.
 */
async function scanOwn(round: Round): Promise<OwnScan> {
  const { ctx } = round;
  const previous = await loadIndex(ctx.layout);
  const scan = await scanTree(ownDatasite(ctx), {
    previous,
    fs: ctx.fs,
    keep: (hash, bytes) => ctx.contents?.put(hash, bytes),
    deferHash: deferHashAfter(previous),
  });
  const { carriable, refused } = splitCarriable(scan.files);
  const skipped: Record<string, string> = {};
  for (const s of scan.special) {
    skipped[s] = "not a regular file (symlinks and devices never travel)";
  }
  for (const [path, why] of refused) skipped[path] = why;
  for (const path of Object.keys(skipped).sort()) {
    if (round.record.skipped[path] !== skipped[path]) {
      ctx.warn(`skipped ${JSON.stringify(path)}: ${skipped[path]}`);
    }
  }
  round.record.skipped = skipped;
  round.permissions.forget();
  return {
    previous,
    index: scan.files,
    carriable,
    fingerprint: indexFingerprint(carriable),
    engine: () => round.permissions.get(),
  };
}

async function keysOf(round: Round, peer: string, signKey: string, agreeKey: string) {
  return round.keysFor.get(peer) ?? await peerKeys(round.ctx, peer, signKey, agreeKey);
}

/** Publish to an accepted peer what it may read of our datasite, and our proposals to it. */
async function writePeer(round: Round, record: PeerRecord, own: OwnScan): Promise<void> {
  const { ctx, summary } = round;
  if (record.state !== "accepted" || !record.sign_key || !record.agree_key || record.key_change) {
    setTrouble(round.record, record.email, "publishing", null); // we do not publish to it
    return;
  }
  if (await ctx.routes?.unreachable(record.email)) return; // reported when reading
  // Proposals need the mirror, not what we published: the rest is read only when there is work.
  const partial = await loadChannelState(ctx.layout, record.email, ["mirror"]);
  const extraControls: Control[] = [];
  if (record.accept_sent === false) extraControls.push({ type: "peer.accept" });
  const proposals = await collectProposals(ctx, partial);
  if (extraControls.length === 0 && publishesNothing(partial, proposals, own)) {
    setTrouble(round.record, record.email, "publishing", null);
    return;
  }
  const keys = {
    ...await keysOf(round, record.email, record.sign_key, record.agree_key),
    protocol: record.protocol,
  };
  const whole = await loadChannelState(ctx.layout, record.email);
  // collectProposals reads and writes neither `published` nor the rolling events.
  proposals.state = {
    ...proposals.state,
    published: whole.published,
    rolling: { ...proposals.state.rolling, events: whole.rolling.events },
  };
  try {
    const { ChannelWriter } = await work();
    const r = await new ChannelWriter(ctx, keys, proposals.state).publish({
      engine: await own.engine(),
      index: own.carriable,
      publishDatasite: true,
      proposals: proposals.proposals,
      pending: proposals.pending,
      extraControls,
      indexFingerprint: own.fingerprint,
    });
    await saveChannelState(ctx.layout, r.state);
    if (record.accept_sent === false) {
      await round.peers.update(
        record.email,
        (current) => current && { ...current, accept_sent: true },
      );
    }
    summary.sent += r.batches;
    summary.proposed += proposals.proposals.length;
    if (r.events > 0) {
      const m = movedOf(summary, record.email);
      m.sent += r.events;
      m.sent_paths.push(...r.paths.slice(0, MOVED_NAMES - m.sent_paths.length));
    }
    setTrouble(round.record, record.email, "publishing", null);
  } catch (err) {
    // One peer's failure (a squatted name, the mass-delete stop, another
    // installation) stops its channel, never the round for the others.
    channelFailed(round, record.email, "publishing", err);
  }
}

/**
 * Whether publishing to a peer would do nothing, from its state without the
 * parts (`ChannelWriter.publish` would find nothing to settle, finish,
 * rebuild, publish or collect, and the scan of its mirror changed nothing):
 * an idle round then neither reads what it published nor saves its state.
 */
function publishesNothing(before: ChannelState, r: ProposalResult, own: OwnScan): boolean {
  const s = r.state;
  if (r.proposals.length > 0 || r.refused.length > 0) return false;
  if (s.gc_pending.length > 0 || s.pending_put !== null || !s.seq_known || s.rebuild_due) {
    return false;
  }
  const input = {
    // Not loaded for this (nothingToPublish reads the fingerprint, never the engine).
    engine: null as unknown as PermissionEngine,
    index: own.carriable,
    publishDatasite: true,
    proposals: [],
    extraControls: [],
    indexFingerprint: own.fingerprint,
  };
  if (!s.published_once || !nothingToPublish(s, input)) return false;
  if (Object.values(s.retired ?? {}).some((seq) => seq <= s.acked)) return false;
  const gc = planGc(s.chain, s.acked);
  if (gc.remove.length + gc.blobs.length >= GC_MIN_OBJECTS) return false;
  // The scan refreshed nothing to save (mtimes, refusals, a wiped mirror).
  return JSON.stringify(s) === JSON.stringify(before);
}

/**
 * Controls to a peer we do not publish to: a resync request to a peer we
 * asked that has not accepted us yet (its b-1 with peer.accept may be the
 * object we refused, or we would wait forever), and our reject or remove
 * (their channel to us stays theirs).
 */
async function sendControlsOnly(round: Round, record: PeerRecord, own: OwnScan): Promise<void> {
  const { ctx, summary } = round;
  if (!record.sign_key || !record.agree_key) return;
  const send = async (extra: Control[]) => {
    const keys = await keysOf(round, record.email, record.sign_key!, record.agree_key!);
    const state = await loadChannelState(ctx.layout, record.email);
    const { ChannelWriter } = await work();
    const r = await new ChannelWriter(ctx, keys, state).publish({
      engine: await own.engine(),
      index: own.carriable,
      publishDatasite: false,
      proposals: [],
      extraControls: extra,
    });
    await saveChannelState(ctx.layout, r.state);
    summary.sent += r.batches;
  };
  if (record.state === "requested" && !record.key_change) {
    const state = await loadChannelState(ctx.layout, record.email, []);
    if (!state.controls.some((c) => c.type === "channel.resync")) return;
    await send([]).catch((err) =>
      summary.problems.push(`asking ${record.email} for a resync: ${describeError(err)}`)
    );
    return;
  }
  if (record.state !== "rejected" && record.state !== "removed") return;
  const flag = record.state === "rejected" ? "reject_sent" : "remove_sent";
  if ((record as unknown as Record<string, unknown>)[flag] !== false) return;
  const control: Control = record.state === "rejected"
    ? { type: "peer.reject", reason: record.reason ?? "" }
    : { type: "peer.remove" };
  try {
    await send([control]);
    await round.peers.update(record.email, (current) => current && { ...current, [flag]: true });
  } catch (err) {
    summary.problems.push(`telling ${record.email}: ${describeError(err)}`);
  }
}

/** Save the round's record, index, feed cursor and time: each an fsync'd write, skipped when unchanged. */
async function closeRound(round: Round, own: OwnScan, feed: Feed): Promise<void> {
  const { ctx } = round;
  const listed = new Set((await round.peers.list()).records.map((r) => r.email));
  for (const peer of Object.keys(round.record.peers)) {
    if (!listed.has(peer)) delete round.record.peers[peer];
  }
  await saveRoundRecord(ctx.layout, round.record, round.recordBefore);
  await settleIndex(own.index, ownDatasite(ctx), ctx.fs, own.previous);
  if (!sameIndex(own.previous, own.index)) await saveIndex(ctx.layout, own.index);
  const nextCursor = ctx.routes?.cursorToSave(feed.next) ?? feed.next;
  if (feed.cursor?.cursor !== nextCursor) {
    await writeState(ctx.layout.changesCursor, { cursor: nextCursor }, ctx.fs);
  }
  await markLastSync(ctx.layout, ctx.clock.now());
}

function sameIndex(a: ReadonlyMap<string, FileInfo>, b: ReadonlyMap<string, FileInfo>): boolean {
  if (a.size !== b.size) return false;
  for (const [path, x] of a) {
    const y = b.get(path);
    if (
      !y || y.hash !== x.hash || y.size !== x.size || y.mtime !== x.mtime || y.mode !== x.mode ||
      y.ino !== x.ino
    ) {
      return false;
    }
  }
  return true;
}
