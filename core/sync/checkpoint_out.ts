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
import { openEnvelope } from "../events/envelope.ts";
import { packBody, unpackBody } from "../events/body.ts";
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
  collectBytes,
  isOwnObject,
  ownOpenKeys,
  readVerified,
  sealFor,
  squattedError,
  squatterAt,
  uploadBlob,
} from "./outgoing.ts";
import { isCarriable } from "./carriable.ts";
import { quarantineObject } from "./quarantine.ts";
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

/**
 * Write checkpoint `kind` at `seq` holding `events`, and return the state with
 * it recorded (not saved: the caller saves it with whatever else changed).
 * Paths whose content changed since it was published are left out and marked
 * for republishing.
 */
export async function writeCheckpoint(
  ctx: SyncContext,
  keys: PeerKeys,
  state: ChannelState,
  kind: "ci" | "cf",
  seq: number,
  wanted: FileChangeEvent[],
  known: ReadonlyMap<string, Uint8Array> = new Map(),
): Promise<CheckpointWritten> {
  // A path the reader refuses would make it refuse the whole checkpoint, and
  // every resync's answer after it (a state from before the round filtered it).
  const events = wanted.filter((e) => isCarriable(e.path));
  const channel: ChannelRef = { sender: ctx.me, recipient: keys.peer };
  const name = checkpointName(kind, seq);
  const blobs = new Set(state.blobs);
  const refs = new Set<string>();
  const contents: { hash: string; bytes: Uint8Array }[] = [];
  const written: FileChangeEvent[] = [];
  const stale: string[] = [];
  let inlineBytes = 0;
  const packed = new Set<string>();
  for (const ev of events) {
    if (ev.deleted || ev.new_hash === null) {
      written.push(ev);
      continue;
    }
    const source = posix.join(ownDatasite(ctx), ev.path);
    // Past the writer's inline budget, small files go as blobs too.
    const inline = ev.size <= INLINE_LIMIT &&
      (packed.has(ev.new_hash) || inlineBytes + ev.size <= BATCH_LIMITS.inflatedBytes);
    if (inline) {
      if (!packed.has(ev.new_hash)) {
        // Contents this round already read and verified need not be read again.
        const bytes = known.get(ev.new_hash) ?? await readVerified(ctx.fs, source, ev.new_hash);
        if (!bytes) {
          stale.push(ev.path);
          continue;
        }
        contents.push({ hash: ev.new_hash, bytes });
        packed.add(ev.new_hash);
        inlineBytes += ev.size;
      }
      written.push({ ...ev, content: "inline" });
      continue;
    }
    let id = await blobId(keys.blobKeyOut, ev.new_hash);
    if (!blobs.has(id)) {
      try {
        id = await uploadBlob(ctx, keys, channel, seq, source, ev.new_hash, ev.size);
      } catch (err) {
        // A transport failure or a squatted name stops the channel; a file
        // that changed is only left for the next round.
        if (err instanceof SyftError && (err.code === "E_TRANSPORT" || err.code === "E_EXISTS")) {
          throw err;
        }
        stale.push(ev.path); // changed or gone since it was published
        continue;
      }
      blobs.add(id);
    }
    refs.add(id);
    written.push({ ...ev, content: "blob" });
  }
  // `base`: the full checkpoint before this one, if any.
  const base = state.chain.filter((e) => e.kind === "cf" && e.seq <= seq).reduce<
    number | null
  >((b, e) => (b === null || e.seq > b ? e.seq : b), null);
  const json: CheckpointJson = {
    seq,
    sender: ctx.me,
    created_at: ctx.clock.now(),
    base,
    events: written,
  };
  const body = await collectBytes(
    packBody({ name: "checkpoint.json", bytes: serializeJson(json) }, contents),
  );
  let holds = written;
  try {
    await ctx.transport.put(
      channel,
      name,
      sealFor(ctx, keys, { kind, name, seq, size: body.length }, body),
    );
  } catch (err) {
    if (!(err instanceof SyftError) || err.code !== "E_EXISTS") throw err;
    const squatter = await squatterAt(ctx, channel, name);
    if (squatter) throw squattedError(channel, name, squatter);
    // Our own from before a crash (the state was saved after the put): what it
    // holds is what readers get, so it is adopted as it is.
    const existing = await readOwnCheckpoint(ctx, keys, channel, name, kind);
    if (existing) holds = existing.events;
    else {
      const reason =
        `${name} in our channel to ${keys.peer} is not a checkpoint this identity wrote`;
      await quarantineObject(
        ctx.layout,
        ctx.transport,
        channel,
        name,
        reason,
        ctx.clock.now(),
        ctx.quarantineBytes,
      );
      ctx.warn(`quarantined ${reason}; writing ours`);
      await ctx.transport.delete(channel, name);
      await ctx.transport.put(
        channel,
        name,
        sealFor(ctx, keys, { kind, name, seq, size: body.length }, body),
      );
    }
  }
  const held = new Set(holds.map((e) => e.path));
  for (const ev of events) if (!held.has(ev.path) && !stale.includes(ev.path)) stale.push(ev.path);
  const entry: ChainEntry = { kind, seq, events: holds.length, blobs: [...refs] };
  return {
    state: {
      ...state,
      blobs: [...blobs],
      chain: [...state.chain, entry],
      republish: [...new Set([...state.republish, ...stale])],
      rolling: afterCheckpoint(state.rolling, kind),
      cf_due: kind === "cf" ? false : state.cf_due,
    },
    events: holds,
  };
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
    const opened = await openEnvelope(
      await ctx.transport.get(channel, name),
      { name, sender: ctx.me, recipient: keys.peer, kind },
      ownOpenKeys(ctx, keys),
    );
    const json = await unpackBody(opened.body, {
      first: "checkpoint.json",
      maxEntries: CHECKPOINT_MAX_ENTRIES,
      onContent: async () => {},
    });
    return parseCheckpointJson(json, { sender: ctx.me, recipient: keys.peer, kind });
  } catch (err) {
    if (err instanceof SyftError && err.code === "E_BAD_MESSAGE") return null;
    throw err;
  }
}

/** Tar entries a reader accepts in a checkpoint: a full one lists every projected file. */
export const CHECKPOINT_MAX_ENTRIES = 200_001;
