/**
 * The writing side of our channel to a peer (docs/protocol.md §4, §6): publish the
 * difference between what the peer may read now and what it has, plus our
 * proposals, control records and acks, in as few batches as the limits allow.
 * Blobs go first; every content is re-hashed as it is read, so a file that
 * changed since the scan is never sent under a stale hash.
 * @module
 */
import { posix } from "node:path";
import { blobId } from "../crypto/agree.ts";
import { packBody } from "../events/body.ts";
import { serializeJson } from "../events/parse.ts";
import {
  BATCH_LIMITS,
  type BatchJson,
  batchName,
  type Control,
  type FileChangeEvent,
  parseBatchName,
} from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import { type PermissionEngine, projectReadable } from "../permissions/mod.ts";
import {
  addToRolling,
  checkpointDue,
  DEFAULT_THRESHOLDS,
  incrementalEvents,
} from "../checkpoints/rolling.ts";
import type { ChannelRef } from "../transport/contract.ts";
import { ownDatasite, type PeerKeys, type SyncContext } from "./context.ts";
import type { OutgoingEvent } from "./propose.ts";
import { quarantineObject } from "./quarantine.ts";
import { type ChannelState, type FileInfo, saveChannelState } from "./state.ts";
import {
  collectBytes,
  isOwnObject,
  readVerified,
  sealFor,
  squattedError,
  uploadBlob,
} from "./outgoing.ts";
import { fullCheckpointEvents, writeCheckpoint } from "./checkpoint_out.ts";
import { isCarriable } from "./carriable.ts";
import { changeEvent, deletionEvent } from "../events/make.ts";
import { collectGarbage, finishGc } from "./gc.ts";

/** How far our acks of a peer's batches may lag before an acks-only batch is written. */
export const ACK_LAG_BATCHES = 16;

/** What publishing to one peer did. */
export interface PublishResult {
  state: ChannelState;
  batches: number;
  events: number;
  blobs: number;
  /** The first few paths sent, for the round's report. */
  paths: string[];
}

/** Inputs beyond the state. */
export interface PublishInput {
  engine: PermissionEngine;
  index: ReadonlyMap<string, FileInfo>;
  /** Publish our datasite (the peer is accepted). */
  publishDatasite: boolean;
  proposals: OutgoingEvent[];
  /** Control records decided by the round (peer.accept...). */
  extraControls: Control[];
}

function isOwnBatch(ctx: SyncContext, channel: ChannelRef, seq: number): Promise<boolean> {
  return isOwnObject(ctx, channel, batchName(seq), "batch");
}

/**
 * Settle a batch whose put may have happened just before a crash, and apply
 * the seq rule: next seq is max(record, listing) + 1, and a listed seq above
 * our record means this identity writes from elsewhere too.
 *
 * Only a batch that verifies as ours counts as "written from elsewhere". A
 * forged one sitting at our next seq is quarantined (recorded, as readers do)
 * and skipped: the peer quarantines it too and asks for a resync, and our next
 * batch follows it without a gap. Without this, one file dropped into the
 * shared folder stopped the owner's publishing for good (identity test (b)).
 */
async function settleSeq(
  ctx: SyncContext,
  channel: ChannelRef,
  state: ChannelState,
): Promise<ChannelState> {
  const page = await ctx.transport.list(channel, {
    prefix: "b-",
    after: batchName(state.next_seq - 1),
    all: true,
  });
  // A folder or symlink at a batch name is no batch; only the one at our next
  // seq matters (below), and only once our seq reaches it.
  const squatted = new Map(
    page.objects.filter((o) => o.special).map((o) => [parseBatchName(o.name), o.special!]),
  );
  const listed = page.objects.filter((o) => !o.special).map((o) => parseBatchName(o.name))
    .filter((s): s is number => s !== null);
  let current = state;
  if (current.pending_put) {
    const pending = current.pending_put;
    // A forged object under the pending name is not our put having happened.
    current = listed.includes(pending.seq) && await isOwnBatch(ctx, channel, pending.seq)
      ? { ...pending.after, pending_put: null }
      : { ...current, pending_put: null };
    await saveChannelState(ctx.layout, current);
  }
  const above = listed.filter((s) => s >= current.next_seq).sort((a, b) => a - b);
  let skipped = !current.seq_known;
  if (!current.seq_known) {
    // No record of this channel (first contact, or `state/` deleted): the
    // listing is the record. The newest batch is never collected, so it is there.
    const top = above[above.length - 1];
    current = {
      ...current,
      seq_known: true,
      next_seq: top === undefined ? current.next_seq : top + 1,
    };
    above.length = 0;
  }
  for (const seq of above) {
    if (await isOwnBatch(ctx, channel, seq)) {
      throw new SyftError(
        "E_INPUT",
        `our channel to ${channel.recipient} already holds ${
          batchName(seq)
        }, beyond this installation's record`,
        { hint: "this identity is active on another machine; run syft from one place only" },
      );
    }
    const reason = `${
      batchName(seq)
    } in our channel to ${channel.recipient} is not a batch this identity wrote (its header does not verify as ours under that name); someone else can write the shared folder`;
    if (seq !== current.next_seq) {
      // Not in our way yet; it is skipped when our seq reaches it.
      ctx.warn(reason);
      continue;
    }
    await quarantineObject(
      ctx.layout,
      ctx.transport,
      channel,
      batchName(seq),
      reason,
      ctx.clock.now(),
      ctx.quarantineBytes,
    );
    ctx.warn(`quarantined ${reason}; continuing after it`);
    current = { ...current, next_seq: seq + 1 };
    skipped = true;
  }
  if (skipped) await saveChannelState(ctx.layout, current);
  // Not stepped past like a forged batch: the reader cannot quarantine what
  // it cannot read, so the channel stops here, loudly, until it is removed.
  const squatter = squatted.get(current.next_seq);
  if (squatter) throw squattedError(channel, batchName(current.next_seq), squatter);
  return current;
}

/**
 * Settle a put a crash may have left (`pending_put`) before anything else
 * touches the channel state: `syft sync` calls this at the start of a round,
 * right after the journals. `pending.after` is the state as it stood right
 * after the put, so it may be adopted only while nothing has changed since;
 * adopting it later in the round (as {@linkcode settleSeq} would, after the
 * round had applied incoming batches) rolled the cursor, mirror and
 * `proposed` back: batches were read and applied twice, and mirror files
 * applied in between were proposed back to the owner as local edits.
 */
export async function settlePendingPut(
  ctx: SyncContext,
  peer: string,
  state: ChannelState,
): Promise<ChannelState> {
  const pending = state.pending_put;
  if (!pending) return state;
  const channel: ChannelRef = { sender: ctx.me, recipient: peer };
  const page = await ctx.transport.list(channel, {
    prefix: "b-",
    after: batchName(pending.seq - 1),
    limit: 1,
  });
  const put = page.objects.some((o) => o.name === batchName(pending.seq)) &&
    await isOwnBatch(ctx, channel, pending.seq);
  const settled = put ? { ...pending.after, pending_put: null } : { ...state, pending_put: null };
  await saveChannelState(ctx.layout, settled);
  return settled;
}

function publicationEvents(
  ctx: SyncContext,
  state: ChannelState,
  input: PublishInput,
): { events: OutgoingEvent[]; published: Record<string, string>; deletions: number } {
  const now = ctx.clock.now();
  const out: OutgoingEvent[] = [];
  // A path that cannot travel never reached the reader (it refused the whole
  // batch): it leaves our record without a deletion, which it would refuse too.
  const published = Object.fromEntries(
    Object.entries(state.published).filter(([p]) => isCarriable(p)),
  );
  let deletions = 0;
  const projection = carriableProjection(ctx, state, input);
  const forced = new Set(state.republish);
  for (const path of [...projection].sort()) {
    const info = input.index.get(path)!;
    if (published[path] === info.hash && !forced.has(path)) continue;
    out.push({
      event: changeEvent(ctx.me, path, info, published[path] ?? null, now),
      source: posix.join(ownDatasite(ctx), path),
    });
    published[path] = info.hash;
  }
  const lost = Object.keys(published).filter((p) => !projection.has(p));
  // The mass-delete guard counts only files we had published and no longer
  // publish, outside what the peer may write itself: a deletion the peer
  // proposed and we applied is its own doing, not ours.
  for (const path of lost) {
    if (!input.engine.allows(ctx.me, path, state.peer, "write")) deletions++;
  }
  // A rejected proposal for a path the peer cannot read: its mirror copy must
  // go. Never counted: a peer that proposes many such files must not make our
  // every round look like a mass delete (and stop it).
  for (const p of forced) {
    if (!projection.has(p) && !(p in published) && isCarriable(p)) lost.push(p);
  }
  for (const path of lost.sort()) {
    out.push({ event: deletionEvent(ctx.me, path, published[path] ?? null, now), source: null });
    delete published[path];
  }
  // Deletions first: a file replaced by a folder of the same name (or back)
  // must be gone before anything is written where it was.
  const ordered = [...out.filter((e) => e.event.deleted), ...out.filter((e) => !e.event.deleted)];
  return { events: ordered, published, deletions };
}

/** What the peer may read of our datasite, without the paths that cannot travel. */
function carriableProjection(
  ctx: SyncContext,
  state: ChannelState,
  input: PublishInput,
): Set<string> {
  const projection = projectReadable(input.engine, ctx.me, state.peer, input.index.keys());
  return new Set([...projection].filter((p) => isCarriable(p)));
}

/**
 * Write the checkpoint that is due, if any, at our last batch's seq and save
 * the state. `answerResync`: a full one the peer asked for (only after this
 * round's batches, so its seq is past the reader's position).
 */
async function checkpointIfDue(
  ctx: SyncContext,
  keys: PeerKeys,
  state: ChannelState,
  index: ReadonlyMap<string, FileInfo>,
  answerResync: boolean,
  known: ReadonlyMap<string, Uint8Array> = new Map(),
): Promise<ChannelState> {
  const last = state.next_seq - 1;
  const kind = answerResync && state.cf_due
    ? "cf"
    : checkpointDue(state.rolling, ctx.thresholds ?? DEFAULT_THRESHOLDS);
  if (kind === null || last < 1) return state;
  if (state.chain.some((e) => e.kind === kind && e.seq === last)) return state;
  let events: FileChangeEvent[];
  let current = state;
  if (kind === "ci") events = incrementalEvents(state.rolling);
  else {
    const full = fullCheckpointEvents(ctx.me, state.published, index, ctx.clock.now());
    events = full.events;
    current = { ...state, republish: [...new Set([...state.republish, ...full.stale])] };
  }
  const w = await writeCheckpoint(ctx, keys, current, kind, last, events, known);
  await saveChannelState(ctx.layout, w.state);
  return w.state;
}

/** A newly accepted peer's projection as `cf-0000000000000000`, before `b-1` (docs/protocol.md §5). */
async function firstProjection(
  ctx: SyncContext,
  keys: PeerKeys,
  state: ChannelState,
  input: PublishInput,
): Promise<ChannelState> {
  const now = ctx.clock.now();
  const projection = carriableProjection(ctx, state, input);
  const events = [...projection].sort().map((p) =>
    changeEvent(ctx.me, p, input.index.get(p)!, null, now)
  );
  const w = await writeCheckpoint(ctx, keys, state, "cf", 0, events);
  const next: ChannelState = {
    ...w.state,
    published: Object.fromEntries(w.events.map((e) => [e.path, e.new_hash!])),
    published_once: true,
  };
  await saveChannelState(ctx.layout, next);
  return next;
}

/** Split into batches within the limits (never one object per event). */
function groupEvents(outgoing: OutgoingEvent[]): OutgoingEvent[][] {
  const groups: OutgoingEvent[][] = [[]];
  let inlineBytes = 0;
  for (const e of outgoing) {
    const g = groups[groups.length - 1]!;
    const add = e.event.content === "inline" ? e.event.size : 0;
    if (
      g.length >= BATCH_LIMITS.events ||
      (inlineBytes + add > BATCH_LIMITS.inflatedBytes && g.length)
    ) {
      groups.push([e]);
      inlineBytes = add;
    } else {
      g.push(e);
      inlineBytes += add;
    }
  }
  return groups;
}

/** Publish to one peer. Returns the new state (already saved). */
export async function publishTo(
  ctx: SyncContext,
  keys: PeerKeys,
  initial: ChannelState,
  input: PublishInput,
): Promise<PublishResult> {
  const channel: ChannelRef = { sender: ctx.me, recipient: keys.peer };
  let state = await finishGc(ctx, channel, initial);
  // The listing that settles our seq is needed to settle a put a crash may
  // have left, or when this state has no record of the channel. Otherwise a
  // put that finds its name taken settles it (below): an idle round costs one
  // transport call (changes), and a round with news one put per object.
  if (state.pending_put !== null || !state.seq_known) state = await settleSeq(ctx, channel, state);
  const result: PublishResult = { state, batches: 0, events: 0, blobs: 0, paths: [] };

  if (input.publishDatasite && !state.published_once && state.next_seq === 1) {
    state = await firstProjection(ctx, keys, state, input);
  }
  // Due since before a crash that followed its put: written under the same name.
  state = await checkpointIfDue(ctx, keys, state, input.index, false);

  let outgoing: OutgoingEvent[] = [];
  let published = state.published;
  if (input.publishDatasite) {
    const pub = publicationEvents(ctx, state, input);
    const before = Object.keys(state.published).length;
    if (!state.published_once) {
      // A fresh identity's first round never deletes.
      pub.events = pub.events.filter((e) => !e.event.deleted);
    } else if (pub.deletions > 10 && pub.deletions * 2 > before && !ctx.allowMassDelete) {
      throw new SyftError(
        "E_INPUT",
        `this round would delete ${pub.deletions} of ${before} files from ${keys.peer}'s mirror`,
        { hint: "if that is intended, run `syft sync --allow-mass-delete`" },
      );
    }
    outgoing = pub.events;
    published = pub.published;
  }
  // Proposals are checked where they are collected; this keeps any other
  // path the reader would refuse (and with it the whole batch) out.
  outgoing = outgoing.concat(input.proposals.filter((p) => isCarriable(p.event.path)));
  const controls = [...input.extraControls, ...state.controls];
  // Acks ride on every batch we write anyway; one written only to carry acks
  // waits until they lag by ACK_LAG_BATCHES, so a peer's every batch does not
  // cost us a put (the owner's collection just runs a little later).
  const acksAdvanced = state.ack_needed && state.cursor - state.acks_sent >= ACK_LAG_BATCHES;
  // A resync is answered with a cf at a seq of its own, past the reader's position.
  if (outgoing.length === 0 && controls.length === 0 && !acksAdvanced && !state.cf_due) {
    if (input.publishDatasite && !state.published_once) {
      state = { ...state, published_once: true, published, republish: [] };
      await saveChannelState(ctx.layout, state);
    }
    state = (await collectGarbage(ctx, channel, state, false)).state;
    result.state = state;
    return result;
  }

  // A proposal becomes pending (`proposed`) only with the state saved after
  // the put of the batch carrying it. The intent saved before the put must not
  // record it: a crash before the put then left it "pending" for good, and
  // collectProposals never sent it (a lost proposal).
  const unsent = new Set(input.proposals.map((p) => p.event.id));
  const allProposed = state.proposed;
  const proposedSoFar = () =>
    Object.fromEntries(Object.entries(allProposed).filter(([, p]) => !unsent.has(p.id)));

  const groups = groupEvents(outgoing);
  let takenRetries = 0;
  // Contents our files no longer have (replaced or deleted), by the batch that said so.
  const gone = new Map<string, number>();
  const reused = new Set<string>();
  // Contents read for this round's batches, for a checkpoint written right after them.
  const known = new Map<string, Uint8Array>();
  let knownBytes = 0;
  for (let i = 0; i < groups.length;) {
    const group = groups[i]!;
    const seq = state.next_seq;
    const last = i === groups.length - 1;
    const blobs = new Set(state.blobs);
    const refs = new Set<string>();
    const events: FileChangeEvent[] = [];
    const inline = new Map<string, string>();
    for (const { event, source } of group) {
      if (event.content === "blob" && source) {
        const id = await blobId(keys.blobKeyOut, event.new_hash!);
        if (!blobs.has(id)) {
          await uploadBlob(ctx, keys, channel, seq, source, event.new_hash!, event.size);
          blobs.add(id);
          result.blobs++;
        }
        refs.add(id);
      } else if (event.content === "inline" && source) {
        inline.set(event.new_hash!, source);
      }
      events.push(event);
    }
    const contents: { hash: string; bytes: Uint8Array }[] = [];
    const stale = new Set<string>();
    for (const [hash, source] of inline) {
      const bytes = await readVerified(ctx.fs, source, hash);
      if (bytes) {
        contents.push({ hash, bytes });
        if (knownBytes + bytes.byteLength <= BATCH_LIMITS.inflatedBytes) {
          known.set(hash, bytes);
          knownBytes += bytes.byteLength;
        }
      } else stale.add(hash);
    }
    // A file that changed since the scan is left for the next round.
    const sendable = events.filter((e) => !(e.content === "inline" && stale.has(e.new_hash!)));
    const batch: BatchJson = {
      seq,
      sender: ctx.me,
      created_at: ctx.clock.now(),
      events: sendable,
      acks: { [keys.peer]: state.cursor },
      control: i === 0 ? controls : [],
    };
    const body = await collectBytes(
      packBody({ name: "batch.json", bytes: serializeJson(batch) }, contents),
    );
    const name = batchName(seq);
    const proposedBefore = proposedSoFar();
    const unsentBefore = new Set(unsent);
    for (const e of sendable) unsent.delete(e.id);
    const after: ChannelState = {
      ...state,
      proposed: proposedSoFar(),
      next_seq: seq + 1,
      blobs: [...blobs],
      acks_sent: state.cursor,
      ack_needed: false,
      controls: i === 0 ? [] : state.controls,
      published: last
        ? withoutStale(ctx.me, published, state.published, outgoing, stale)
        : state.published,
      republish: last ? [] : state.republish,
      published_once: last ? (input.publishDatasite || state.published_once) : state.published_once,
      pending_put: null,
      rolling: addToRolling(state.rolling, ctx.me, sendable),
      chain: [...state.chain, { kind: "batch", seq, events: sendable.length, blobs: [...refs] }],
    };
    // Intent first: a crash between put and save is settled by the next round's listing.
    await saveChannelState(ctx.layout, {
      ...state,
      proposed: proposedBefore,
      pending_put: { seq, after },
    });
    try {
      await ctx.transport.put(
        channel,
        name,
        sealFor(ctx, keys, { kind: "batch", name, seq, size: body.length }, body),
      );
    } catch (err) {
      if (!(err instanceof SyftError) || err.code !== "E_EXISTS" || takenRetries++ > 2) throw err;
      // The name is taken: not our put. Settle the seq from the listing (which
      // reports another installation, or steps past a forged object) and retry.
      for (const id of unsentBefore) unsent.add(id);
      const intentGone = { ...state, proposed: proposedBefore, pending_put: null };
      await saveChannelState(ctx.layout, intentGone);
      state = await settleSeq(ctx, channel, intentGone);
      continue;
    }
    state = after;
    await saveChannelState(ctx.layout, state);
    result.batches++;
    result.events += sendable.length;
    for (const e of sendable) if (result.paths.length < 8) result.paths.push(e.path);
    for (const e of sendable) {
      if (e.datasite === ctx.me && e.old_hash !== null && e.old_hash !== e.new_hash) {
        gone.set(e.old_hash, seq);
      }
    }
    for (const id of refs) reused.add(id);
    i++;
  }
  state = await retireBlobs(ctx, keys, state, gone, reused);
  state = await checkpointIfDue(ctx, keys, state, input.index, true, known);
  state = (await collectGarbage(ctx, channel, state, false)).state;
  result.state = state;
  return result;
}

/**
 * Record the blobs whose content no published file has any more (`gone`:
 * content hash → the batch that replaced or deleted it), so the collection
 * deletes them once the peer acked that batch; a blob referenced again
 * (`reused`) is live again. Saves the state when it changes.
 */
async function retireBlobs(
  ctx: SyncContext,
  keys: PeerKeys,
  state: ChannelState,
  gone: ReadonlyMap<string, number>,
  reused: ReadonlySet<string>,
): Promise<ChannelState> {
  const retired = { ...(state.retired ?? {}) };
  let changed = false;
  for (const id of reused) {
    if (id in retired) {
      delete retired[id];
      changed = true;
    }
  }
  if (gone.size > 0) {
    const live = new Set(Object.values(state.published));
    const uploaded = new Set(state.blobs);
    for (const [hash, seq] of gone) {
      if (live.has(hash)) continue; // another path still has this content
      const id = await blobId(keys.blobKeyOut, hash);
      if (!uploaded.has(id) || reused.has(id)) continue;
      retired[id] = seq;
      changed = true;
    }
  }
  if (!changed) return state;
  const next = { ...state, retired };
  await saveChannelState(ctx.layout, next);
  return next;
}

function withoutStale(
  me: string,
  next: Record<string, string>,
  prev: Record<string, string>,
  outgoing: OutgoingEvent[],
  stale: Set<string>,
): Record<string, string> {
  if (stale.size === 0) return next;
  const out = { ...next };
  for (const { event } of outgoing) {
    if (event.datasite !== me || !event.new_hash || !stale.has(event.new_hash)) continue;
    if (prev[event.path] === undefined) delete out[event.path];
    else out[event.path] = prev[event.path]!;
  }
  return out;
}
