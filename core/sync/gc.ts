/**
 * Carrying out a collection of our channel (see `core/checkpoints/chain.ts` for
 * what goes). The names to delete are saved before the deletes, so a crash in
 * between is finished by the next round instead of leaking objects, and a blob
 * is forgotten before it is deleted, so a later batch never counts on it.
 * @module
 */
import { blobName } from "../events/types.ts";
import { entryName, planGc } from "../checkpoints/chain.ts";
import type { ChannelRef } from "../../plugins/contract.ts";
import type { SyncContext } from "./context.ts";
import { type ChannelState, saveChannelState } from "./state.ts";

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

/** Collect when enough is deletable (or `force`). Saves the state. */
export async function collectGarbage(
  ctx: SyncContext,
  channel: ChannelRef,
  state: ChannelState,
  force: boolean,
): Promise<{ state: ChannelState; deleted: number }> {
  const plan = planGc(state.chain, state.acked);
  const count = plan.remove.length + plan.blobs.length;
  if (count === 0 || (!force && count < GC_MIN_OBJECTS)) return { state, deleted: 0 };
  const gone = new Set(plan.blobs);
  const names = [...plan.remove.map(entryName), ...plan.blobs.map(blobName)];
  const intent: ChannelState = {
    ...state,
    chain: plan.keep,
    blobs: state.blobs.filter((b) => !gone.has(b)),
    gc_pending: [...state.gc_pending, ...names],
  };
  await saveChannelState(ctx.layout, intent);
  return { state: await finishGc(ctx, channel, intent), deleted: names.length };
}
