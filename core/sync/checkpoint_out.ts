/**
 * Writing checkpoints to our channel (docs/protocol.md §5, §6): `ci-<seq>` from the
 * rolling state, `cf-<seq>` from everything the peer has (what we published),
 * and `cf-0000000000000000` for a newly accepted peer. A checkpoint holds the
 * content as it was published: a file that changed since is left out of it and
 * published again by the next batch, so a reader that restores and a reader
 * that followed every batch end up with the same files.
 * @module
 */
import { posix } from "node:path";
import { blobId } from "../crypto/agree.ts";
import { type BodyContent, packBody } from "../events/body.ts";
import { parseCheckpointJson, serializeJson } from "../events/parse.ts";
import {
  BATCH_LIMITS,
  type CheckpointJson,
  checkpointName,
  type FileChangeEvent,
  INLINE_LIMIT,
} from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import { changeEvent } from "../events/make.ts";
import { afterCheckpoint } from "../checkpoints/rolling.ts";
import type { ChainEntry } from "../checkpoints/chain.ts";
import type { ChannelRef } from "../transport/contract.ts";
import { ownDatasite, type PeerKeys, type SyncContext } from "./context.ts";
import {
  type BlobSource,
  collectBytes,
  isOwnObject,
  readOwnObject,
  readVerified,
  sealFor,
  squattedError,
  squatterAt,
  uploadBlob,
} from "./outgoing.ts";
import { isCarriable } from "./carriable.ts";
import { poolFor } from "./pool.ts";
import { quarantineRefused } from "./quarantine.ts";
import type { ChannelState, FileInfo } from "./state.ts";

/** The cf events of what the peer has: `published`, sized from the index where it still agrees. */
export function fullCheckpointEvents(
  me: string,
  published: Readonly<Record<string, string>>,
  index: ReadonlyMap<string, FileInfo>,
  now: number,
): { events: FileChangeEvent[]; stale: string[] } {
  const events: FileChangeEvent[] = [];
  const stale: string[] = [];
  for (const path of Object.keys(published).sort()) {
    const info = index.get(path);
    if (info && info.hash === published[path]) {
      events.push(changeEvent(me, path, info, null, now));
    } else stale.push(path);
  }
  return { events, stale };
}

/** What writing a checkpoint did. */
export interface CheckpointWritten {
  state: ChannelState;
  /** The events the checkpoint holds (those whose content could be sent). */
  events: FileChangeEvent[];
}

/** Which checkpoint to write, and what it holds. */
export interface CheckpointSpec {
  kind: "ci" | "cf";
  seq: number;
  /** The events it should hold (those whose content cannot be sent are left out). */
  events: FileChangeEvent[];
  /** Contents this round already read and verified, by hash: not read again. */
  known?: ReadonlyMap<string, Uint8Array>;
}

/**
 * Write checkpoint `spec.kind` at `spec.seq` holding `spec.events`, and return
 * the state with it recorded (not saved: the caller saves it with whatever
 * else changed). Paths whose content changed since it was published are left
 * out and marked for republishing.
 */
export async function writeCheckpoint(
  ctx: SyncContext,
  keys: PeerKeys,
  state: ChannelState,
  spec: CheckpointSpec,
): Promise<CheckpointWritten> {
  const { kind, seq } = spec;
  // A path the reader refuses would make it refuse the whole checkpoint, and
  // every resync's answer after it (a state from before the round filtered it).
  const events = spec.events.filter((e) => isCarriable(e.path));
  const channel: ChannelRef = { sender: ctx.me, recipient: keys.peer };
  const packed = await packCheckpoint(ctx, keys, state, { ...spec, events });
  const json: CheckpointJson = {
    seq,
    sender: ctx.me,
    created_at: ctx.clock.now(),
    base: baseOf(state.chain, seq),
    events: packed.written,
  };
  const body = await collectBytes(
    packBody({ name: "checkpoint.json", bytes: serializeJson(json) }, packed.contents),
  );
  const holds = await putCheckpoint(ctx, keys, channel, { kind, seq, body }) ?? packed.written;
  const stale = packed.stale;
  const held = new Set(holds.map((e) => e.path));
  for (const ev of events) if (!held.has(ev.path) && !stale.includes(ev.path)) stale.push(ev.path);
  const entry: ChainEntry = { kind, seq, events: holds.length, blobs: [...packed.refs] };
  return {
    state: {
      ...state,
      blobs: [...packed.blobs],
      chain: [...state.chain, entry],
      republish: [...new Set([...state.republish, ...stale])],
      rolling: afterCheckpoint(state.rolling, kind),
      cf_due: kind === "cf" ? false : state.cf_due,
    },
    events: holds,
  };
}

/** `base` of a checkpoint at `seq`: the full checkpoint before it, if any. */
function baseOf(chain: readonly ChainEntry[], seq: number): number | null {
  return chain.filter((e) => e.kind === "cf" && e.seq <= seq).reduce<number | null>(
    (b, e) => (b === null || e.seq > b ? e.seq : b),
    null,
  );
}

/** A checkpoint's contents, ready to pack. */
interface PackedCheckpoint {
  written: FileChangeEvent[];
  contents: BodyContent[];
  /** Blob ids in the channel after the uploads, and those this checkpoint names. */
  blobs: Set<string>;
  refs: Set<string>;
  /** Paths whose content changed since it was published: left out. */
  stale: string[];
}

/** Read each event's content inline while the budget lasts, upload the rest as blobs. */
async function packCheckpoint(
  ctx: SyncContext,
  keys: PeerKeys,
  state: ChannelState,
  spec: CheckpointSpec,
): Promise<PackedCheckpoint> {
  const out: PackedCheckpoint = {
    written: [],
    contents: [],
    blobs: new Set(state.blobs),
    refs: new Set(),
    stale: [],
  };
  const known = spec.known ?? new Map<string, Uint8Array>();
  let inlineBytes = 0;
  const packed = new Set<string>();
  for (const ev of spec.events) {
    if (ev.deleted || ev.new_hash === null) {
      out.written.push(ev);
      continue;
    }
    const source = posix.join(ownDatasite(ctx), ev.path);
    // Past the writer's inline budget, small files go as blobs too.
    const inline = ev.size <= INLINE_LIMIT &&
      (packed.has(ev.new_hash) || inlineBytes + ev.size <= BATCH_LIMITS.inflatedBytes);
    if (inline) {
      if (!packed.has(ev.new_hash)) {
        const bytes = known.get(ev.new_hash) ??
          readVerified(ctx.fs, source, ev.new_hash, ctx.contents);
        if (!bytes) {
          out.stale.push(ev.path);
          continue;
        }
        out.contents.push({ hash: ev.new_hash, bytes, verified: true });
        packed.add(ev.new_hash);
        inlineBytes += ev.size;
      }
      out.written.push(withContent(ev, "inline"));
      continue;
    }
    const blob = { seq: spec.seq, source, hash: ev.new_hash, size: ev.size };
    const pooled = await keepingFailures(() => poolFor(ctx, keys, blob, out.blobs));
    if (pooled) {
      out.blobs.add(pooled.id);
      out.refs.add(pooled.id);
      // The hash of the bytes sealed: one the scan left out is learnt by sealing.
      out.written.push({ ...withContent(ev, "pool"), new_hash: blob.hash, pool: pooled.ref });
      continue;
    }
    const id = pooled === null ? await checkpointBlob(ctx, keys, out.blobs, blob) : null;
    if (id === null) {
      out.stale.push(ev.path); // changed or gone since it was published
      continue;
    }
    out.refs.add(id);
    out.written.push(withContent(ev, "blob"));
  }
  return out;
}

/** `ev` with its content stored as `content` (a pool reference it had is dropped). */
function withContent(ev: FileChangeEvent, content: "inline" | "blob" | "pool"): FileChangeEvent {
  const { pool: _, ...rest } = ev;
  return { ...rest, content };
}

/**
 * Share a checkpoint's content through the pool: the reference, null when
 * there is no pool for this peer, or false when the file changed (left out).
 */
async function keepingFailures<T>(share: () => Promise<T | null>): Promise<T | null | false> {
  try {
    return await share();
  } catch (err) {
    // As for a checkpoint's blob: the storage failing stops the channel, a
    // file that changed is only left for the next round.
    if (err instanceof SyftError && (err.code === "E_TRANSPORT" || err.code === "E_EXISTS")) {
      throw err;
    }
    return false;
  }
}

/** The blob id of a checkpoint's content, uploaded unless there; null when the file changed. */
async function checkpointBlob(
  ctx: SyncContext,
  keys: PeerKeys,
  blobs: Set<string>,
  blob: BlobSource,
): Promise<string | null> {
  const channel: ChannelRef = { sender: ctx.me, recipient: keys.peer };
  const id = await blobId(keys.blobKeyOut, blob.hash);
  if (blobs.has(id)) return id;
  try {
    const uploaded = await uploadBlob(ctx, keys, channel, blob);
    blobs.add(uploaded);
    return uploaded;
  } catch (err) {
    // A transport failure or a squatted name stops the channel; a file
    // that changed is only left for the next round.
    if (err instanceof SyftError && (err.code === "E_TRANSPORT" || err.code === "E_EXISTS")) {
      throw err;
    }
    return null;
  }
}

/**
 * Put a checkpoint. Returns the events of our own checkpoint already under
 * its name (from before a crash: what readers get), or null when ours went in.
 */
async function putCheckpoint(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  object: { kind: "ci" | "cf"; seq: number; body: Uint8Array },
): Promise<FileChangeEvent[] | null> {
  const { kind, seq, body } = object;
  const name = checkpointName(kind, seq);
  const seal = () => sealFor(ctx, keys, { kind, name, seq, size: body.length }, body);
  try {
    await ctx.transport.put(channel, name, seal());
    return null;
  } catch (err) {
    if (!(err instanceof SyftError) || err.code !== "E_EXISTS") throw err;
  }
  const squatter = await squatterAt(ctx, channel, name);
  if (squatter) throw squattedError(channel, name, squatter);
  // Our own from before a crash (the state was saved after the put): what it
  // holds is what readers get, so it is adopted as it is.
  const existing = await readOwnCheckpoint(ctx, keys, channel, name, kind);
  if (existing) return existing.events;
  const reason = `${name} in our channel to ${keys.peer} is not a checkpoint this identity wrote`;
  await quarantineRefused(ctx.layout, ctx.transport, {
    channel,
    name,
    reason,
    now: ctx.clock.now(),
    budgetBytes: ctx.quarantineBytes,
  });
  ctx.warn(`quarantined ${reason}; writing ours`);
  await ctx.transport.delete(channel, name);
  await ctx.transport.put(channel, name, seal());
  return null;
}

/** A checkpoint of ours read back (null when the object is not ours). */
async function readOwnCheckpoint(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  name: string,
  kind: "ci" | "cf",
): Promise<CheckpointJson | null> {
  if (!await isOwnObject(ctx, channel, name, kind)) return null;
  try {
    const json = await readOwnObject(ctx, keys, name, kind);
    return parseCheckpointJson(json, { sender: ctx.me, recipient: keys.peer, kind });
  } catch (err) {
    if (err instanceof SyftError && err.code === "E_BAD_MESSAGE") return null;
    throw err;
  }
}
