/**
 * The writing side of our channel to one peer (docs/protocol.md §4–§6): what
 * we publish to it. It publishes the difference between what the peer may
 * read now and what it has, plus our proposals, control records and acks, in
 * as few batches as the limits allow; writes the checkpoints that are due;
 * retires blobs no file has any more and collects what the peer acked. Blobs
 * go first; every content is re-hashed as it is read, so a file that changed
 * since the scan is never sent under a stale hash. Every state change is saved
 * as it happens, so a round killed at any instant resumes where it stopped.
 * @module
 */
import { blobId } from "../crypto/agree.ts";
import { type BodyContent, packBody } from "../events/body.ts";
import { serializeJson } from "../events/parse.ts";
import { BATCH_LIMITS, type BatchJson, batchName, type FileChangeEvent } from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import {
  addToRolling,
  checkpointDue,
  DEFAULT_THRESHOLDS,
  incrementalEvents,
} from "../checkpoints/rolling.ts";
import { changeEvent } from "../events/make.ts";
import type { ChannelRef } from "../transport/contract.ts";
import { ownDatasite, type PeerKeys, type SyncContext } from "./context.ts";
import type { OutgoingEvent } from "./propose.ts";
import {
  type ChannelState,
  type FileInfo,
  type PendingProposal,
  saveChannelState,
} from "./state.ts";
import { collectBytes, readVerified, sealFor, uploadBlob } from "./outgoing.ts";
import { fullCheckpointEvents, writeCheckpoint } from "./checkpoint_out.ts";
import { collectGarbage, finishGc } from "./gc.ts";
import { settleSeq } from "./settle_seq.ts";
import { poolFor } from "./pool.ts";
import {
  currentFingerprint,
  DEFERRED_HASH,
  hasDeferred,
  hashDeferred,
  isDeferred,
  settleHash,
} from "./deferred_hash.ts";
import { rebuildWriterRecord } from "./writer_rebuild.ts";
import {
  carriableProjection,
  groupEvents,
  nothingToPublish,
  planPublication,
  type PublicationPlan,
  type Publisher,
  type PublishInput,
  sentRecord,
  writesNothing,
} from "./publication.ts";

/** What publishing to one peer did. */
export interface PublishResult {
  state: ChannelState;
  batches: number;
  events: number;
  blobs: number;
  /** The first few paths sent, for the round's report. */
  paths: string[];
}

/** Paths a {@linkcode PublishResult} names. */
const RESULT_PATHS = 8;

/** One batch, packed and ready to put. */
interface OutgoingBatch {
  seq: number;
  body: Uint8Array;
  /** The events it carries (those whose content changed since the scan are left out). */
  sent: FileChangeEvent[];
  /** Blob ids it references. */
  refs: Set<string>;
  /** The state once it is in the channel. */
  after: ChannelState;
  /** `proposed` and the unsent proposals as they were before it. */
  proposedBefore: ChannelState["proposed"];
  unsentBefore: Set<string>;
}

/** What one publication's batches carry from one batch to the next. */
class BatchRun {
  /** Proposals not yet in a batch that went in: they stay out of `proposed`. */
  readonly unsent: Set<string>;
  /** Contents our files no longer have (replaced or deleted), by the batch that said so. */
  readonly gone = new Map<string, number>();
  /** Blobs this publication referenced. */
  readonly reused = new Set<string>();
  /** Contents read for these batches, for a checkpoint written right after them. */
  readonly known = new Map<string, Uint8Array>();
  #knownBytes = 0;
  /** Puts that found their name taken (retried after settling the seq). */
  takenRetries = 0;
  readonly #before: ChannelState["proposed"];
  readonly #pending: Record<string, PendingProposal>;

  constructor(
    proposals: OutgoingEvent[],
    before: ChannelState["proposed"],
    pending: Record<string, PendingProposal>,
  ) {
    this.unsent = new Set(proposals.map((p) => p.event.id));
    this.#before = before;
    this.#pending = pending;
  }

  /**
   * A proposal becomes pending (`proposed`) only with the state saved after
   * the put of the batch carrying it. The intent saved before the put must not
   * record it: a crash before the put then left it "pending" for good, and
   * collectProposals never sent it (a lost proposal). An unsent proposal on
   * top of an earlier one leaves that one pending.
   */
  proposedSoFar(): ChannelState["proposed"] {
    const proposed = { ...this.#before };
    for (const [path, p] of Object.entries(this.#pending)) {
      if (!this.unsent.has(p.id)) proposed[path] = p;
    }
    return proposed;
  }

  /** Keep `bytes` for the checkpoint while they fit one batch's inline budget. */
  remember(hash: string, bytes: Uint8Array): void {
    if (this.#knownBytes + bytes.byteLength > BATCH_LIMITS.inflatedBytes) return;
    this.known.set(hash, bytes);
    this.#knownBytes += bytes.byteLength;
  }
}

/** Our channel to one peer, and its writer's state. */
export class ChannelWriter {
  readonly channel: ChannelRef;
  #state: ChannelState;

  constructor(
    readonly ctx: SyncContext,
    readonly keys: PeerKeys,
    state: ChannelState,
  ) {
    this.channel = { sender: ctx.me, recipient: keys.peer };
    this.#state = state;
  }

  /** The channel's state as last saved. */
  get state(): ChannelState {
    return this.#state;
  }

  /** Publish what is due. Returns the new state (already saved). */
  async publish(input: PublishInput): Promise<PublishResult> {
    await this.#settle();
    const result: PublishResult = {
      state: this.#state,
      batches: 0,
      events: 0,
      blobs: 0,
      paths: [],
    };
    if (input.publishDatasite && hasDeferred(input.index) && !(await this.#pools())) {
      // A per-channel blob is named by an HMAC of its content's hash: hashed first.
      await hashDeferred(input.index, ownDatasite(this.ctx), this.ctx.fs);
    }
    if (input.publishDatasite && !this.#state.published_once && this.#state.next_seq === 1) {
      await this.#writeFirstProjection(input);
    }
    // A first publication holds its deletions back to the next round: it is no full plan.
    const fullPlan = this.#state.published_once;
    if (nothingToPublish(this.#state, input)) {
      // Published for exactly this index, and nothing else to send: no plan.
      this.#state = (await collectGarbage(this.ctx, this.channel, this.#state)).state;
      result.state = this.#state;
      return result;
    }
    // Due since before a crash that followed its put: written under the same name.
    // One we deferred waits for a round with news, so an idle round writes nothing.
    if (!this.#state.checkpoint_deferred) {
      await this.#checkpointIfDue({ index: input.index, answerResync: false });
    }
    const windowWasEmpty = this.#state.rolling.count === 0;
    const plan = planPublication(this.#publisher(), this.#state, input);
    if (writesNothing(plan, this.#state)) {
      if (input.publishDatasite && !this.#state.published_once) {
        await this.#save({
          ...this.#state,
          published_once: true,
          published: plan.published,
          republish: [],
        });
      }
    } else {
      const run = await this.#writeBatches(plan, input, result);
      await this.#retireBlobs(run.gone, run.reused);
      await this.#checkpointIfDue({
        index: input.index,
        answerResync: true,
        known: run.known,
        deferrable: windowWasEmpty,
      });
    }
    if (input.indexFingerprint !== undefined && input.publishDatasite && fullPlan) {
      // Everything of this index is planned and written (a file that changed while it
      // was read is in `republish`, which keeps the next round planning).
      this.#state = {
        ...this.#state,
        published_index: currentFingerprint(input.index, input.indexFingerprint),
      };
      await this.#save(this.#state);
    }
    this.#state = (await collectGarbage(this.ctx, this.channel, this.#state)).state;
    result.state = this.#state;
    return result;
  }

  /** Whether this channel shares large contents through our pool (protocol 2). */
  async #pools(): Promise<boolean> {
    if (!this.ctx.pool || (this.keys.protocol ?? 1) < 2) return false;
    return (await this.ctx.pool.store()) !== null;
  }

  async #save(next: ChannelState): Promise<void> {
    this.#state = next;
    await saveChannelState(this.ctx.layout, next);
  }

  #publisher(): Publisher {
    return {
      me: this.ctx.me,
      datasite: ownDatasite(this.ctx),
      now: this.ctx.clock.now(),
      allowMassDelete: this.ctx.allowMassDelete,
    };
  }

  /**
   * Finish a collection a crash cut short. The listing that settles our seq
   * is needed to settle a put a crash may have left, or when this state has
   * no record of the channel. Otherwise a put that finds its name taken
   * settles it: an idle round costs one transport call (changes), and a round
   * with news one put per object.
   */
  async #settle(): Promise<void> {
    this.#state = await finishGc(this.ctx, this.channel, this.#state);
    const lost = !this.#state.seq_known && !this.#state.published_once &&
      this.#state.chain.length === 0;
    // Kept until the rebuild is done: the settle below saves the state, so a
    // rebuild that then failed (a transport error) was never tried again.
    if (lost) this.#state = { ...this.#state, rebuild_due: true };
    if (this.#state.pending_put !== null || !this.#state.seq_known) {
      this.#state = await settleSeq(this.ctx, this.channel, this.#state);
    }
    if (this.#state.rebuild_due) await this.#rebuild();
  }

  /**
   * No record, yet the channel may hold our objects: `state/` was lost. The
   * record is rebuilt from them; a listing that lags leaves it due.
   */
  async #rebuild(): Promise<void> {
    const { rebuild_due: _, ...state } = this.#state;
    if (state.next_seq === 1) return await this.#save(state); // nothing of ours there
    const rebuilt = await rebuildWriterRecord(this.ctx, this.keys, state.next_seq - 1);
    if (rebuilt === "lagging") await this.#save(this.#state); // still due
    else {
      await this.#save(
        rebuilt
          ? { ...state, ...rebuilt, judged: Math.max(state.judged ?? 0, rebuilt.judged) }
          : state,
      );
    }
  }

  /** A newly accepted peer's projection as `cf-0000000000000000`, before `b-1` (docs/protocol.md §5). */
  async #writeFirstProjection(input: PublishInput): Promise<void> {
    const now = this.ctx.clock.now();
    const projection = carriableProjection(this.ctx.me, this.#state, input);
    const events = [...projection].sort().map((p) =>
      changeEvent(this.ctx.me, p, input.index.get(p)!, null, now)
    );
    const w = await writeCheckpoint(this.ctx, this.keys, this.#state, {
      kind: "cf",
      seq: 0,
      events,
    });
    for (const e of w.events) {
      if (e.new_hash !== null) settleHash(input.index, e.path, e.size, e.new_hash);
    }
    await this.#save({
      ...w.state,
      published: Object.fromEntries(w.events.map((e) => [e.path, e.new_hash!])),
      published_once: true,
    });
  }

  /**
   * Write the checkpoint that is due, if any, at our last batch's seq and save
   * the state. `answerResync`: a full one the peer asked for (only after this
   * round's batches, so its seq is past the reader's position). `known`:
   * contents this round already read. `deferrable`: this round's batches are
   * the checkpoint's whole window, so it would only repeat them; it is left
   * for the next round that publishes (the batches serve a new reader as
   * well meanwhile), unless the peer asked for it.
   */
  async #checkpointIfDue(
    { index, answerResync, known, deferrable = false }: {
      index: ReadonlyMap<string, FileInfo>;
      answerResync: boolean;
      known?: ReadonlyMap<string, Uint8Array>;
      deferrable?: boolean;
    },
  ): Promise<void> {
    const state = this.#state;
    const last = state.next_seq - 1;
    const asked = answerResync && state.cf_due;
    const kind = asked
      ? "cf"
      : checkpointDue(state.rolling, this.ctx.thresholds ?? DEFAULT_THRESHOLDS);
    if (kind === null || last < 1) return;
    if (deferrable && !asked) {
      if (!state.checkpoint_deferred) await this.#save({ ...state, checkpoint_deferred: true });
      return;
    }
    if (state.chain.some((e) => e.kind === kind && e.seq === last)) return;
    let events: FileChangeEvent[];
    let current = state;
    if (kind === "ci") events = incrementalEvents(state.rolling);
    else {
      const full = fullCheckpointEvents(this.ctx.me, state.published, index, this.ctx.clock.now());
      events = full.events;
      current = { ...state, republish: [...new Set([...state.republish, ...full.stale])] };
    }
    const w = await writeCheckpoint(this.ctx, this.keys, current, {
      kind,
      seq: last,
      events,
      ...(known ? { known } : {}),
    });
    const { checkpoint_deferred: _, ...written } = w.state;
    await this.#save(written);
  }

  /** Write the plan's events in as few batches as the limits allow. */
  async #writeBatches(
    plan: PublicationPlan,
    input: PublishInput,
    result: PublishResult,
  ): Promise<BatchRun> {
    const run = new BatchRun(input.proposals, this.#state.proposed, input.pending ?? {});
    const groups = groupEvents(plan.outgoing);
    for (let i = 0; i < groups.length;) {
      const batch = await this.#packBatch(plan, input, run, {
        group: groups[i]!,
        first: i === 0,
        last: i === groups.length - 1,
        result,
      });
      if (!await this.#putBatch(batch, run)) continue;
      result.batches++;
      result.events += batch.sent.length;
      for (const e of batch.sent) if (result.paths.length < RESULT_PATHS) result.paths.push(e.path);
      for (const e of batch.sent) {
        if (e.datasite === this.ctx.me && e.old_hash !== null && e.old_hash !== e.new_hash) {
          run.gone.set(e.old_hash, batch.seq);
        }
      }
      for (const id of batch.refs) run.reused.add(id);
      i++;
    }
    return run;
  }

  /** Pack one group of events as the batch at our next seq, uploading its blobs first. */
  async #packBatch(
    plan: PublicationPlan,
    input: PublishInput,
    run: BatchRun,
    at: { group: OutgoingEvent[]; first: boolean; last: boolean; result: PublishResult },
  ): Promise<OutgoingBatch> {
    const state = this.#state;
    const seq = state.next_seq;
    const c = await this.#contentsOf(at.group, seq, run, at.result);
    for (const [path, e] of c.learnt) {
      settleHash(input.index, path, e.size, e.new_hash!);
      if (plan.published[path] === DEFERRED_HASH) plan.published[path] = e.new_hash!;
    }
    // A file that changed since the scan is left for the next round.
    const sent = c.events.filter((e) => !(e.content === "inline" && c.stale.has(e.new_hash!)));
    const batch: BatchJson = {
      seq,
      sender: this.ctx.me,
      created_at: this.ctx.clock.now(),
      events: sent,
      // Never below what an earlier batch of ours acked: a state lost since
      // (cursor 0) would otherwise tell a later reader of this channel that
      // nothing was judged, and old proposals were applied again over the
      // owner's own later edits (simulation seed 100433).
      acks: { [this.keys.peer]: Math.max(state.cursor, state.judged ?? 0) },
      control: at.first ? plan.controls : [],
    };
    const body = await collectBytes(
      packBody({ name: "batch.json", bytes: serializeJson(batch) }, c.contents),
    );
    const proposedBefore = run.proposedSoFar();
    const unsentBefore = new Set(run.unsent);
    for (const e of sent) run.unsent.delete(e.id);
    const after: ChannelState = {
      ...state,
      proposed: run.proposedSoFar(),
      next_seq: seq + 1,
      blobs: [...c.blobs],
      acks_sent: state.cursor,
      ack_needed: false,
      controls: at.first ? [] : state.controls,
      published: at.last
        ? sentRecord(plan, { me: this.ctx.me, before: state.published, stale: c.stale })
        : state.published,
      // Only a publication of our datasite says what became of those paths: a
      // batch of controls alone (our peer.remove) kept none of them, and the
      // peer, approved again, kept a file we had deleted meanwhile (seed 2001226).
      republish: at.last && input.publishDatasite ? [] : state.republish,
      published_once: at.last
        ? (input.publishDatasite || state.published_once)
        : state.published_once,
      pending_put: null,
      rolling: addToRolling(state.rolling, this.ctx.me, sent),
      chain: [...state.chain, { kind: "batch", seq, events: sent.length, blobs: [...c.refs] }],
    };
    return { seq, body, sent, refs: c.refs, after, proposedBefore, unsentBefore };
  }

  /** Upload a group's blobs and read its inline contents (verified against their hash). */
  async #contentsOf(group: OutgoingEvent[], seq: number, run: BatchRun, result: PublishResult) {
    const blobs = new Set(this.#state.blobs);
    const refs = new Set<string>();
    const events: FileChangeEvent[] = [];
    const inline = new Map<string, string>();
    /** Paths whose hash the scan left out, with the event naming what was sealed. */
    const learnt = new Map<string, FileChangeEvent>();
    for (const { event, source } of group) {
      if (event.content === "blob" && source && event.datasite === this.ctx.me) {
        const blob = { source, hash: event.new_hash!, size: event.size };
        const pooled = await poolFor(this.ctx, this.keys, blob, blobs);
        if (pooled) {
          refs.add(pooled.id);
          blobs.add(pooled.id);
          // The hash of the bytes sealed: one the scan left out is learnt by sealing.
          const sent = {
            ...event,
            new_hash: blob.hash,
            content: "pool" as const,
            pool: pooled.ref,
          };
          if (isDeferred({ hash: event.new_hash! })) learnt.set(event.path, sent);
          events.push(sent);
          continue;
        }
      }
      if (event.content === "blob" && source) {
        const hash = event.new_hash!;
        const id = await blobId(this.keys.blobKeyOut, hash);
        if (!blobs.has(id)) {
          await uploadBlob(this.ctx, this.keys, this.channel, {
            seq,
            source,
            hash,
            size: event.size,
          });
          blobs.add(id);
          result.blobs++;
        }
        refs.add(id);
      } else if (event.content === "inline" && source) {
        inline.set(event.new_hash!, source);
      }
      events.push(event);
    }
    const contents: BodyContent[] = [];
    const stale = new Set<string>();
    for (const [hash, source] of inline) {
      const bytes = readVerified(this.ctx.fs, source, hash, this.ctx.contents);
      if (!bytes) {
        stale.add(hash);
        continue;
      }
      contents.push({ hash, bytes, verified: true });
      run.remember(hash, bytes);
    }
    return { blobs, refs, events, contents, stale, learnt };
  }

  /**
   * Put a batch, its intent saved first: a crash between put and save is
   * settled by the next round's listing. False when its name was taken (not
   * our put): the seq is settled from the listing (which reports another
   * installation, or steps past a forged object) and the batch is packed again.
   */
  async #putBatch(batch: OutgoingBatch, run: BatchRun): Promise<boolean> {
    const { seq, body } = batch;
    const name = batchName(seq);
    await saveChannelState(this.ctx.layout, {
      ...this.#state,
      proposed: batch.proposedBefore,
      pending_put: { seq, after: batch.after },
    });
    try {
      await this.ctx.transport.put(
        this.channel,
        name,
        sealFor(this.ctx, this.keys, { kind: "batch", name, seq, size: body.length }, body),
      );
    } catch (err) {
      if (!(err instanceof SyftError) || err.code !== "E_EXISTS" || run.takenRetries++ > 2) {
        throw err;
      }
      for (const id of batch.unsentBefore) run.unsent.add(id);
      await this.#save({ ...this.#state, proposed: batch.proposedBefore, pending_put: null });
      this.#state = await settleSeq(this.ctx, this.channel, this.#state);
      return false;
    }
    await this.#save(batch.after);
    return true;
  }

  /**
   * Record the blobs whose content no published file has any more (`gone`:
   * content hash → the batch that replaced or deleted it), so the collection
   * deletes them once the peer acked that batch; a blob referenced again
   * (`reused`) is live again. Saves the state when it changes.
   */
  async #retireBlobs(
    gone: ReadonlyMap<string, number>,
    reused: ReadonlySet<string>,
  ): Promise<void> {
    const state = this.#state;
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
        const pooled = await this.ctx.pool?.idOf(hash);
        for (const id of [await blobId(this.keys.blobKeyOut, hash), pooled]) {
          if (id === undefined || !uploaded.has(id) || reused.has(id)) continue;
          retired[id] = seq;
          changed = true;
        }
      }
    }
    if (changed) await this.#save({ ...state, retired });
  }
}
