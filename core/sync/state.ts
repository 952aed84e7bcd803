/**
 * The sync engine's own files under `$SYFT_HOME/state/` (rebuildable caches and
 * cursors; file first). One JSON document per peer channel pair, written
 * atomically, plus the own datasite's index.
 * @module
 */
import { posix } from "node:path";
import type { Control } from "../events/types.ts";
import type { ChainEntry } from "../checkpoints/chain.ts";
import { emptyRolling, type RollingState } from "../checkpoints/rolling.ts";
import { syncDir, writeFileAtomic } from "../fs/atomic.ts";
import {
  addedKeyBytes,
  applyPartOps,
  applyRecordOps,
  CHANNEL_PARTS,
  type ChannelPart,
  diffPart,
  diffParts,
  LogGap,
  logLine,
  type PartsOps,
  readLog,
  recordOf,
  type StoredPart,
  storedPart,
  storedPartAndText,
} from "./state_delta.ts";
import { syftTempTarget } from "../datasite/names.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { FsEntry, LocalFs } from "../fs/local_fs.ts";
import type { Refusal } from "./refusals.ts";

/** What the scanner learned of one regular file. */
export interface FileInfo {
  hash: string;
  size: number;
  /** mtime in ms; with size and inode, decides whether a file must be hashed again. */
  mtime: number;
  mode: "file" | "exec";
  /**
   * The inode, where the file system has them: a file renamed over another
   * keeps its size and mtime, and two files applied in the same second have
   * the same mtime, so size and mtime alone took such a rename for no change.
   */
  ino?: number;
}

/** A proposal we sent and the owner has not yet answered. */
export interface PendingProposal {
  id: string;
  old_hash: string | null;
  new_hash: string | null;
  /**
   * Contents we proposed for this path before this one, still unanswered,
   * oldest first: the owner applies them in order, so each comes back as its
   * publication, and that echo is ours, not the owner's change.
   */
  earlier?: string[];
}

/** Unanswered earlier proposals remembered per path (a user saving every few seconds). */
export const MAX_EARLIER_PROPOSALS = 16;

/**
 * Whether `hash`, published by the owner for a path, is a content we proposed
 * there and have not been answered about yet (null: the deletion we proposed).
 */
export function isOwnEcho(pending: PendingProposal | undefined, hash: string | null): boolean {
  if (!pending) return false;
  // A deletion is ours only as the latest proposal (`earlier` holds contents only).
  if (hash === null) return pending.new_hash === null;
  return pending.new_hash === hash || (pending.earlier?.includes(hash) ?? false);
}

/** An outgoing batch whose put may or may not have happened (crash window). */
export interface PendingPut {
  seq: number;
  /** The state to adopt once the batch is known to be in the channel. */
  after: ChannelState;
}

/**
 * Everything the engine keeps about one peer: the writer's state of our
 * channel to it and the reader's of its channel to us, saved as one flat
 * document (`state/channels/<peer>.json`).
 */
export interface ChannelState extends WriterState, ReaderState {
  peer: string;
}

/** What the writer of our channel to a peer keeps (core/sync/channel_writer.ts). */
export interface WriterState {
  /** Next `b-` seq to write (first is 1). */
  next_seq: number;
  /** path → hash as the peer's mirror of our datasite has it (what we published). */
  published: Record<string, string>;
  /** Paths to publish again whatever `published` says (after a rejected proposal). */
  republish: string[];
  /** Control records waiting for the next batch. */
  controls: Control[];
  /** Our acks for the peer's seqs last sent. */
  acks_sent: number;
  /**
   * A batch with events or controls was applied since our last batch: it needs
   * an ack. Ack-only batches never need one, or two peers would ping-pong.
   */
  ack_needed: boolean;
  /** The peer's ack of our batches. */
  acked: number;
  /** Blob ids already in our channel. */
  blobs: string[];
  pending_put: PendingPut | null;
  /** Whether any batch has been published yet (a first round never deletes). */
  published_once: boolean;
  /**
   * Whether `next_seq` was checked against the channel's listing. False for a
   * fresh state (first contact, or `state/` deleted): the listing then decides
   * the seq instead of reporting another installation.
   */
  seq_known: boolean;
  /** Publication events since our last checkpoint (docs/protocol.md §6). */
  rolling: RollingState;
  /** The objects we wrote to our channel and still keep, oldest first (for GC). */
  chain: ChainEntry[];
  /** Objects a collection decided to delete and may not have deleted yet (a crash). */
  gc_pending: string[];
  /**
   * Blob id → the seq of our batch after which no file we publish has its
   * content (deleted or replaced): collected once the peer acked that batch.
   */
  retired: Record<string, number>;
  /** The peer asked for a fresh full checkpoint (`channel.resync`). */
  cf_due: boolean;
  /**
   * Our record was lost (`state/` deleted) and the channel's listing did not
   * yet show the objects the seq was settled from (a listing that lags, as
   * Drive's does): the record is rebuilt by a later round. Without it the
   * rebuild was skipped for good and the objects from before were never
   * collected (simulation seed 777).
   */
  rebuild_due?: boolean | undefined;
  /**
   * A checkpoint came due in a round whose own batches made up its whole
   * window, and was left for the next round that publishes: written then, it
   * would have packed those batches' contents a second time for nothing.
   */
  checkpoint_deferred?: boolean;
  /** The index fingerprint (core/sync/publication.ts) this channel last published all of. */
  published_index?: string;
}

/** What the reader of a peer's channel to us keeps (core/sync/receive.ts). */
export interface ReaderState {
  /** Highest seq applied from the peer. */
  cursor: number;
  /** path → what we applied into `<root>/<peer>/` (the owner's version). */
  mirror: Record<string, FileInfo>;
  /** path → our proposal not yet answered. */
  proposed: Record<string, PendingProposal>;
  /** Bytes of this peer's proposals applied to our datasite (inbox quota). */
  quota_used: number;
  /** Seqs quarantined (never applied). */
  quarantined: number[];
  /** Names of the peer's objects we quarantined: never read again. */
  quarantined_names: string[];
  /** The seq of the peer's full checkpoint we restored from; null when none. */
  base: number | null;
  /** We refused an object and asked for a resync: restore from the first cf past this seq. */
  want_cf: number | null;
  /** The peer's channel was found below our cursor (reported by `syft status`, never restored). */
  rolled_back: { highest: number; cursor: number; at: number } | null;
  /** Since when we wait for a missing or refused next object, and whether we asked for a resync. */
  waiting: { missing: number; since: number; asked: boolean } | null;
  /**
   * Batch `seq` (the one after the cursor) was read up to event `next` when
   * the round's `sync.max_proposals` ran out: the next round goes on from
   * there (`next` 0: nothing of it, controls included, was applied yet).
   */
  resume: { seq: number; next: number } | null;
  /**
   * The peer's batches up to this seq were read, and their proposals judged,
   * by a state since lost (learnt from the acks in our own newest batch): a
   * replay applies their publications only.
   */
  judged: number;
  /** Our writes to the peer's datasite it refused, kept aside as `.rejected` copies (status lists them). */
  refused: Refusal[];
  /**
   * The channel has news we have not read, and the change feed has moved past
   * it: the feed reported it while we could not read it (the peer removed,
   * rejected, pending, or its keys changed; simulation seed 9), reading it
   * failed, or a listing showed batches past the cursor the round did not
   * get to (seed 30311). The next round that may read it looks, whatever the
   * feed says then.
   */
  unread?: boolean | undefined;
}

/** A fresh state for a peer. */
export function emptyChannelState(peer: string): ChannelState {
  return { peer, ...emptyWriterState(), ...emptyReaderState() };
}

/** A fresh writer's state: nothing written yet, the seq still to be learnt from the listing. */
export function emptyWriterState(): WriterState {
  return {
    next_seq: 1,
    published: {},
    republish: [],
    controls: [],
    acks_sent: 0,
    ack_needed: false,
    acked: 0,
    blobs: [],
    pending_put: null,
    published_once: false,
    seq_known: false,
    rolling: emptyRolling(),
    chain: [],
    gc_pending: [],
    retired: {},
    cf_due: false,
  };
}

/** A fresh reader's state: nothing read, applied or restored yet. */
export function emptyReaderState(): ReaderState {
  return {
    cursor: 0,
    mirror: {},
    proposed: {},
    quota_used: 0,
    quarantined: [],
    quarantined_names: [],
    base: null,
    want_cf: null,
    rolled_back: null,
    waiting: null,
    resume: null,
    judged: 0,
    refused: [],
  };
}

/** Paths of the engine's files, and the file system they live on. */
export interface StateLayout {
  /**
   * Where the state files are read and written. Carried with the paths so the
   * many state calls of a round need no second argument, and cannot mix two
   * file systems.
   */
  fs: LocalFs;
  dir: string;
  index: string;
  channels: string;
  journal: string;
  quarantine: string;
  lastSync: string;
  changesCursor: string;
  /** Our pool's record (protocol v2, core/sync/pool.ts). */
  pool: string;
}

/** The layout under a state folder. */
export function stateLayout(stateDir: string, fs: LocalFs = denoFs): StateLayout {
  return {
    fs,
    dir: stateDir,
    index: posix.join(stateDir, "index.json"),
    channels: posix.join(stateDir, "channels"),
    journal: posix.join(stateDir, "journal"),
    quarantine: posix.join(stateDir, "quarantine"),
    lastSync: posix.join(stateDir, "last_sync.json"),
    changesCursor: posix.join(stateDir, "changes_cursor.json"),
    pool: posix.join(stateDir, "pool.json"),
  };
}

/** A state file as this process last read or wrote it, and which file that was. */
interface Known {
  text: string;
  ino: number | null;
  mtime: number | null;
  size: number;
}

/**
 * What each state file holds, as far as this process knows: a save of the
 * same text to the same file (same inode, size and mtime, so not replaced or
 * rolled back since) writes nothing. Idle rounds then write no byte, where
 * they rewrote every peer's state (hundreds of KiB each) with an fsync.
 */
const knownFiles = new WeakMap<LocalFs, Map<string, Known>>();

function knownOn(fs: LocalFs): Map<string, Known> {
  let known = knownFiles.get(fs);
  if (!known) knownFiles.set(fs, known = new Map());
  return known;
}

async function identity(fs: LocalFs, path: string): Promise<Omit<Known, "text"> | null> {
  try {
    const info = await fs.lstat(path);
    return { ino: info.ino, mtime: info.mtime?.getTime() ?? null, size: info.size };
  } catch {
    return null;
  }
}

function sameFile(a: Omit<Known, "text">, b: Omit<Known, "text"> | null): boolean {
  return b !== null && a.ino === b.ino && a.mtime === b.mtime && a.size === b.size;
}

async function readJson<T>(fs: LocalFs, path: string): Promise<T | undefined> {
  return (await readJsonText<T>(fs, path))?.value;
}

/**
 * {@linkcode readJson}, and whether the file is still the one this process
 * last wrote or read there (same text, inode, size and mtime: not replaced or
 * rolled back since), so what it derived from it then still holds.
 */
async function readJsonText<T>(
  fs: LocalFs,
  path: string,
): Promise<{ value: T; text: string; unchanged: boolean } | undefined> {
  try {
    const was = knownOn(fs).get(path);
    const before = await identity(fs, path);
    const text = await fs.readTextFile(path);
    if (before) knownOn(fs).set(path, { text, ...before });
    const unchanged = was !== undefined && was.text === text && sameFile(was, before);
    return { value: JSON.parse(text) as T, text, unchanged };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    // A corrupt cache is rebuilt, not fatal: the state is rebuildable by design.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

function writeJson(fs: LocalFs, path: string, value: unknown): Promise<void> {
  return writeText(fs, path, JSON.stringify(value));
}

/** Write `text` to `path` atomically, unless the file holds exactly it already. */
async function writeText(fs: LocalFs, path: string, text: string): Promise<void> {
  const known = knownOn(fs);
  const was = known.get(path);
  if (was?.text === text && sameFile(was, await identity(fs, path))) return;
  known.delete(path);
  await fs.mkdir(posix.dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, text, { mode: 0o600, fs });
  const now = await identity(fs, path);
  if (now) known.set(path, { text, ...now });
}

/**
 * Remove the temp files of state writes killed before their rename (one per
 * crash, as large as the state, never reclaimed otherwise). Only a round,
 * under the round lock, writes the engine's files, so at the start of a round
 * every temp beside them is dead.
 */
export async function removeDeadTemps(layout: StateLayout): Promise<void> {
  const ownFiles = new Set(
    [layout.index, layout.changesCursor, layout.lastSync, layout.pool].map((p) =>
      posix.basename(p)
    ),
  );
  for (
    const dir of [
      layout.channels,
      posix.join(layout.dir, "channel_parts"),
      posix.join(layout.dir, "index_parts"),
      layout.journal,
      layout.dir,
    ]
  ) {
    // Folders only the engine writes, and in the state folder its own files.
    const all = dir !== layout.dir;
    let entries: FsEntry[];
    try {
      entries = await Array.fromAsync(layout.fs.readDir(dir));
    } catch {
      continue;
    }
    for (const e of entries) {
      // The names writeFileAtomic gives its temps: `.<name>.tmp-<uuid>`.
      const target = syftTempTarget(e.name);
      if (!e.isFile || target === null || (!all && !ownFiles.has(target))) continue;
      await layout.fs.remove(posix.join(dir, e.name)).catch(() => {});
    }
  }
}

/**
 * A part a round loaded no copy of ({@linkcode loadChannelState} with `only`):
 * frozen, so code that writes into it fails loudly, and refused by
 * {@linkcode saveChannelState}, so it can never be saved as an empty map.
 */
const UNLOADED: Record<string, never> = Object.freeze({});

/** Whether `state` holds every part (not a head-only or partial load). */
export function isComplete(state: ChannelState): boolean {
  return state.published !== UNLOADED && state.mirror !== UNLOADED &&
    state.rolling.events !== UNLOADED;
}

/** What this process knows of a peer's stored state, to write the next save as a delta. */
interface StoredChannel {
  /** The head's text as last read or written (its identity is in `knownFiles`). */
  headText: string;
  gen: string;
  n: number;
  /** Each part as the head's save `n` has it; filled when first needed. */
  parts: Partial<Record<ChannelPart, StoredPart>>;
  baseBytes: number;
  logBytes: number;
  /** The log held nothing but committed lines: appending to it is safe. */
  clean: boolean;
}

const storedChannels = new WeakMap<LocalFs, Map<string, StoredChannel>>();

function storedOn(fs: LocalFs): Map<string, StoredChannel> {
  let m = storedChannels.get(fs);
  if (!m) storedChannels.set(fs, m = new Map());
  return m;
}

/** The head as stored: its own fields, and which base and how many deltas it commits. */
interface StoredHead {
  store?: { gen: string; n: number };
  [key: string]: unknown;
}

/** A pending put's state, stored as its head and its parts' changes from the state around it. */
interface StoredPendingPut {
  seq: number;
  after: Record<string, unknown>;
  ops: PartsOps;
}

function headPath(layout: StateLayout, peer: string): string {
  return posix.join(layout.channels, `${peer}.json`);
}

/** Folder of the parts' bases and logs (beside `channels/`, which holds one head per peer). */
function partsDir(layout: StateLayout): string {
  return posix.join(layout.dir, "channel_parts");
}

function partPath(layout: StateLayout, peer: string, gen: string, part: ChannelPart | "log") {
  return posix.join(partsDir(layout), `${peer}.${gen}.${part}`);
}

/** A parts file's peer and generation, or null for any other name. */
function parsePartName(name: string): { peer: string; gen: string } | null {
  const m = /^(.+)\.([0-9a-f]{16})\.(published|mirror|events|log)$/.exec(name);
  return m ? { peer: m[1]!, gen: m[2]! } : null;
}

function partOf(state: ChannelState, part: ChannelPart): Record<string, unknown> {
  return part === "events" ? state.rolling.events : state[part];
}

/** A channel state's own fields, as its head stores them (parts and pending put apart). */
function headFields(state: ChannelState): Record<string, unknown> {
  const { published: _p, mirror: _m, rolling, pending_put: _pp, ...rest } = state;
  const { events: _e, ...rollingRest } = rolling;
  return { ...rest, rolling: rollingRest };
}

/**
 * Load a peer's state (fresh when none, or when its files are corrupt: the
 * state is a rebuildable cache). With `only`, the parts not named are left
 * unloaded: for a decision that needs the small fields (a head alone is a few
 * KiB where the parts are MiBs), never for a state to save. A state written
 * by an older version (one flat document) loads whole, whatever `only` says.
 */
export async function loadChannelState(
  layout: StateLayout,
  peer: string,
  only?: readonly ChannelPart[],
): Promise<ChannelState> {
  try {
    return await readChannel(layout, peer, only) ?? emptyChannelState(peer);
  } catch (err) {
    if (err instanceof LogGap || err instanceof SyntaxError) return emptyChannelState(peer);
    throw err;
  }
}

async function readChannel(
  layout: StateLayout,
  peer: string,
  only: readonly ChannelPart[] | undefined,
): Promise<ChannelState | undefined> {
  const { fs } = layout;
  const path = headPath(layout, peer);
  const read = await readJsonText<StoredHead>(fs, path);
  if (read === undefined) return undefined;
  // A head replaced or rolled back under this process: what it knew of it is stale.
  if (!read.unchanged) storedOn(fs).delete(path);
  const head = read.value;
  if (!head.store) return { ...emptyChannelState(peer), ...head } as ChannelState; // older, flat
  const { store, pending_put, ...fields } = head;
  const base = emptyChannelState(peer);
  const state = {
    ...base,
    ...fields,
    rolling: { ...base.rolling, ...(fields.rolling as object) },
    published: UNLOADED,
    mirror: UNLOADED,
    pending_put: null,
  } as ChannelState;
  state.rolling.events = UNLOADED;
  // The after-state of a pending put is stored against the parts: they all come.
  const wanted = pending_put ? CHANNEL_PARTS : only ?? CHANNEL_PARTS;
  if (wanted.length === 0) return state;
  // The parts this process saved (or read for a save) under this very head:
  // the same as base + log give, without reading the log again (it grows to
  // 64 KiB between compactions, and a round loads a peer's state 3-4 times).
  const known = storedOn(fs).get(path);
  const cached = known?.headText === read.text ? known.parts : undefined;
  const fromDisk = wanted.some((part) => !cached?.[part]);
  const log = fromDisk && store.n > 0
    ? readLog(await readLogText(layout, peer, store.gen), store.n).ops
    : [];
  for (const part of wanted) {
    let record: Record<string, unknown>;
    if (!fromDisk) record = recordOf(cached![part]!);
    else {
      record = JSON.parse(
        await fs.readTextFile(partPath(layout, peer, store.gen, part)),
      ) as Record<string, unknown>;
      for (const ops of log) if (ops[part]) applyRecordOps(record, ops[part]);
    }
    if (part === "events") state.rolling.events = record as RollingState["events"];
    else state[part] = record as never;
  }
  if (pending_put) {
    const p = pending_put as StoredPendingPut;
    const after = {
      ...base,
      ...p.after,
      rolling: {
        ...base.rolling,
        ...(p.after.rolling as object),
        events: { ...state.rolling.events },
      },
      published: { ...state.published },
      mirror: { ...state.mirror },
      pending_put: null,
    } as ChannelState;
    for (const part of CHANNEL_PARTS) {
      if (p.ops[part]) applyRecordOps(partOf(after, part), p.ops[part]);
    }
    state.pending_put = { seq: p.seq, after };
  }
  return state;
}

async function readLogText(layout: StateLayout, peer: string, gen: string): Promise<string> {
  try {
    return await layout.fs.readTextFile(partPath(layout, peer, gen, "log"));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new LogGap("the log is missing");
    throw err;
  }
}

/**
 * What this process knows of the peer's stored state, when it is still what
 * is on disk (the head not replaced or rolled back since): else undefined, and
 * the next save starts a new generation.
 */
async function storedChannel(
  layout: StateLayout,
  peer: string,
): Promise<StoredChannel | undefined> {
  const path = headPath(layout, peer);
  const stored = storedOn(layout.fs).get(path);
  const known = knownOn(layout.fs).get(path);
  if (stored && known && known.text === stored.headText) {
    if (sameFile(known, await identity(layout.fs, path))) return stored;
  }
  // Not known yet in this process (or changed under it): learnt from the head on
  // disk, so a process's first save is a delta too, not the whole state again.
  storedOn(layout.fs).delete(path);
  const head = await readJson<StoredHead>(layout.fs, path);
  const text = knownOn(layout.fs).get(path)?.text;
  if (!head?.store || text === undefined) return undefined; // none, corrupt, or an older flat file
  const fresh: StoredChannel = {
    headText: text,
    gen: head.store.gen,
    n: head.store.n,
    parts: {},
    baseBytes: 0,
    logBytes: 0,
    clean: true,
  };
  storedOn(layout.fs).set(path, fresh);
  return fresh;
}

/** The stored parts of save `stored.n`, read from disk once per process and peer. */
async function storedParts(
  layout: StateLayout,
  peer: string,
  stored: StoredChannel,
): Promise<Record<ChannelPart, StoredPart> | undefined> {
  if (CHANNEL_PARTS.every((p) => stored.parts[p])) {
    return stored.parts as Record<ChannelPart, StoredPart>;
  }
  let log: PartsOps[] = [];
  if (stored.n > 0) {
    const text = await readLogText(layout, peer, stored.gen);
    const read = readLog(text, stored.n);
    log = read.ops;
    stored.clean = read.clean;
    stored.logBytes = new TextEncoder().encode(text).byteLength;
  }
  if (!stored.clean) return undefined;
  stored.baseBytes = 0;
  for (const part of CHANNEL_PARTS) {
    if (stored.parts[part]) continue;
    const text = await layout.fs.readTextFile(partPath(layout, peer, stored.gen, part));
    stored.baseBytes += text.length;
    const map = storedPart(JSON.parse(text));
    for (const ops of log) if (ops[part]) applyPartOps(map, ops[part]);
    stored.parts[part] = map;
  }
  return stored.parts as Record<ChannelPart, StoredPart>;
}

/** A log this size, against the bases, is folded into new bases (a new generation). */
const LOG_FLOOR_BYTES = 64 * 1024;
const LOG_FRACTION = 4;

/**
 * Save a peer's state. A save writes what changed in the parts as one line
 * appended to the delta log (fsync'd), then the head, which commits it
 * (temp + fsync + rename): a crash at any instant leaves the old state or the
 * new one. Once the log outgrows a quarter of the bases (or this process
 * does not know the files on disk) the state is written whole under a new
 * generation instead, and the old generation's files are removed.
 */
export async function saveChannelState(layout: StateLayout, state: ChannelState): Promise<void> {
  if (!isComplete(state)) {
    throw new Error(`internal: a partly loaded state of ${state.peer} cannot be saved`);
  }
  const path = headPath(layout, state.peer);
  const stored = await storedChannel(layout, state.peer);
  const parts = stored && await storedParts(layout, state.peer, stored).catch((err) => {
    if (
      err instanceof LogGap || err instanceof SyntaxError || err instanceof Deno.errors.NotFound
    ) {
      return undefined;
    }
    throw err;
  });
  if (!stored || !parts) return await compactChannel(layout, state);
  const records = {
    published: state.published,
    mirror: state.mirror,
    events: state.rolling.events,
  };
  const limit = Math.max(LOG_FLOOR_BYTES, stored.baseBytes / LOG_FRACTION);
  // A delta surely too long for the log is not computed first (a first sync's 10,000 files).
  let added = 0;
  for (const p of CHANNEL_PARTS) added += addedKeyBytes(parts[p], records[p]);
  if (added > 0 && stored.logBytes + added > limit) return await compactChannel(layout, state);
  const ops = diffParts(parts, records);
  let n = stored.n;
  let line: Uint8Array | undefined;
  if (ops) {
    line = new TextEncoder().encode(logLine(n + 1, ops));
    if (stored.logBytes + line.byteLength > limit) return await compactChannel(layout, state);
    n++;
  }
  // From here the cached parts are those of the state being saved; a failure forgets them.
  storedOn(layout.fs).delete(path);
  if (ops) { for (const p of CHANNEL_PARTS) if (ops[p]) applyPartOps(parts[p], ops[p]); }
  const pending = state.pending_put && encodePending(state.pending_put, parts);
  if (line) {
    const log = partPath(layout, state.peer, stored.gen, "log");
    await appendLine(layout.fs, log, line, stored.logBytes === 0);
  }
  const headText = JSON.stringify({
    ...headFields(state),
    pending_put: pending,
    store: { gen: stored.gen, n },
  });
  await writeText(layout.fs, path, headText);
  storedOn(layout.fs).set(path, {
    ...stored,
    headText,
    n,
    parts,
    logBytes: stored.logBytes + (line?.byteLength ?? 0),
  });
}

/** A pending put's after-state, stored as its head and its parts' changes from `parts`. */
function encodePending(
  pending: PendingPut,
  parts: Record<ChannelPart, StoredPart>,
): StoredPendingPut {
  const after = pending.after;
  const ops = diffParts(parts, {
    published: after.published,
    mirror: after.mirror,
    events: after.rolling.events,
  }) ?? {};
  // A put pending inside a put's after-state is never made: it would not be restored.
  return { seq: pending.seq, after: { ...headFields(after), pending_put: null }, ops };
}

async function appendLine(
  fs: LocalFs,
  path: string,
  line: Uint8Array,
  creates: boolean,
): Promise<void> {
  const file = await fs.open(path, { append: true, create: true, mode: 0o600 });
  try {
    let written = 0;
    while (written < line.length) written += await file.write(line.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
  // A new log's name must survive a power cut as its head will.
  if (creates) await syncDir(posix.dirname(path), fs);
}

/** Write the state whole under a new generation, then remove the files of the others. */
async function compactChannel(layout: StateLayout, state: ChannelState): Promise<void> {
  const { fs } = layout;
  const path = headPath(layout, state.peer);
  storedOn(fs).delete(path);
  const gen = randomGen();
  await fs.mkdir(partsDir(layout), { recursive: true, mode: 0o700 });
  const parts: Partial<Record<ChannelPart, StoredPart>> = {};
  let baseBytes = 0;
  for (const part of CHANNEL_PARTS) {
    const { part: stored, text } = storedPartAndText(partOf(state, part));
    baseBytes += text.length;
    await writeFileAtomic(partPath(layout, state.peer, gen, part), text, { mode: 0o600, fs });
    parts[part] = stored;
  }
  const pending = state.pending_put &&
    encodePending(state.pending_put, parts as Record<ChannelPart, StoredPart>);
  const headText = JSON.stringify({
    ...headFields(state),
    pending_put: pending,
    store: { gen, n: 0 },
  });
  await writeText(fs, path, headText);
  storedOn(fs).set(path, { headText, gen, n: 0, parts, baseBytes, logBytes: 0, clean: true });
  await removeOtherGenerations(layout, state.peer, gen);
}

/** Remove a peer's parts files of generations other than `keep` (a crash may leave them). */
async function removeOtherGenerations(layout: StateLayout, peer: string, keep: string | null) {
  let entries: FsEntry[];
  try {
    entries = await Array.fromAsync(layout.fs.readDir(partsDir(layout)));
  } catch {
    return;
  }
  for (const e of entries) {
    const name = parsePartName(e.name);
    if (!e.isFile || name?.peer !== peer || name.gen === keep) continue;
    await layout.fs.remove(posix.join(partsDir(layout), e.name)).catch(() => {});
  }
}

function randomGen(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The own datasite's index is stored as the peers' states are (docs/sync.md):
 * `index.json` names a generation, `index_parts/<gen>.base` holds the index
 * as it was then and `index_parts/<gen>.log` one line per save since, so a
 * round that changed k files writes O(k) bytes, where it rewrote the whole
 * index (1.6 MB at 10,000 files).
 */
interface StoredIndex {
  headText: string;
  gen: string;
  n: number;
  files: StoredPart;
  baseBytes: number;
  logBytes: number;
}

const storedIndexes = new WeakMap<LocalFs, StoredIndex>();

function indexPartsDir(layout: StateLayout): string {
  return posix.join(layout.dir, "index_parts");
}

function indexPart(layout: StateLayout, gen: string, kind: "base" | "log"): string {
  return posix.join(indexPartsDir(layout), `${gen}.${kind}`);
}

/** The head of a stored index: `{store: {gen, n}}` and nothing else (an older index is path → info). */
function indexStore(head: unknown): { gen: string; n: number } | undefined {
  if (typeof head !== "object" || head === null) return undefined;
  const store = (head as { store?: { gen?: unknown; n?: unknown } }).store;
  if (Object.keys(head).length !== 1 || typeof store?.gen !== "string") return undefined;
  return typeof store.n === "number" ? { gen: store.gen, n: store.n } : undefined;
}

function corrupt(err: unknown): boolean {
  return err instanceof LogGap || err instanceof SyntaxError ||
    err instanceof Deno.errors.NotFound;
}

/** Load the own datasite's index (empty when none or corrupt: it is rebuilt). */
export async function loadIndex(layout: StateLayout): Promise<Map<string, FileInfo>> {
  const read = await readJsonText<Record<string, FileInfo>>(layout.fs, layout.index);
  const stored = read?.value;
  const store = indexStore(stored);
  if (!store) return new Map(Object.entries(stored ?? {})); // none, or an older flat index
  // The index this process saved (or read for a save) under this very head.
  // A head replaced or rolled back under this process: what it knew is stale.
  if (!read!.unchanged) storedIndexes.delete(layout.fs);
  const cached = storedIndexes.get(layout.fs);
  if (cached && cached.headText === read!.text) {
    return new Map(Object.entries(recordOf(cached.files) as Record<string, FileInfo>));
  }
  try {
    const files = JSON.parse(await layout.fs.readTextFile(indexPart(layout, store.gen, "base")));
    if (store.n > 0) {
      const log = await layout.fs.readTextFile(indexPart(layout, store.gen, "log"));
      for (const ops of readLog(log, store.n).ops) if (ops.files) applyRecordOps(files, ops.files);
    }
    return new Map(Object.entries(files as Record<string, FileInfo>));
  } catch (err) {
    if (corrupt(err)) return new Map();
    throw err;
  }
}

/** What this process knows of the stored index, while the head on disk is still it. */
async function storedIndex(layout: StateLayout): Promise<StoredIndex | undefined> {
  const { fs } = layout;
  const cached = storedIndexes.get(fs);
  const known = knownOn(fs).get(layout.index);
  if (cached && known?.text === cached.headText) {
    if (sameFile(known, await identity(fs, layout.index))) return cached;
  }
  storedIndexes.delete(fs);
  const store = indexStore(await readJson(fs, layout.index));
  const text = knownOn(fs).get(layout.index)?.text;
  if (!store || text === undefined) return undefined;
  try {
    const logText = store.n > 0 ? await fs.readTextFile(indexPart(layout, store.gen, "log")) : "";
    const log = readLog(logText, store.n);
    if (!log.clean) return undefined;
    const baseText = await fs.readTextFile(indexPart(layout, store.gen, "base"));
    const files = storedPart(JSON.parse(baseText));
    for (const ops of log.ops) if (ops.files) applyPartOps(files, ops.files);
    const fresh = {
      headText: text,
      ...store,
      files,
      baseBytes: baseText.length,
      logBytes: logText.length,
    };
    storedIndexes.set(fs, fresh);
    return fresh;
  } catch (err) {
    if (corrupt(err)) return undefined;
    throw err;
  }
}

/**
 * Save the own datasite's index: what changed as a line appended to its log
 * (fsync'd), committed by the head; whole under a new generation when the log
 * outgrows a quarter of the base, or the files on disk are not known.
 */
export async function saveIndex(layout: StateLayout, index: Map<string, FileInfo>): Promise<void> {
  const { fs } = layout;
  const record = Object.fromEntries(index);
  const stored = await storedIndex(layout);
  if (!stored) return await compactIndex(layout, record);
  const limit = Math.max(LOG_FLOOR_BYTES, stored.baseBytes / LOG_FRACTION);
  const added = addedKeyBytes(stored.files, record);
  if (added > 0 && stored.logBytes + added > limit) {
    storedIndexes.delete(fs);
    return await compactIndex(layout, record);
  }
  const ops = diffPart(stored.files, record);
  if (!ops) return;
  const line = new TextEncoder().encode(logLine(stored.n + 1, { files: ops }));
  storedIndexes.delete(fs);
  if (stored.logBytes + line.byteLength > limit) return await compactIndex(layout, record);
  await appendLine(fs, indexPart(layout, stored.gen, "log"), line, stored.logBytes === 0);
  const headText = JSON.stringify({ store: { gen: stored.gen, n: stored.n + 1 } });
  await writeText(fs, layout.index, headText);
  applyPartOps(stored.files, ops);
  storedIndexes.set(fs, {
    ...stored,
    headText,
    n: stored.n + 1,
    logBytes: stored.logBytes + line.byteLength,
  });
}

/** Write the index whole under a new generation, then remove the others' files. */
async function compactIndex(layout: StateLayout, record: Record<string, FileInfo>) {
  const { fs } = layout;
  storedIndexes.delete(fs);
  const gen = randomGen();
  const { part: files, text } = storedPartAndText(record);
  await fs.mkdir(indexPartsDir(layout), { recursive: true, mode: 0o700 });
  await writeFileAtomic(indexPart(layout, gen, "base"), text, { mode: 0o600, fs });
  const headText = JSON.stringify({ store: { gen, n: 0 } });
  await writeText(fs, layout.index, headText);
  storedIndexes.set(fs, {
    headText,
    gen,
    n: 0,
    files,
    baseBytes: text.length,
    logBytes: 0,
  });
  for (const e of await Array.fromAsync(fs.readDir(indexPartsDir(layout)))) {
    const m = /^([0-9a-f]{16})\.(base|log)$/.exec(e.name);
    if (e.isFile && m && m[1] !== gen) {
      await fs.remove(posix.join(indexPartsDir(layout), e.name)).catch(() => {});
    }
  }
}

/** Read a small JSON state value. */
export function readState<T>(path: string, fs: LocalFs = denoFs): Promise<T | undefined> {
  return readJson<T>(fs, path);
}

/** Write a small JSON state value. */
export function writeState(path: string, value: unknown, fs: LocalFs = denoFs): Promise<void> {
  return writeJson(fs, path, value);
}

/**
 * Record that a round ended at `now` (`syft status` shows it): written once,
 * then only its mtime moves, so an idle round writes no byte for it. A reader
 * takes the later of `at` and the mtime ({@linkcode lastSyncAt}).
 */
export async function markLastSync(layout: StateLayout, now: number): Promise<void> {
  try {
    // Seconds, as utime takes them; a ms clock keeps its ms.
    layout.fs.utimeSync(layout.lastSync, now / 1000, now / 1000);
    return;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  await writeJson(layout.fs, layout.lastSync, { at: now });
}

/** When the last round ended (ms), from a `last_sync.json` and its mtime; null when unknown. */
export function lastSyncAt(record: unknown, mtime: Date | null): number | null {
  const at = typeof record === "object" && record !== null && "at" in record &&
      typeof record.at === "number"
    ? record.at
    : null;
  const moved = mtime?.getTime() ?? null;
  if (at === null) return moved;
  return moved === null ? at : Math.max(at, moved);
}

/** Every peer that has a channel state file. */
export async function channelPeers(layout: StateLayout): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of layout.fs.readDir(layout.channels)) {
      if (e.isFile && e.name.endsWith(".json") && !e.name.startsWith(".")) {
        out.push(e.name.slice(0, -".json".length));
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort();
}
