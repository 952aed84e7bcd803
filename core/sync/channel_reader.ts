/**
 * The reading side of a channel (docs/protocol.md §7, §8): what one peer
 * publishes to us. Its batches are fetched strictly in seq order, verified and
 * unpacked, then publications are applied to the peer's mirror and proposals
 * judged against our permission files as they stood at the start of the
 * batch. A bad object is quarantined and a fresh checkpoint asked for; a gap
 * is waited for; a checkpoint restores a mirror from scratch. Every change
 * goes through the journal.
 * @module
 */
import { forgetWipedMirror, mirrorWasWiped } from "./reader/wiped_mirror.ts";
import { posix } from "node:path";
import { parseBatchJson } from "../events/parse.ts";
import { deletionEvent } from "../events/make.ts";
import {
  batchName,
  checkpointName,
  type Control,
  type FileChangeEvent,
  parseBatchName,
  parseSeqName,
} from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import type { PermissionEngine } from "../permissions/mod.ts";
import type { ChannelRef } from "../transport/contract.ts";
import { ownDatasite, type PeerKeys, stagingRoot, type SyncContext } from "./context.ts";
import { applyJournaled } from "./journal.ts";
import { regularFileHash } from "./scan.ts";
import { keepRefusals, type Refusal } from "./refusals.ts";
import { quarantineRefused } from "./quarantine.ts";
import { type ChannelState, saveChannelState } from "./state.ts";
import { readOwnObject } from "./outgoing.ts";
import { collectProposals, type ProposalResult } from "./propose.ts";
import { planRead, type ReadPlan } from "../checkpoints/read_plan.ts";
import { blobFetcher, type Fetched, fetchObject, type ObjectKind } from "./reader/fetch.ts";
import { Planner } from "./reader/planner.ts";
import { applyPublication, type BatchScope, freeMarker } from "./reader/apply.ts";
import { judgeProposal, type JudgeScope, rejectUnaccepted } from "./reader/judge.ts";
import {
  DEFAULT_MAX_PROPOSALS,
  type ReceiveOptions,
  type ReceiveResult,
  resultOf,
  startWork,
  type Work,
} from "./reader/types.ts";

/** What one pass over the channel's listing ends with. */
type Step = "again" | "done";

/** A refusal of ours the peer sent; `kept` when a `.rejected` copy holds our content. */
interface Answered {
  refusal: Refusal;
  kept: boolean;
}

/** One checkpoint object of a restore. */
interface CheckpointRef {
  kind: "ci" | "cf";
  seq: number;
}

/** What `keys.peer` publishes to us: read each round, from our cursor on. */
export class ChannelReader {
  readonly #channel: ChannelRef;
  readonly #mirrorRoot: string;
  readonly #work: Work;

  constructor(
    readonly ctx: SyncContext,
    readonly keys: PeerKeys,
    initial: ChannelState,
    readonly options: ReceiveOptions,
  ) {
    this.#channel = { sender: keys.peer, recipient: ctx.me };
    this.#mirrorRoot = posix.join(ctx.root, keys.peer);
    this.#work = startWork(initial, Math.max(1, ctx.maxProposals ?? DEFAULT_MAX_PROPOSALS));
  }

  /** Read every new object of the peer's channel to us, in order, applying each. */
  async read(): Promise<ReceiveResult> {
    if (await mirrorWasWiped(this.ctx, this.#state)) {
      this.ctx.warn(`your mirror of ${this.keys.peer} was deleted: asking for a fresh copy`);
      await this.#save(forgetWipedMirror(this.#state));
    }
    await this.#recoverJudged();
    try {
      for (let guard = 0; guard < 1_000_000; guard++) {
        if (await this.#step() === "done") break;
      }
    } catch (err) {
      // What this round judged stays known past a lost state/ even when it died.
      await this.#noteJudged().catch(() => {});
      throw err;
    }
    await this.#noteJudged();
    await this.#dropIdenticalCopies();
    await this.#noteUnread();
    return resultOf(this.#work);
  }

  /**
   * Our edits in the peer's mirror not proposed yet (docs/protocol.md §8),
   * from `state` (the reader's own when not given), which the reader then
   * keeps, with them recorded as pending.
   */
  async propose(state: ChannelState = this.state): Promise<ProposalResult> {
    const result = await collectProposals(this.ctx, state);
    this.#work.state = {
      ...result.state,
      proposed: { ...result.state.proposed, ...result.pending },
    };
    return result;
  }

  /** The channel's state as this reader last left it (saved, or to be saved with the next batch). */
  get state(): ChannelState {
    return this.#work.state;
  }

  get #state(): ChannelState {
    return this.#work.state;
  }

  async #save(state: ChannelState): Promise<void> {
    this.#work.state = state;
    await saveChannelState(this.ctx.layout, state);
  }

  /** List from the cursor, decide what to read, and read it. */
  async #step(): Promise<Step> {
    const at = this.#state;
    // From the cursor's own batch on: its absence tells a rollback (one call either way).
    const page = await this.ctx.transport.list(this.#channel, {
      prefix: "b-",
      after: at.cursor > 0 ? batchName(at.cursor - 1) : undefined,
    });
    // In order and once each, whatever the listing did (a lagging index may
    // repeat or reorder entries: simulation seed 30311 read nothing from a
    // reversed page, and no later round looked again).
    const seqs = [
      ...new Set(
        page.objects.map((o) => parseBatchName(o.name)).filter((n): n is number => n !== null),
      ),
    ].sort((a, b) => a - b);
    this.#work.listedTop = Math.max(this.#work.listedTop, seqs[seqs.length - 1] ?? 0);
    const { plan, oldestCf } = await this.#plan(seqs);
    switch (plan.kind) {
      case "batches":
        return await this.#readBatches(seqs, Boolean(page.next));
      case "restore": {
        const upTo = Math.max(plan.cf, ...plan.ci);
        const all = page.next ? [...seqs, ...await this.#batchesAfter(page.next)] : seqs;
        const unseen = this.#unlistedToJudge(all, upTo, oldestCf ?? plan.cf);
        if (unseen !== null) {
          await this.#wait(unseen, "gap");
          return "done";
        }
        if (!await this.#judgeBeforeRestore(all, upTo)) return "done";
        return await this.#restore(plan.cf, plan.ci) ? "again" : "done";
      }
      case "wait":
        await this.#wait(plan.missing, plan.why);
        return "done";
      case "rollback":
        await this.#noteRollback(plan.highest);
        return "done";
      case "idle":
        return "done";
    }
  }

  /** Tell the round how far proposals were judged, when this read went past the record's. */
  async #noteJudged(): Promise<void> {
    const top = this.#work.judgedTop;
    if (top > (this.options.proposalsRead ?? 0)) await this.options.onProposalsJudged?.(top);
  }

  /** The batch seqs listed after `after`, every page. */
  async #batchesAfter(after: string): Promise<number[]> {
    const out: number[] = [];
    let next: string | undefined = after;
    while (next) {
      const page = await this.ctx.transport.list(this.#channel, { prefix: "b-", after: next });
      for (const o of page.objects) {
        const seq = parseBatchName(o.name);
        if (seq !== null) out.push(seq);
      }
      next = page.next;
    }
    return [...new Set(out)].sort((a, b) => a - b);
  }

  /**
   * A batch the restore up to `upTo` must judge first that the listing did
   * not show, or null. The sender keeps every batch after its older kept
   * full checkpoint (`oldestCf`) until our ack passed it (docs/protocol.md
   * §6), so one missing there is late to show (a lagging listing, as Drive's
   * does), not gone: restoring past it dropped the proposals it carried
   * (simulation seed 5012077: a job submitted to an owner that had lost
   * `state/`). Waited for like any gap; once that wait asked for a resync,
   * it is given up, as a gap is.
   */
  #unlistedToJudge(seqs: number[], upTo: number, oldestCf: number): number | null {
    const s = this.#state;
    const listed = new Set(seqs);
    const refused = new Set(s.quarantined_names);
    const from = Math.max(s.judged ?? 0, s.cursor, oldestCf);
    for (let seq = from + 1; seq <= upTo; seq++) {
      if (listed.has(seq) || refused.has(batchName(seq))) continue;
      if (s.waiting?.missing === seq && s.waiting.asked) continue;
      return seq;
    }
    return null;
  }

  /**
   * Before restoring up to checkpoint seq `upTo` (the full one or the last
   * incremental after it): the batches after both the ack our state sent
   * (`judged`) and the cursor, up to `upTo`, carry the peer's proposals that
   * nobody judged yet, and a checkpoint holds publications only. They are
   * judged now, their publications left to the checkpoints. Found by the
   * simulation three times: seed 5 (an owner that lost `state/` restoring a
   * full checkpoint, then an incremental after it), seed 30198 (the same,
   * with nothing acked yet) and seed 6003 (an owner waiting on a missing
   * batch restored the resync checkpoint that answered it, past two batches
   * it never read). A batch refused on the way stays refused and is passed
   * over. False when a batch is left part-judged (the proposal budget ran
   * out): next round.
   */
  async #judgeBeforeRestore(seqs: number[], upTo: number): Promise<boolean> {
    const refused = new Set(this.#state.quarantined_names);
    const from = Math.max(this.#state.judged ?? 0, this.#state.cursor);
    for (const seq of seqs) {
      if (seq <= from || seq > upTo || refused.has(batchName(seq))) continue;
      await this.#receiveBatch(batchName(seq), seq, true);
      // Refused now (a batch that is not the peer's: identity_test's copied
      // channel): nothing in it can be trusted, and the checkpoint covers it.
      if (this.#state.quarantined_names.includes(batchName(seq))) continue;
      if ((this.#state.judged ?? 0) < seq) return false;
    }
    return true;
  }

  /**
   * A round that saw batches past the cursor and stopped short of them for no
   * reason the state keeps (a wait, a resume, a resync do keep theirs) marks
   * the channel: the change feed moves past it with this round, and without
   * the mark no later round would read it before the peer wrote again.
   */
  async #noteUnread(): Promise<void> {
    const s = this.#state;
    const kept = s.waiting !== null || s.resume !== null || s.want_cf !== null ||
      s.rolled_back !== null;
    const behind = !kept && this.#work.listedTop > s.cursor;
    if (behind === (s.unread === true)) return;
    const { unread: _, ...rest } = s;
    await this.#save(behind ? { ...rest, unread: true } : rest);
  }

  /** What to read next; the common cases need no look at the checkpoints. */
  async #plan(seqs: number[]): Promise<{ plan: ReadPlan; oldestCf: number | null }> {
    const at = this.#state;
    const fresh = at.cursor === 0 && at.base === null;
    const refused = new Set(at.quarantined_names);
    const next = at.cursor + 1;
    const plain = !fresh && at.want_cf === null;
    if (plain && seqs.includes(next) && !refused.has(batchName(next))) {
      return { plan: { kind: "batches" }, oldestCf: null };
    }
    if (plain && seqs[seqs.length - 1] === at.cursor) {
      return { plan: { kind: "idle" }, oldestCf: null };
    }
    const checkpoints = await this.#listCheckpoints();
    const cf = checkpoints.filter((c) => c.kind === "cf").map((c) => c.seq);
    const plan = planRead({
      batches: seqs,
      ci: checkpoints.filter((c) => c.kind === "ci").map((c) => c.seq),
      cf,
    }, { cursor: at.cursor, fresh, quarantined: refused, wantCf: at.want_cf });
    return { plan, oldestCf: cf[0] ?? null };
  }

  /** Read the listed batches that follow the cursor without a gap. */
  async #readBatches(seqs: number[], morePages: boolean): Promise<Step> {
    const refused = new Set(this.#state.quarantined_names);
    for (const seq of seqs) {
      if (seq <= this.#state.cursor) continue;
      if (seq !== this.#state.cursor + 1 || refused.has(batchName(seq))) break;
      await this.#receiveBatch(batchName(seq), seq);
      if (this.#state.cursor !== seq) return "done"; // refused: wait for the resync
    }
    const w = this.#state.waiting;
    if (w && this.#state.cursor >= w.missing) await this.#save({ ...this.#state, waiting: null });
    if (this.#state.rolled_back) {
      // The channel moved on past where it had been rolled back to.
      await this.#save({ ...this.#state, rolled_back: null });
    }
    // More pages, or a gap inside this one: look again from the new cursor.
    return morePages || this.#state.cursor < (seqs[seqs.length - 1] ?? 0) ? "again" : "done";
  }

  /** The channel was rolled back below our cursor: reported and recorded once, not restored. */
  async #noteRollback(highest: number): Promise<void> {
    this.#work.rollback = highest;
    if (this.#state.rolled_back?.highest === highest) return;
    await this.#save({
      ...this.#state,
      rolled_back: { highest, cursor: this.#state.cursor, at: this.ctx.clock.now() },
    });
  }

  /** A fresh staging folder for one object. */
  #staging(tag: string): string {
    return posix.join(stagingRoot(this.ctx), `${this.keys.peer}-${tag}-${crypto.randomUUID()}`);
  }

  /**
   * An object failed while staged: its staging goes; a bad message refuses
   * the object (anything else stops the round).
   */
  async #failed(staging: string, name: string, err: unknown): Promise<void> {
    await this.ctx.fs.remove(staging, { recursive: true }).catch(() => {});
    if (!(err instanceof SyftError) || err.code !== "E_BAD_MESSAGE") throw err;
    await this.#refuse(name, err.message);
  }

  #scope(planner: Planner, state: ChannelState, now: number): BatchScope {
    return { planner, state, mirrorRoot: this.#mirrorRoot, now, work: this.#work };
  }

  #planner(fetched: Fetched<ObjectKind>, name: string, staging: string): Planner {
    const ref = { ctx: this.ctx, keys: this.keys, channel: this.#channel, name, staging };
    return new Planner(
      this.ctx.fs,
      staging,
      fetched.events,
      blobFetcher(ref, fetched.staged, fetched.events),
    );
  }

  async #journal(seq: number, scope: BatchScope, staging: string): Promise<void> {
    await applyJournaled(
      this.ctx.layout,
      {
        peer: this.keys.peer,
        seq,
        ops: scope.planner.ops,
        after: scope.state,
        staging,
        mirror: this.#mirrorRoot,
      },
      this.ctx.clock,
      this.ctx.written,
    );
  }

  // --- checkpoints ---------------------------------------------------------

  /**
   * Restore from full checkpoint `cf`, then the incrementals after it: the
   * mirror becomes exactly the checkpoint's files (our unproposed edits kept as
   * conflicts), each object through the journal. False when one was refused.
   */
  async #restore(cf: number, cis: number[]): Promise<boolean> {
    // Only an accepted peer publishes checkpoints to us: a cf stands for the
    // peer.accept a collected b-1 carried.
    await this.options.onPeerControls([{ type: "peer.accept" }], cf);
    this.#work.peerControls.push({ type: "peer.accept" });
    const objects: CheckpointRef[] = [
      { kind: "cf", seq: cf },
      ...cis.map((seq) => ({ kind: "ci" as const, seq })),
    ];
    for (const o of objects) {
      if (!await this.#restoreOne(o)) return false;
    }
    return true;
  }

  /** Apply one checkpoint object; false when it was refused. */
  async #restoreOne(o: CheckpointRef): Promise<boolean> {
    const name = checkpointName(o.kind, o.seq);
    const staging = this.#staging(`${o.kind}-${o.seq}`);
    let scope: BatchScope;
    try {
      const cp = await fetchObject(this.#ref(name, o.seq, staging), o.kind);
      const planner = this.#planner(cp, name, staging);
      scope = this.#scope(planner, structuredClone(this.#state), this.ctx.clock.now());
      if (o.kind === "cf") await this.#dropUnlisted(scope, cp.events, o.seq);
      for (const ev of cp.events) await applyPublication(scope, ev);
    } catch (err) {
      await this.#failed(staging, name, err);
      return false;
    }
    Object.assign(scope.state, { resume: null, cursor: o.seq, waiting: null, ack_needed: true });
    await this.#journal(o.seq, scope, staging);
    this.#work.state = scope.state;
    return true;
  }

  /** A full checkpoint lists the whole mirror: what it does not list is deleted. */
  async #dropUnlisted(scope: BatchScope, events: FileChangeEvent[], seq: number): Promise<void> {
    const listed = new Set(events.map((e) => e.path));
    for (const path of Object.keys(scope.state.mirror).sort()) {
      if (listed.has(path)) continue;
      await applyPublication(scope, deletionEvent(this.keys.peer, path, null, scope.now));
    }
    scope.state.base = seq;
    scope.state.want_cf = null;
  }

  #ref(name: string, seq: number, staging: string) {
    return { ctx: this.ctx, keys: this.keys, channel: this.#channel, name, seq, staging };
  }

  /** Every checkpoint in the channel (few: the collector keeps them bounded). */
  async #listCheckpoints(): Promise<{ kind: ObjectKind; seq: number }[]> {
    const out: { kind: ObjectKind; seq: number }[] = [];
    let after: string | undefined;
    do {
      const page = await this.ctx.transport.list(this.#channel, { prefix: "c", after });
      for (const o of page.objects) {
        const parsed = parseSeqName(o.name);
        if (parsed) out.push(parsed);
      }
      after = page.next;
    } while (after);
    return out.sort((a, b) => a.seq - b.seq);
  }

  // --- batches -------------------------------------------------------------

  /**
   * Read batch `seq` and apply it, from the event the previous round stopped at.
   * At most `budget` proposals are judged: the rest of the batch waits for the
   * next round, its position kept in `state.resume` in the same journal entry
   * as the ops, so a crash loses and repeats nothing.
   */
  async #receiveBatch(name: string, seq: number, proposalsOnly = false): Promise<void> {
    const staging = this.#staging(`${seq}`);
    const from = this.#state.resume?.seq === seq ? this.#state.resume.next : 0;
    const batch = await this.#fetchBatch({ name, seq, staging, from });
    if (!batch) return;
    if (from === 0 && this.#work.budget <= 0 && this.#isProposal(batch.events[0])) {
      // Nothing of it can be judged this round: not even its controls are read
      // (they are, with its first events, next round).
      await this.ctx.fs.remove(staging, { recursive: true }).catch(() => {});
      await this.#save({ ...this.#state, resume: { seq, next: 0 } });
      return;
    }
    const accepts = await this.#actOnPeerControls(batch.control, { seq, from });
    const scope = this.#judgeScope(this.#planner(batch, name, staging));
    const refused: Answered[] = [];
    let stop: number | null;
    try {
      if (from === 0) await this.#applyControls(scope, batch, refused);
      const engine = accepts ? await this.options.engine() : null;
      stop = await this.#applyEvents(scope, {
        events: batch.events,
        seq,
        from,
        engine,
        proposalsOnly,
      });
    } catch (err) {
      // A blob the batch references is missing or not what its event says.
      return await this.#failed(staging, name, err);
    }
    const kept = refused.filter((a) => a.kept).map((a) => a.refusal);
    this.#settle(scope, { batch, seq, stop, refused: kept });
    if (proposalsOnly && stop === null) {
      // Its publications are in the checkpoint restored next: only judged, not read past.
      scope.state.cursor = this.#state.cursor;
      scope.state.judged = seq;
    }
    await this.#journal(seq, scope, staging);
    if (this.#work.permissionsChanged) this.options.onPermissionsChanged();
    this.#work.state = scope.state;
    const judgedToEnd = scope.state.cursor >= seq || (scope.state.judged ?? 0) >= seq;
    if (judgedToEnd && accepts && batch.events.some((ev) => this.#isProposal(ev))) {
      this.#work.judgedTop = Math.max(this.#work.judgedTop, seq);
    }
    this.#work.refused.push(...refused.map((a) => a.refusal));
    // Counted when only part of it was read too: the round did receive something.
    this.#work.batches++;
  }

  #isProposal(ev: FileChangeEvent | undefined): boolean {
    return ev !== undefined && ev.datasite !== this.keys.peer;
  }

  /** A batch's scope: a copy of the state to build, and what judging proposals needs. */
  #judgeScope(planner: Planner): JudgeScope {
    const state = structuredClone(this.#state);
    return {
      ...this.#scope(planner, state, this.ctx.clock.now()),
      me: this.ctx.me,
      peer: this.keys.peer,
      ownRoot: ownDatasite(this.ctx),
      quotaBytes: this.ctx.quotaBytes,
      republish: new Set(state.republish),
    };
  }

  /** Fetch and stage a batch; null when it was refused. */
  async #fetchBatch(
    at: { name: string; seq: number; staging: string; from: number },
  ): Promise<Fetched<"batch"> | null> {
    try {
      const batch = await fetchObject(this.#ref(at.name, at.seq, at.staging), "batch");
      if (at.from > batch.events.length) {
        throw new SyftError(
          "E_BAD_MESSAGE",
          `object ${at.name} changed: it has fewer events than read`,
        );
      }
      return batch;
    } catch (err) {
      // Never applied and never skipped: the sender answers with a fresh cf.
      await this.#failed(at.staging, at.name, err);
      return null;
    }
  }

  /**
   * Hand the batch's peer controls to the round before anything is applied
   * (a resumed batch's were acted on when it was started). True when
   * proposals are judged, not only answered.
   */
  async #actOnPeerControls(
    control: Control[],
    at: { seq: number; from: number },
  ): Promise<boolean> {
    const peerControls = control.filter((c) =>
      c.type === "peer.accept" || c.type === "peer.reject" || c.type === "peer.remove"
    );
    if (peerControls.length && at.from === 0) {
      await this.options.onPeerControls(peerControls, at.seq);
      this.#work.peerControls.push(...peerControls);
    }
    return this.options.acceptsProposals ||
      [...this.#work.peerControls, ...peerControls].some((c) => c.type === "peer.accept");
  }

  /** The batch's answers to us: refused proposals kept aside, resyncs asked, acks taken. */
  async #applyControls(
    scope: BatchScope,
    batch: Fetched<"batch">,
    refused: Answered[],
  ): Promise<void> {
    const { state } = scope;
    for (const c of batch.control) {
      if (c.type === "proposal.rejected") {
        const answer = await this.#proposalRefused(scope, c);
        if (answer) refused.push(answer);
      } else if (c.type === "channel.resync") {
        // Answered with a fresh cf after this round's batches. The reader may
        // have lost blobs too: each is checked (and uploaded again if need be).
        state.cf_due = true;
        state.blobs = [];
      }
    }
    const ack = batch.acks[this.ctx.me];
    if (ack !== undefined && ack > state.acked) state.acked = ack;
  }

  /**
   * The peer refused our pending proposal. Our copy, the proposed content or
   * a later edit of ours on top of it (which the same refusal meets), is kept
   * aside as `.rejected` and the mirror returns to the peer's version. With
   * no copy of ours to keep (a refused deletion, or the user since went back
   * to the peer's version) the refusal is still told, and not listed after.
   */
  async #proposalRefused(
    scope: BatchScope,
    c: Extract<Control, { type: "proposal.rejected" }>,
  ): Promise<Answered | null> {
    const { planner, state, mirrorRoot, now } = scope;
    const pending = state.proposed[c.path];
    if (!pending || pending.id !== c.event_id) return null;
    delete state.proposed[c.path];
    const told = { path: c.path, reason: c.reason, detail: c.detail ?? null, at: now };
    const cur = await planner.hash(mirrorRoot, c.path);
    const theirs = state.mirror[c.path]?.hash ?? null;
    if (typeof cur !== "string" || cur === theirs) {
      return { refusal: { ...told, copy: c.path }, kept: false };
    }
    const copy = await freeMarker(scope, c.path, "rejected");
    planner.rename(mirrorRoot, c.path, copy, cur);
    return { refusal: { ...told, copy }, kept: true };
  }

  /**
   * Apply publications and judge proposals from event `from` on; the index
   * the proposal budget ran out at, or null when the batch was read whole.
   */
  async #applyEvents(
    scope: JudgeScope,
    at: {
      events: FileChangeEvent[];
      seq: number;
      from: number;
      engine: PermissionEngine | null;
      /** Publications left out: a checkpoint restored after this batch holds newer ones. */
      proposalsOnly?: boolean;
    },
  ): Promise<number | null> {
    const work = this.#work;
    for (let i = at.from; i < at.events.length; i++) {
      const ev = at.events[i]!;
      if (!this.#isProposal(ev)) {
        if (!at.proposalsOnly) await applyPublication(scope, ev);
        continue;
      }
      // Judged before our state was lost: deciding it again would undo that decision.
      if (at.seq <= (scope.state.judged ?? 0)) continue;
      if (work.budget <= 0) return i;
      work.budget--;
      if (at.engine) await judgeProposal(scope, at.engine, ev);
      else rejectUnaccepted(scope, ev);
    }
    return null;
  }

  /** Record where the batch was read to, in the state its journal entry saves. */
  #settle(
    scope: JudgeScope,
    read: { batch: Fetched<"batch">; seq: number; stop: number | null; refused: Refusal[] },
  ): void {
    const { state } = scope;
    // A Set while judging: a long batch of refusals made `includes` quadratic.
    state.republish = [...scope.republish];
    if (read.refused.length) state.refused = keepRefusals(state.refused ?? [], read.refused);
    if (read.stop === null) {
      state.cursor = read.seq;
      state.resume = null;
    } else state.resume = { seq: read.seq, next: read.stop };
    if (read.batch.events.length > 0 || read.batch.control.length > 0) state.ack_needed = true;
  }

  // --- refusing and waiting ------------------------------------------------

  /** Refuse object `name`: never applied, never read again; the sender is asked for a fresh cf. */
  async #refuse(name: string, reason: string): Promise<void> {
    const { ctx } = this;
    await quarantineRefused(ctx.layout, ctx.transport, {
      channel: this.#channel,
      name,
      reason,
      now: ctx.clock.now(),
      budgetBytes: ctx.quarantineBytes,
    });
    ctx.warn(`quarantined ${name} from ${this.keys.peer}: ${reason}`);
    const missing = this.#state.cursor + 1;
    const state = structuredClone(this.#state);
    state.quarantined_names.push(name);
    const seq = parseSeqName(name)?.seq;
    if (seq !== undefined) state.quarantined.push(seq);
    state.controls.push({ type: "channel.resync", from_seq: missing, reason: "quarantined" });
    // The answer is a cf past both our position and the refused object.
    state.want_cf = Math.max(state.want_cf ?? -1, state.cursor, seq ?? -1);
    state.ack_needed = true;
    state.waiting = { missing, since: ctx.clock.now(), asked: true };
    await this.#save(state);
    this.#work.quarantined++;
  }

  /**
   * The next object is missing (a gap) or refused: wait. After the timeout a gap
   * asks the sender for a fresh full checkpoint, once; a refused object asked
   * when it was refused. A clock that went backwards restarts the wait, never
   * shortens it.
   */
  async #wait(missing: number, why: "gap" | "quarantined"): Promise<void> {
    this.#work.gap = true;
    const now = this.ctx.clock.now();
    let w = this.#state.waiting;
    if (!w || w.missing !== missing || now < w.since) {
      w = { missing, since: now, asked: w?.missing === missing ? w.asked : false };
    }
    if (!w.asked && (why === "quarantined" || now - w.since >= (this.ctx.gapTimeoutMs ?? 60_000))) {
      this.#work.state = {
        ...this.#state,
        controls: [...this.#state.controls, {
          type: "channel.resync",
          from_seq: missing,
          reason: why === "gap" ? `waited for missing ${batchName(missing)}` : "quarantined",
        }],
        ack_needed: true,
      };
      w = { ...w, asked: true };
    }
    if (JSON.stringify(w) !== JSON.stringify(this.#state.waiting)) {
      await this.#save({ ...this.#state, waiting: w });
    }
  }

  // --- after a lost state, and after the round ------------------------------

  /**
   * A state with no record of this channel learns how far an earlier one had
   * judged it: the ack in our own newest batch, or, when the peer's controls
   * were read further (the peer record outlives `state/`), every batch before
   * the one whose controls were acted on. A peer that removed us right after
   * a proposal we applied never got an ack for it: its job came back over the
   * owner's later edits (simulation seed 104351).
   */
  async #recoverJudged(): Promise<void> {
    const s = this.#state;
    if (s.cursor !== 0 || s.base !== null || s.seq_known || s.judged) return;
    const acked = await this.#judgedBefore();
    const judged = Math.max(
      acked,
      (this.options.controlsRead ?? 0) - 1,
      this.options.proposalsRead ?? 0,
    );
    if (judged <= 0) return;
    // Judged but never acked: we may have applied a proposal of those batches
    // and never echoed it (the state that would republish it is lost), so the
    // peer still holds it. Our next publication says what became of each path.
    const held = judged > acked ? await this.#proposedIn(acked, judged) : [];
    await this.#save({ ...s, judged, republish: [...new Set([...s.republish, ...held])] });
  }

  /** The paths the peer proposed in its batches after `after` up to `upTo` that are still there. */
  async #proposedIn(after: number, upTo: number): Promise<string[]> {
    const page = await this.ctx.transport.list(this.#channel, { prefix: "b-", all: true });
    const seqs = page.objects.map((o) => parseBatchName(o.name))
      .filter((n): n is number => n !== null && n > after && n <= upTo).sort((a, b) => a - b);
    const paths = new Set<string>();
    for (const seq of seqs) {
      const staging = this.#staging(`held-${seq}`);
      try {
        const batch = await fetchObject(this.#ref(batchName(seq), seq, staging), "batch");
        for (const ev of batch.events) if (this.#isProposal(ev)) paths.add(ev.path);
      } catch (err) {
        // A batch that is not the peer's is refused when the reader meets it.
        if (!(err instanceof SyftError) || err.code !== "E_BAD_MESSAGE") throw err;
      } finally {
        await this.ctx.fs.remove(staging, { recursive: true }).catch(() => {});
      }
    }
    return [...paths];
  }

  /**
   * How far an earlier state of ours had read the peer's channel, when this
   * one has no record of it (`state/` lost): the ack our own newest batch to the
   * peer carries (0 when there is none). Without it the peer's old proposals
   * were judged again: a received job's files, no longer writable, were
   * rejected, and proposals long since undone applied again.
   */
  async #judgedBefore(): Promise<number> {
    const { ctx, keys } = this;
    const channel: ChannelRef = { sender: ctx.me, recipient: keys.peer };
    const page = await ctx.transport.list(channel, { prefix: "b-", all: true });
    const seqs = page.objects.filter((o) => !o.special).map((o) => parseBatchName(o.name))
      .filter((s): s is number => s !== null).sort((a, b) => b - a);
    // The newest few: one that is not ours (anyone can write the folder) is passed over.
    for (const seq of seqs.slice(0, 3)) {
      try {
        return await this.#ackInOwnBatch(batchName(seq));
      } catch (err) {
        if (err instanceof SyftError && err.code === "E_BAD_MESSAGE") continue;
        throw err;
      }
    }
    return 0;
  }

  /** The ack for the peer our own batch `name` carries (0 when none). */
  async #ackInOwnBatch(name: string): Promise<number> {
    const { ctx, keys } = this;
    const json = await readOwnObject(ctx, keys, name, "batch");
    return parseBatchJson(json, { sender: ctx.me, recipient: keys.peer }).acks[keys.peer] ?? 0;
  }

  /**
   * Identical content is never a conflict: a copy kept aside that holds what the
   * peer published for that path this round (a mirror restored after `state/`
   * was lost replays versions the disk already has) is removed again.
   */
  async #dropIdenticalCopies(): Promise<void> {
    const work = this.#work;
    for (const [copy, c] of work.copies) {
      const final = work.state.mirror[c.path]?.hash;
      if (final !== c.hash && !work.seen.get(c.path)?.has(c.hash)) continue;
      const abs = posix.join(this.#mirrorRoot, copy);
      // Only what is still exactly the kept content (the user may have edited it since).
      if (await regularFileHash(abs, this.ctx.fs) !== c.hash) continue;
      await this.ctx.fs.remove(abs).catch(() => {});
      if (c.counted) work.conflicts--;
    }
  }
}
