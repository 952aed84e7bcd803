/**
 * A writer that lost its record (`state/` deleted) but finds its channel full
 * of its own objects rebuilds the record from them: what it published (the
 * newest full checkpoint of ours, then the incrementals and batches after it,
 * in order) and which objects the channel holds (so they are collected like
 * any others). Without it, such an owner published every file again as new:
 * a deletion made before the loss never reached its peers, a peer's
 * unanswered edit was overwritten by the "new" old version (kept aside as a
 * conflict), and the objects from before were never collected (simulation
 * seeds 9, 5 and 507). The events since our last checkpoint are the rolling
 * window again: without them the next incremental left out the batches from
 * before the loss, and a reader restoring from it never got their files
 * (seed 20068).
 * @module
 */
import { blobId } from "../crypto/agree.ts";
import { type ChainEntry } from "../checkpoints/chain.ts";
import { addToRolling, emptyRolling } from "../checkpoints/rolling.ts";
import { parseBatchJson, parseCheckpointJson } from "../events/parse.ts";
import {
  batchName,
  checkpointName,
  type FileChangeEvent,
  parseBatchName,
} from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import type { ChannelRef } from "../transport/contract.ts";
import type { PeerKeys, SyncContext } from "./context.ts";
import { readOwnObject } from "./outgoing.ts";
import type { ReaderState, WriterState } from "./state.ts";

/**
 * What the channel's own objects say our record was, and `judged`: the
 * highest ack of the peer's channel our batches carry (how far a state since
 * lost had read it).
 */
export type RebuiltRecord =
  & Pick<WriterState, "published" | "published_once" | "chain" | "rolling">
  & Pick<ReaderState, "judged">;

const CHECKPOINT_RE = /^(ci|cf)-(\d{16})\.syft$/;

/** Object names of the channel, every page. */
async function allNames(ctx: SyncContext, channel: ChannelRef): Promise<string[]> {
  const names: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await ctx.transport.list(channel, after === undefined ? {} : { after });
    for (const o of page.objects) if (!o.special) names.push(o.name);
    if (page.next === undefined) return names;
    after = page.next;
  }
}

/**
 * The events of our own object `name` (and a batch's ack of the peer's
 * channel, else 0); null when it is not ours.
 */
async function ownEvents(
  ctx: SyncContext,
  keys: PeerKeys,
  name: string,
  kind: "batch" | "ci" | "cf",
): Promise<{ events: FileChangeEvent[]; ack: number } | null> {
  try {
    const json = await readOwnObject(ctx, keys, name, kind);
    const who = { sender: ctx.me, recipient: keys.peer };
    if (kind !== "batch") {
      return { events: parseCheckpointJson(json, { ...who, kind }).events, ack: 0 };
    }
    const batch = parseBatchJson(json, who);
    return { events: batch.events, ack: batch.acks[keys.peer] ?? 0 };
  } catch (err) {
    // Not ours: anyone can drop a file in a shared folder.
    if (err instanceof SyftError && err.code === "E_BAD_MESSAGE") return null;
    throw err;
  }
}

/** Our publications among `events`, applied in order to `published`. */
function replay(me: string, published: Record<string, string>, events: FileChangeEvent[]) {
  for (const e of events) {
    if (e.datasite !== me) continue; // a proposal of ours to the peer
    if (e.deleted || e.new_hash === null) delete published[e.path];
    else published[e.path] = e.new_hash;
  }
}

async function chainEntry(
  keys: PeerKeys,
  kind: ChainEntry["kind"],
  seq: number,
  events: FileChangeEvent[],
): Promise<ChainEntry> {
  const blobs = new Set<string>();
  for (const e of events) {
    if (e.content === "blob" && e.new_hash !== null) {
      blobs.add(await blobId(keys.blobKeyOut, e.new_hash));
    } else if (e.content === "pool" && e.pool) {
      blobs.add(e.pool.name.slice(0, -".syft".length));
    }
  }
  return { kind, seq, events: events.length, blobs: [...blobs] };
}

/**
 * Our record of the channel to `keys.peer`, rebuilt from its objects; null
 * when it holds nothing of ours to rebuild from; "lagging" when the listing
 * does not show `lastSeq` (our newest batch, which another listing just
 * showed: this one lags, and a rebuild from it would miss objects for good).
 */
export async function rebuildWriterRecord(
  ctx: SyncContext,
  keys: PeerKeys,
  lastSeq: number,
): Promise<RebuiltRecord | null | "lagging"> {
  const channel: ChannelRef = { sender: ctx.me, recipient: keys.peer };
  const names = await allNames(ctx, channel);
  if (!names.includes(batchName(lastSeq))) return "lagging";
  const batches = names.map(parseBatchName).filter((s): s is number => s !== null)
    .sort((a, b) => a - b);
  const checkpoints = names.flatMap((n) => {
    const m = CHECKPOINT_RE.exec(n);
    return m ? [{ kind: m[1] as "ci" | "cf", seq: Number(m[2]) }] : [];
  }).sort((a, b) => a.seq - b.seq || (a.kind === "cf" ? -1 : 1));
  if (batches.length === 0 && checkpoints.length === 0) return null;

  const chain: ChainEntry[] = [];
  const published: Record<string, string> = {};
  // The newest full checkpoint of ours is the base; what follows it is replayed.
  let base = -1;
  for (const cf of checkpoints.filter((c) => c.kind === "cf").reverse()) {
    const events = (await ownEvents(ctx, keys, checkpointName("cf", cf.seq), "cf"))?.events;
    if (events === undefined) continue;
    replay(ctx.me, published, events);
    chain.push(await chainEntry(keys, "cf", cf.seq, events));
    base = cf.seq;
    break;
  }
  for (const c of checkpoints) {
    if (c.kind === "cf" && c.seq === base) continue;
    if (c.kind === "cf" || c.seq <= base) {
      // Older checkpoints still count for collection; their content is in the base.
      const events = (await ownEvents(ctx, keys, checkpointName(c.kind, c.seq), c.kind))?.events;
      if (events !== undefined) chain.push(await chainEntry(keys, c.kind, c.seq, events));
      continue;
    }
    const events = (await ownEvents(ctx, keys, checkpointName("ci", c.seq), "ci"))?.events;
    if (events === undefined) continue;
    replay(ctx.me, published, events);
    chain.push(await chainEntry(keys, "ci", c.seq, events));
  }
  // Batches a replayed checkpoint covers are in it already (or collected).
  const covered = Math.max(base, ...chain.filter((e) => e.kind === "ci").map((e) => e.seq));
  let rolling = {
    ...emptyRolling(),
    ci_since_cf: chain.filter((e) => e.kind === "ci" && e.seq > base).length,
  };
  let judged = 0;
  for (const seq of batches) {
    const own = await ownEvents(ctx, keys, batchName(seq), "batch");
    if (own === null) continue;
    const { events } = own;
    judged = Math.max(judged, own.ack);
    if (seq > covered) {
      replay(ctx.me, published, events);
      rolling = addToRolling(rolling, ctx.me, events);
    }
    chain.push(await chainEntry(keys, "batch", seq, events));
  }
  if (chain.length === 0) return null;
  return { published, published_once: true, chain, rolling, judged };
}
