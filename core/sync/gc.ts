/**
 * Carrying out a collection of our channel (see `core/checkpoints/chain.ts` for
 * what goes). The names to delete are saved before the deletes, so a crash in
 * between is finished by the next round instead of leaking objects, and a blob
 * is forgotten before it is deleted, so a later batch never counts on it.
 * @module
 */
import { blobName } from "../events/types.ts";
import { entryName, planGc } from "../checkpoints/chain.ts";
import type { ChannelRef } from "../transport/contract.ts";
import type { SyncContext } from "./context.ts";
import { type ChannelState, saveChannelState } from "./state.ts";
import { isPoolId } from "./pool.ts";

/**
 * Below this many deletable objects a round leaves them for later: deletes come
 * in bulk every few dozen objects instead of adding calls to every round.
 */
export const GC_MIN_OBJECTS = 32;

/** Delete what a crash left undeleted. */
export async function finishGc(
  ctx: SyncContext,
  channel: ChannelRef,
  state: ChannelState,
): Promise<ChannelState> {
  if (state.gc_pending.length === 0) return state;
  for (const name of state.gc_pending) await ctx.transport.delete(channel, name);
  const next = { ...state, gc_pending: [] };
  await saveChannelState(ctx.layout, next);
  return next;
}

/** Collect when enough is deletable (or `force`: whatever is). Saves the state. */
export async function collectGarbage(
  ctx: SyncContext,
  channel: ChannelRef,
  initial: ChannelState,
  { force = false }: { force?: boolean } = {},
): Promise<{ state: ChannelState; deleted: number }> {
  const reclaimed = await reclaimRetired(ctx, channel, initial);
  const state = reclaimed.state;
  const plan = planGc(state.chain, state.acked);
  const count = plan.remove.length + plan.blobs.length;
  if (count === 0 || (!force && count < GC_MIN_OBJECTS)) {
    return { state, deleted: reclaimed.deleted };
  }
  const gone = new Set(plan.blobs);
  // A pooled id is only dropped here: the pool deletes the object once no channel names it.
  await ctx.pool?.released(plan.blobs);
  const names = [
    ...plan.remove.map(entryName),
    ...plan.blobs.filter((b) => !isPoolId(b)).map(blobName),
  ];
  const intent: ChannelState = {
    ...state,
    chain: plan.keep,
    blobs: state.blobs.filter((b) => !gone.has(b)),
    gc_pending: [...state.gc_pending, ...names],
  };
  await saveChannelState(ctx.layout, intent);
  return {
    state: await finishGc(ctx, channel, intent),
    deleted: names.length + reclaimed.deleted,
  };
}

/**
 * Delete the blobs no published file has any more, once the peer acked the
 * batch that said so: a large file deleted must not keep its bytes in shared
 * storage until a checkpoint covers every batch that mentions it. A reader
 * that restores reads the newest full checkpoint and what follows it, so a
 * blob goes only when that checkpoint is newer than its retirement (it cannot
 * hold it): until then a fresh cf is asked for (`cf_due`, written by the next
 * round). Objects older than that checkpoint may still name the blob; only a
 * reader restoring from the older one reads them, and it is answered with a
 * resync.
 */
async function reclaimRetired(
  ctx: SyncContext,
  channel: ChannelRef,
  state: ChannelState,
): Promise<{ state: ChannelState; deleted: number }> {
  const due = Object.entries(state.retired ?? {}).filter(([, seq]) => seq <= state.acked);
  if (due.length === 0) return { state, deleted: 0 };
  const newestCf = Math.max(-1, ...state.chain.filter((e) => e.kind === "cf").map((e) => e.seq));
  const ready = due.filter(([, seq]) => seq <= newestCf);
  if (ready.length === 0) {
    if (state.cf_due) return { state, deleted: 0 };
    const next = { ...state, cf_due: true };
    await saveChannelState(ctx.layout, next);
    return { state: next, deleted: 0 };
  }
  const gone = new Set(ready.map(([id]) => id));
  await ctx.pool?.released([...gone]);
  const retired = Object.fromEntries(
    Object.entries(state.retired).filter(([id]) => !gone.has(id)),
  );
  const intent: ChannelState = {
    ...state,
    retired,
    blobs: state.blobs.filter((b) => !gone.has(b)),
    chain: state.chain.map((e) =>
      e.blobs.some((b) => gone.has(b)) ? { ...e, blobs: e.blobs.filter((b) => !gone.has(b)) } : e
    ),
    gc_pending: [...state.gc_pending, ...[...gone].filter((b) => !isPoolId(b)).map(blobName)],
  };
  await saveChannelState(ctx.layout, intent);
  return { state: await finishGc(ctx, channel, intent), deleted: gone.size };
}
