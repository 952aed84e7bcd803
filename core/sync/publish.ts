/**
 * The writing side of our channel to a peer (PROTOCOL.md §4, §6): publish the
 * difference between what the peer may read now and what it has, plus our
 * proposals, control records and acks, in as few batches as the limits allow.
 * Blobs go first; every content is re-hashed as it is read, so a file that
 * changed since the scan is never sent under a stale hash.
 * @module
 */
import { posix } from "node:path";
import { createHash } from "node:crypto";
import { blobId, hashStream, sha256Hex } from "../crypto/agree.ts";
import { openEnvelope, readHeaderOnly, sealEnvelope } from "../events/envelope.ts";
import { packBody } from "../events/body.ts";
import { serializeJson } from "../events/parse.ts";
import {
  BATCH_LIMITS,
  type BatchJson,
  batchName,
  blobName,
  type Control,
  type FileChangeEvent,
  INLINE_LIMIT,
  parseBatchName,
} from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import { type PermissionEngine, projectReadable } from "../permissions/mod.ts";
import type { ChannelRef } from "../../plugins/contract.ts";
import { ownDatasite, type PeerKeys, type SyncContext } from "./context.ts";
import type { OutgoingEvent } from "./propose.ts";
import { quarantineObject } from "./quarantine.ts";
import { type ChannelState, type FileInfo, saveChannelState } from "./state.ts";

/** What publishing to one peer did. */
export interface PublishResult {
  state: ChannelState;
  batches: number;
  events: number;
  blobs: number;
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

/**
 * Whether batch `seq` in our own channel is one this identity wrote: its
 * header verifies with our key and names exactly that object. Anyone who can
 * write the shared folder can drop a file there (an old `b-` copied under a
 * new name, garbage), and that must not pass for a second installation.
 */
async function isOwnBatch(ctx: SyncContext, channel: ChannelRef, seq: number): Promise<boolean> {
  const name = batchName(seq);
  try {
    await readHeaderOnly(await ctx.transport.get(channel, name), {
      name,
      sender: ctx.me,
      recipient: channel.recipient,
      kind: "batch",
    }, ctx.keys.sign.publicKey);
    return true;
  } catch (err) {
    if (err instanceof SyftError && err.code === "E_BAD_MESSAGE") return false;
    throw err;
  }
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
  });
  const listed = page.objects.map((o) => parseBatchName(o.name)).filter((s): s is number =>
    s !== null
  );
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
  let skipped = false;
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
    await quarantineObject(ctx.layout, ctx.transport, channel, batchName(seq), reason, ctx.now());
    ctx.warn(`quarantined ${reason}; continuing after it`);
    current = { ...current, next_seq: seq + 1 };
    skipped = true;
  }
  if (skipped) await saveChannelState(ctx.layout, current);
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
  const now = ctx.now();
  const out: OutgoingEvent[] = [];
  const published = { ...state.published };
  let deletions = 0;
  const projection = projectReadable(input.engine, ctx.me, state.peer, input.index.keys());
  const forced = new Set(state.republish);
  for (const path of [...projection].sort()) {
    const info = input.index.get(path)!;
    if (published[path] === info.hash && !forced.has(path)) continue;
    out.push({
      event: {
        id: crypto.randomUUID(),
        datasite: ctx.me,
        path,
        old_hash: published[path] ?? null,
        new_hash: info.hash,
        size: info.size,
        deleted: false,
        mode: info.mode,
        submitted_at: now,
        ts: now,
        content: info.size <= INLINE_LIMIT ? "inline" : "blob",
      },
      source: posix.join(ownDatasite(ctx), path),
    });
    published[path] = info.hash;
  }
  const lost = Object.keys(published).filter((p) => !projection.has(p));
  // A rejected proposal for a path the peer cannot read: its mirror copy must go.
  for (const p of forced) if (!projection.has(p) && !(p in published)) lost.push(p);
  for (const path of lost.sort()) {
    out.push({
      event: {
        id: crypto.randomUUID(),
        datasite: ctx.me,
        path,
        old_hash: published[path] ?? null,
        new_hash: null,
        size: 0,
        deleted: true,
        mode: "file",
        submitted_at: now,
        ts: now,
        content: null,
      },
      source: null,
    });
    delete published[path];
    deletions++;
  }
  // Deletions first: a file replaced by a folder of the same name (or back)
  // must be gone before anything is written where it was.
  const ordered = [...out.filter((e) => e.event.deleted), ...out.filter((e) => !e.event.deleted)];
  return { events: ordered, published, deletions };
}

/** Stream a file, failing if its bytes no longer hash to `expected`. */
async function verifiedStream(path: string, expected: string): Promise<ReadableStream<Uint8Array>> {
  const file = await Deno.open(path);
  const hash = createHash("sha256");
  return file.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        hash.update(chunk);
        controller.enqueue(chunk);
      },
      flush(controller) {
        if (hash.digest("hex") !== expected) {
          controller.error(new SyftError("E_INPUT", `${path} changed while it was being sent`));
        }
      },
    }),
  );
}

async function readVerified(path: string, expected: string): Promise<Uint8Array | null> {
  try {
    const bytes = await Deno.readFile(path);
    return sha256Hex(bytes) === expected ? bytes : null;
  } catch {
    return null;
  }
}

/** Publish to one peer. Returns the new state (already saved). */
export async function publishTo(
  ctx: SyncContext,
  keys: PeerKeys,
  initial: ChannelState,
  input: PublishInput,
): Promise<PublishResult> {
  const channel: ChannelRef = { sender: ctx.me, recipient: keys.peer };
  // The listing that settles our seq is needed before a write, or to settle a
  // put a crash may have left; otherwise it waits until there is something to
  // send, so an idle round costs one transport call (changes), not 1 + peers.
  const settleFirst = initial.pending_put !== null;
  let state = settleFirst ? await settleSeq(ctx, channel, initial) : initial;
  const result: PublishResult = { state, batches: 0, events: 0, blobs: 0 };

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
  outgoing = outgoing.concat(input.proposals);
  const controls = [...input.extraControls, ...state.controls];
  const acksAdvanced = state.ack_needed && state.cursor !== state.acks_sent;
  if (outgoing.length === 0 && controls.length === 0 && !acksAdvanced) {
    if (input.publishDatasite && !state.published_once) {
      state = { ...state, published_once: true, published, republish: [] };
    }
    result.state = state;
    return result;
  }
  // Without a pending put, settling changes nothing but next_seq.
  if (!settleFirst) state = await settleSeq(ctx, channel, state);

  // Split into batches within the limits (never one object per event).
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

  // A proposal becomes pending (`proposed`) only with the state saved after
  // the put of the batch carrying it. The intent saved before the put must not
  // record it: a crash before the put then left it "pending" for good, and
  // collectProposals never sent it (a lost proposal).
  const unsent = new Set(input.proposals.map((p) => p.event.id));
  const allProposed = state.proposed;
  const proposedSoFar = () =>
    Object.fromEntries(Object.entries(allProposed).filter(([, p]) => !unsent.has(p.id)));

  for (const [i, group] of groups.entries()) {
    const seq = state.next_seq;
    const last = i === groups.length - 1;
    const blobs = new Set(state.blobs);
    const events: FileChangeEvent[] = [];
    const inline = new Map<string, string>();
    for (const { event, source } of group) {
      if (event.content === "blob" && source) {
        const id = await blobId(keys.blobKeyOut, event.new_hash!);
        if (!blobs.has(id)) {
          await uploadBlob(ctx, keys, channel, id, seq, source, event);
          blobs.add(id);
          result.blobs++;
        }
      } else if (event.content === "inline" && source) {
        inline.set(event.new_hash!, source);
      }
      events.push(event);
    }
    const contents: { hash: string; bytes: Uint8Array }[] = [];
    const stale = new Set<string>();
    for (const [hash, source] of inline) {
      const bytes = await readVerified(source, hash);
      if (bytes) contents.push({ hash, bytes });
      else stale.add(hash);
    }
    // A file that changed since the scan is left for the next round.
    const sendable = events.filter((e) => !(e.content === "inline" && stale.has(e.new_hash!)));
    const batch: BatchJson = {
      seq,
      sender: ctx.me,
      created_at: ctx.now(),
      events: sendable,
      acks: { [keys.peer]: state.cursor },
      control: i === 0 ? controls : [],
    };
    const body = await collect(
      packBody({ name: "batch.json", bytes: serializeJson(batch) }, contents),
    );
    const name = batchName(seq);
    const proposedBefore = proposedSoFar();
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
    };
    // Intent first: a crash between put and save is settled by the next round's listing.
    await saveChannelState(ctx.layout, {
      ...state,
      proposed: proposedBefore,
      pending_put: { seq, after },
    });
    const sealed = sealEnvelope(
      {
        kind: "batch",
        name,
        sender: ctx.me,
        recipient: keys.peer,
        seq,
        created_at: batch.created_at,
        size: body.length,
      },
      body,
      {
        signPrivate: ctx.keys.sign.privateKey,
        agreePrivate: ctx.keys.agree.privateKey,
        peerAgreePublic: keys.agreePublic,
      },
    );
    await ctx.transport.put(channel, name, sealed);
    state = after;
    await saveChannelState(ctx.layout, state);
    result.batches++;
    result.events += sendable.length;
  }
  result.state = state;
  return result;
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

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of stream) {
    parts.push(c);
    n += c.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function uploadBlob(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  id: string,
  seq: number,
  source: string,
  event: FileChangeEvent,
): Promise<void> {
  const name = blobName(id);
  const seal = async () =>
    sealEnvelope(
      {
        kind: "blob",
        name,
        sender: ctx.me,
        recipient: keys.peer,
        seq,
        created_at: ctx.now(),
        size: event.size,
      },
      await verifiedStream(source, event.new_hash!),
      {
        signPrivate: ctx.keys.sign.privateKey,
        agreePrivate: ctx.keys.agree.privateKey,
        peerAgreePublic: keys.agreePublic,
      },
    );
  const sealed = await seal();
  try {
    await ctx.transport.put(channel, name, sealed);
    return;
  } catch (err) {
    if (!(err instanceof SyftError) || err.code !== "E_EXISTS") throw err;
    await sealed.cancel().catch(() => {}); // unread: close the source file
  }
  // Already there (a crash after upload, or a resync): reuse it only if it
  // opens as ours in full and holds this content. A header check alone let a
  // blob damaged in the channel be reused by every resync, so the peer
  // quarantined every republish and never caught up (identity test (g)); and
  // a foreign object under the name stopped publishing to the peer for good.
  if (await holdsContent(ctx, keys, channel, name, event.new_hash!)) return;
  ctx.warn(`${name} in our channel to ${keys.peer} is damaged or not ours; uploading it again`);
  await ctx.transport.delete(channel, name);
  await ctx.transport.put(channel, name, await seal());
}

/** Whether blob `name` in our channel verifies as ours and decrypts to content `hash`. */
async function holdsContent(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  name: string,
  hash: string,
): Promise<boolean> {
  try {
    const opened = await openEnvelope(
      await ctx.transport.get(channel, name),
      { name, sender: ctx.me, recipient: keys.peer, kind: "blob" },
      {
        // The X25519 secret is symmetric: our private key and the peer's public
        // key give the key the peer reads with.
        senderSignPublic: ctx.keys.sign.publicKey,
        agreePrivate: ctx.keys.agree.privateKey,
        senderAgreePublic: keys.agreePublic,
      },
    );
    return (await hashStream(opened.body)).hash === hash;
  } catch (err) {
    if (err instanceof SyftError && err.code === "E_BAD_MESSAGE") return false;
    throw err;
  }
}
