/**
 * Settling our channel's next batch seq against what the channel holds: a put
 * a crash may have left, a fresh state that knows no seq, another
 * installation of this identity, and objects someone else dropped under our
 * batch names (docs/protocol.md §4).
 * @module
 */
import { batchName, parseBatchName } from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import type { ChannelRef } from "../transport/contract.ts";
import type { SyncContext } from "./context.ts";
import { quarantineRefused } from "./quarantine.ts";
import { type ChannelState, saveChannelState } from "./state.ts";
import { isOwnObject, squattedError } from "./outgoing.ts";

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
export async function settleSeq(
  ctx: SyncContext,
  channel: ChannelRef,
  state: ChannelState,
): Promise<ChannelState> {
  const listing = await listBatchesFrom(ctx, channel, state.next_seq);
  let current = await adoptListedPut(ctx, channel, state, listing.seqs);
  const above = listing.seqs.filter((s) => s >= current.next_seq).sort((a, b) => a - b);
  let skipped = true;
  if (!current.seq_known) {
    // No record of this channel (first contact, or `state/` deleted): the
    // listing is the record. The newest batch is never collected, so it is there.
    const top = above[above.length - 1];
    current = {
      ...current,
      seq_known: true,
      next_seq: top === undefined ? current.next_seq : top + 1,
    };
  } else {
    const stepped = await stepPastForeign(ctx, channel, current, above);
    skipped = stepped !== current;
    current = stepped;
  }
  if (skipped) await saveChannelState(ctx.layout, current);
  // Not stepped past like a forged batch: the reader cannot quarantine what
  // it cannot read, so the channel stops here, loudly, until it is removed.
  const squatter = listing.squatted.get(current.next_seq);
  if (squatter) throw squattedError(channel, batchName(current.next_seq), squatter);
  return current;
}

/** Our channel's batch seqs from `from` on, and the names there that are no objects. */
async function listBatchesFrom(
  ctx: SyncContext,
  channel: ChannelRef,
  from: number,
): Promise<{ seqs: number[]; squatted: Map<number | null, string> }> {
  const page = await ctx.transport.list(channel, {
    prefix: "b-",
    after: batchName(from - 1),
    all: true,
  });
  // A folder or symlink at a batch name is no batch; only the one at our next
  // seq matters, and only once our seq reaches it.
  const squatted = new Map(
    page.objects.filter((o) => o.special).map((o) => [parseBatchName(o.name), o.special!]),
  );
  const seqs = page.objects.filter((o) => !o.special).map((o) => parseBatchName(o.name))
    .filter((s): s is number => s !== null);
  return { seqs, squatted };
}

/** The state once a pending put is settled by the listing (saved when there was one). */
async function adoptListedPut(
  ctx: SyncContext,
  channel: ChannelRef,
  state: ChannelState,
  listed: readonly number[],
): Promise<ChannelState> {
  const pending = state.pending_put;
  if (!pending) return state;
  // A forged object under the pending name is not our put having happened.
  const settled = listed.includes(pending.seq) && await isOwnBatch(ctx, channel, pending.seq)
    ? { ...pending.after, pending_put: null }
    : { ...state, pending_put: null };
  await saveChannelState(ctx.layout, settled);
  return settled;
}

/**
 * Batches listed at or above our next seq (`above`, ascending): one of ours
 * is another installation (an error); a foreign one at our next seq is
 * quarantined and stepped past, one further on only warned of. Returns the
 * same state when nothing was stepped past.
 */
async function stepPastForeign(
  ctx: SyncContext,
  channel: ChannelRef,
  state: ChannelState,
  above: readonly number[],
): Promise<ChannelState> {
  let current = state;
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
    await quarantineRefused(ctx.layout, ctx.transport, {
      channel,
      name: batchName(seq),
      reason,
      now: ctx.clock.now(),
      budgetBytes: ctx.quarantineBytes,
    });
    ctx.warn(`quarantined ${reason}; continuing after it`);
    current = { ...current, next_seq: seq + 1 };
  }
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
