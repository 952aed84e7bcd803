/**
 * The reading side of a channel (PROTOCOL.md §7, §8): fetch the peer's batches
 * strictly in seq order, verify and unpack them, then apply publications to
 * the peer's mirror and judge proposals against our permission files as they
 * stood at the start of the batch. Every change goes through the journal.
 * @module
 */
import { posix } from "node:path";
import { writeHashed } from "../crypto/agree.ts";
import { blobId } from "../crypto/agree.ts";
import { openEnvelope } from "../events/envelope.ts";
import { parseBatchJson, parseCheckpointJson } from "../events/parse.ts";
import { deletionEvent } from "../events/make.ts";
import { unpackBody } from "../events/body.ts";
import {
  type BatchJson,
  batchName,
  blobName,
  type CheckpointJson,
  checkpointName,
  type Control,
  type FileChangeEvent,
  parseBatchName,
  parseSeqName,
} from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import type { PermissionEngine } from "../permissions/mod.ts";
import type { ChannelRef } from "../../plugins/contract.ts";
import { ownDatasite, type PeerKeys, stagingRoot, type SyncContext } from "./context.ts";
import { applyJournaled, type JournalOp } from "./journal.ts";
import { regularFileHash } from "./scan.ts";
import { quarantineObject } from "./quarantine.ts";
import { type ChannelState, saveChannelState } from "./state.ts";
import { CHECKPOINT_MAX_ENTRIES } from "./checkpoint_out.ts";
import { planRead, type ReadPlan } from "../checkpoints/read_plan.ts";

/** What reading one peer's channel did. */
export interface ReceiveResult {
  state: ChannelState;
  batches: number;
  applied: number;
  rejected: number;
  conflicts: number;
  quarantined: number;
  /** Control records that change the peer relationship (accept, reject, remove). */
  peerControls: Control[];
  /** A permission file of ours changed: reload the engine. */
  permissionsChanged: boolean;
  /** A gap in seq was seen (waiting for the missing batch). */
  gap: boolean;
  /** The channel was rolled back below our cursor: its highest batch (reported, not restored). */
  rollback: number | null;
}

/** How the round lets the receiver see the peer relationship. */
export interface ReceiveOptions {
  /** Proposals (events on our datasite) are judged only for accepted peers. */
  acceptsProposals: boolean;
  /** Called after a batch's controls are known, before it is applied (peer.accept...). */
  onPeerControls(controls: Control[]): Promise<void>;
  /** The engine as of now (the start of the next batch). */
  engine(): Promise<PermissionEngine>;
  /** A batch applied a proposal to one of our permission files. */
  onPermissionsChanged(): void;
}

const PERMISSION_FILE_SUFFIX = "syft.pub.yaml";

function markerName(rel: string, kind: "rejected" | "conflict", now: number): string {
  return `${rel}.${kind}.${now}`;
}

/** Current hash of a datasite file, null when absent; a non-regular file is "special". */

/** A checkpoint's body, reporting its bytes as they are read (a restore can be large). */
function withProgress(
  ctx: SyncContext,
  name: string,
  opened: { header: { sender: string; size: number }; body: ReadableStream<Uint8Array> },
): ReadableStream<Uint8Array> {
  const progress = ctx.progress;
  if (!progress) return opened.body;
  const label = `restoring ${opened.header.sender} from ${name}`;
  const total = opened.header.size;
  let done = 0;
  progress(label, 0, total);
  return opened.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        done += chunk.length;
        progress(label, Math.min(done, total), total);
        controller.enqueue(chunk);
      },
      flush() {
        if (done < total) progress(label, total, total);
      },
    }),
  );
}

/** Open object `name` (a batch, or a checkpoint of `kind`) and stage its contents. */
async function fetchObject<K extends "batch" | "ci" | "cf">(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  name: string,
  seq: number,
  staging: string,
  kind: K,
): Promise<K extends "batch" ? BatchJson : CheckpointJson> {
  const stream = await ctx.transport.get(channel, name);
  const opened = await openEnvelope(
    stream,
    { name, sender: channel.sender, recipient: channel.recipient, kind },
    {
      senderSignPublic: keys.signPublic,
      agreePrivate: ctx.keys.agree.privateKey,
      senderAgreePublic: keys.agreePublic,
    },
  );
  if (opened.header.seq !== seq) {
    throw new SyftError(
      "E_BAD_MESSAGE",
      `object ${name}: header seq ${opened.header.seq} is not ${seq}`,
    );
  }
  await Deno.mkdir(staging, { recursive: true });
  // Staged sizes, so the checks below need no lstat per event.
  const sizes = new Map<string, number>();
  const json = await unpackBody(kind === "batch" ? opened.body : withProgress(ctx, name, opened), {
    first: kind === "batch" ? "batch.json" : "checkpoint.json",
    ...(kind === "batch" ? {} : { maxEntries: CHECKPOINT_MAX_ENTRIES }),
    onContent: (hash, bytes) => {
      // Synchronous: a small file's asynchronous write costs more in round trips than in writing.
      // createNew: the folder is this batch's own, and the reader refuses duplicate hashes.
      Deno.writeFileSync(posix.join(staging, hash), bytes, { createNew: true });
      sizes.set(hash, bytes.byteLength);
      return Promise.resolve();
    },
  });
  const parties = { sender: channel.sender, recipient: channel.recipient };
  const batch = kind === "batch"
    ? parseBatchJson(json, parties)
    : parseCheckpointJson(json, { ...parties, kind: kind as "ci" | "cf" });
  if (batch.seq !== seq) {
    throw new SyftError(
      "E_BAD_MESSAGE",
      `object ${name}: its JSON says seq ${batch.seq}, not ${seq}`,
    );
  }
  // Blobs: fetched, decrypted and hash-checked into staging before anything is applied.
  for (const ev of batch.events) {
    if (ev.content !== "blob" || ev.new_hash === null) continue;
    const target = posix.join(staging, ev.new_hash);
    if (sizes.has(ev.new_hash)) continue;
    const blob = blobName(await blobId(keys.blobKeyIn, ev.new_hash));
    const opened = await openEnvelope(
      await getBlob(ctx, channel, blob, name),
      { name: blob, sender: channel.sender, recipient: channel.recipient, kind: "blob" },
      {
        senderSignPublic: keys.signPublic,
        agreePrivate: ctx.keys.agree.privateKey,
        senderAgreePublic: keys.agreePublic,
      },
    );
    const temp = `${target}.part`;
    const { hash, size } = await writeHashed(opened.body, temp);
    if (hash !== ev.new_hash) {
      throw new SyftError(
        "E_BAD_MESSAGE",
        `blob ${blob}: content hash does not match event ${ev.id}`,
      );
    }
    await Deno.rename(temp, target);
    sizes.set(ev.new_hash, size);
  }
  for (const ev of batch.events) {
    if (ev.new_hash === null) continue;
    const stagedSize = sizes.get(ev.new_hash);
    if (stagedSize === undefined) {
      throw new SyftError(
        "E_BAD_MESSAGE",
        `object ${name}: inline content for ${ev.path} is missing`,
      );
    }
    // The hash pins the bytes, not the claimed size, and the size is what the
    // inbox quota counts: a size that lies about its content refuses the batch.
    if (stagedSize !== ev.size) {
      throw new SyftError(
        "E_BAD_MESSAGE",
        `object ${name}: ${ev.path} claims size ${ev.size} but its content is ${stagedSize} bytes`,
      );
    }
  }
  return batch as K extends "batch" ? BatchJson : CheckpointJson;
}

/**
 * A blob a batch references. Blobs are uploaded before the batch that needs
 * them (PROTOCOL.md §4.3), so one that is not in the channel makes the batch
 * bad (quarantined, then resynced) instead of failing every round forever; any
 * other transport failure still stops the round.
 */
async function getBlob(
  ctx: SyncContext,
  channel: ChannelRef,
  blob: string,
  batch: string,
): Promise<ReadableStream<Uint8Array>> {
  try {
    return await ctx.transport.get(channel, blob);
  } catch (err) {
    if (!(err instanceof SyftError) || err.code !== "E_TRANSPORT") throw err;
    const page = await ctx.transport.list(channel, { prefix: blob, limit: 1 });
    if (page.objects.some((o) => o.name === blob)) throw err;
    throw new SyftError(
      "E_BAD_MESSAGE",
      `object ${batch}: blob ${blob} it references is missing from the channel`,
    );
  }
}

/**
 * Plan the ops of one batch. `view` overlays planned changes on the disk so
 * several events on one path in a batch see each other.
 */
class Planner {
  ops: JournalOp[] = [];
  #view = new Map<string, string | null>();
  /** Folders that planned writes need. */
  #dirs = new Set<string>();
  /** Whether a path is something other than a folder on disk (cache; disk is fixed while planning). */
  #notDir = new Map<string, boolean>();
  #n = 0;
  /** How many events of the object may write each content: a content written once moves, not links. */
  readonly #uses = new Map<string, number>();

  constructor(readonly staging: string, events: readonly FileChangeEvent[] = []) {
    for (const ev of events) {
      if (ev.new_hash !== null) this.#uses.set(ev.new_hash, (this.#uses.get(ev.new_hash) ?? 0) + 1);
    }
  }

  key(root: string, rel: string): string {
    return `${root}\0${rel}`;
  }

  /**
   * A path under a file (on disk or planned), or a file path that planned
   * writes need as a folder, is "special" like a symlink: the event becomes a
   * conflict or an invalid proposal. Planned as an op, it would fail inside
   * the journal, and a failing journal entry is retried, and fails, at the
   * start of every later round: one such event (a hostile peer's, or a file
   * replaced by a folder of the same name) wedged the receiver for good.
   */
  async hash(root: string, rel: string): Promise<string | null | "special"> {
    const k = this.key(root, rel);
    if (this.#dirs.has(k) || await this.#underFile(root, rel)) return "special";
    return this.#view.has(k) ? this.#view.get(k)! : await regularFileHash(posix.join(root, rel));
  }

  async #underFile(root: string, rel: string): Promise<boolean> {
    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      const k = this.key(root, prefix);
      if (this.#view.has(k)) {
        if (this.#view.get(k) !== null) return true; // a file planned there
        continue; // planned away: free once that op ran
      }
      if (this.#dirs.has(k)) continue;
      let notDir = this.#notDir.get(k);
      if (notDir === undefined) {
        const info = await Deno.lstat(posix.join(root, prefix)).catch(() => undefined);
        notDir = info !== undefined && !info.isDirectory;
        this.#notDir.set(k, notDir);
      }
      if (notDir) return true;
    }
    return false;
  }

  #needDirs(root: string, rel: string): void {
    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) {
      this.#dirs.add(this.key(root, parts.slice(0, i).join("/")));
    }
  }

  /**
   * A content that only this write can use is renamed into place as staged;
   * one that several events may write gets a staged copy per write. Not a hard
   * link: paths that share an inode change together when the user edits one
   * of them in place.
   */
  write(root: string, rel: string, hash: string, mode: "file" | "exec"): Promise<void> {
    let staged = posix.join(this.staging, hash);
    if ((this.#uses.get(hash) ?? 0) !== 1) {
      staged = posix.join(this.staging, `op-${this.#n++}`);
      Deno.copyFileSync(posix.join(this.staging, hash), staged);
    }
    this.ops.push({ op: "write", root, rel, staged, hash, mode });
    this.#view.set(this.key(root, rel), hash);
    this.#needDirs(root, rel);
    return Promise.resolve();
  }

  remove(root: string, rel: string, hash: string | null): void {
    this.ops.push({ op: "delete", root, rel, hash });
    this.#view.set(this.key(root, rel), null);
  }

  rename(root: string, rel: string, to: string, hash: string): void {
    this.ops.push({ op: "rename", root, rel, to, hash });
    this.#view.set(this.key(root, rel), null);
    this.#view.set(this.key(root, to), hash);
    this.#needDirs(root, to);
  }
}

/** Read every new object of `keys.peer`'s channel to us, in order, applying each. */
export async function receiveFrom(
  ctx: SyncContext,
  keys: PeerKeys,
  initial: ChannelState,
  options: ReceiveOptions,
): Promise<ReceiveResult> {
  const channel: ChannelRef = { sender: keys.peer, recipient: ctx.me };
  const result: ReceiveResult = {
    state: initial,
    batches: 0,
    applied: 0,
    rejected: 0,
    conflicts: 0,
    quarantined: 0,
    peerControls: [],
    permissionsChanged: false,
    gap: false,
    rollback: null,
  };
  for (let guard = 0; guard < 1_000_000; guard++) {
    const at = result.state;
    const fresh = at.cursor === 0 && at.base === null;
    const refused = new Set(at.quarantined_names);
    const next = at.cursor + 1;
    // From the cursor's own batch on: its absence tells a rollback (one call either way).
    const page = await ctx.transport.list(channel, {
      prefix: "b-",
      after: at.cursor > 0 ? batchName(at.cursor - 1) : undefined,
    });
    const seqs = page.objects.map((o) => parseBatchName(o.name)).filter((n): n is number =>
      n !== null
    );
    // The common cases need no look at the checkpoints.
    const plain = !fresh && at.want_cf === null;
    let plan: ReadPlan;
    if (plain && seqs.includes(next) && !refused.has(batchName(next))) plan = { kind: "batches" };
    else if (plain && seqs[seqs.length - 1] === at.cursor) plan = { kind: "idle" };
    else {
      const checkpoints = await listAll(ctx, channel, "c");
      plan = planRead({
        batches: seqs,
        ci: checkpoints.filter((c) => c.kind === "ci").map((c) => c.seq),
        cf: checkpoints.filter((c) => c.kind === "cf").map((c) => c.seq),
      }, { cursor: at.cursor, fresh, quarantined: refused, wantCf: at.want_cf });
    }
    switch (plan.kind) {
      case "batches": {
        for (const seq of seqs) {
          if (seq <= result.state.cursor) continue;
          if (seq !== result.state.cursor + 1 || refused.has(batchName(seq))) break;
          await receiveOne(ctx, keys, channel, batchName(seq), seq, result, options);
          if (result.state.cursor !== seq) return result; // refused: wait for the resync
        }
        const w = result.state.waiting;
        if (w && result.state.cursor >= w.missing) await saveWaiting(ctx, result, null);
        if (result.state.rolled_back) {
          // The channel moved on past where it had been rolled back to.
          result.state = { ...result.state, rolled_back: null };
          await saveChannelState(ctx.layout, result.state);
        }
        // More pages, or a gap inside this one: look again from the new cursor.
        if (page.next || result.state.cursor < (seqs[seqs.length - 1] ?? 0)) continue;
        return result;
      }
      case "restore":
        if (!await restore(ctx, keys, channel, plan.cf, plan.ci, result, options)) return result;
        continue;
      case "wait":
        await wait(ctx, result, plan.missing, plan.why);
        return result;
      case "rollback":
        result.rollback = plan.highest;
        if (result.state.rolled_back?.highest !== plan.highest) {
          result.state = {
            ...result.state,
            rolled_back: { highest: plan.highest, cursor: result.state.cursor, at: ctx.now() },
          };
          await saveChannelState(ctx.layout, result.state);
        }
        return result;
      case "idle":
        return result;
    }
  }
  return result;
}

/** Every checkpoint in a channel (few: the collector keeps them bounded). */
async function listAll(
  ctx: SyncContext,
  channel: ChannelRef,
  prefix: string,
): Promise<{ kind: "batch" | "ci" | "cf"; seq: number }[]> {
  const out: { kind: "batch" | "ci" | "cf"; seq: number }[] = [];
  let after: string | undefined;
  do {
    const page = await ctx.transport.list(channel, { prefix, after });
    for (const o of page.objects) {
      const parsed = parseSeqName(o.name);
      if (parsed) out.push(parsed);
    }
    after = page.next;
  } while (after);
  return out.sort((a, b) => a.seq - b.seq);
}

async function saveWaiting(
  ctx: SyncContext,
  result: ReceiveResult,
  waiting: ChannelState["waiting"],
): Promise<void> {
  result.state = { ...result.state, waiting };
  await saveChannelState(ctx.layout, result.state);
}

/**
 * The next object is missing (a gap) or refused: wait. After the timeout a gap
 * asks the sender for a fresh full checkpoint, once; a refused object asked
 * when it was refused. A clock that went backwards restarts the wait, never
 * shortens it.
 */
async function wait(
  ctx: SyncContext,
  result: ReceiveResult,
  missing: number,
  why: "gap" | "quarantined",
): Promise<void> {
  result.gap = true;
  const now = ctx.now();
  let w = result.state.waiting;
  if (!w || w.missing !== missing || now < w.since) {
    w = { missing, since: now, asked: w?.missing === missing ? w.asked : false };
  }
  if (!w.asked && (why === "quarantined" || now - w.since >= (ctx.gapTimeoutMs ?? 60_000))) {
    result.state = {
      ...result.state,
      controls: [...result.state.controls, {
        type: "channel.resync",
        from_seq: missing,
        reason: why === "gap" ? `waited for missing ${batchName(missing)}` : "quarantined",
      }],
      ack_needed: true,
    };
    w = { ...w, asked: true };
  }
  if (JSON.stringify(w) !== JSON.stringify(result.state.waiting)) await saveWaiting(ctx, result, w);
}

/** Refuse object `name`: never applied, never read again; the sender is asked for a fresh cf. */
async function refuse(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  name: string,
  reason: string,
  result: ReceiveResult,
): Promise<void> {
  await quarantineObject(ctx.layout, ctx.transport, channel, name, reason, ctx.now());
  ctx.warn(`quarantined ${name} from ${keys.peer}: ${reason}`);
  const missing = result.state.cursor + 1;
  const state = structuredClone(result.state);
  state.quarantined_names.push(name);
  const seq = parseSeqName(name)?.seq;
  if (seq !== undefined) state.quarantined.push(seq);
  state.controls.push({ type: "channel.resync", from_seq: missing, reason: "quarantined" });
  // The answer is a cf past both our position and the refused object.
  state.want_cf = Math.max(state.want_cf ?? -1, state.cursor, seq ?? -1);
  state.ack_needed = true;
  state.waiting = { missing, since: ctx.now(), asked: true };
  await saveChannelState(ctx.layout, state);
  result.state = state;
  result.quarantined++;
}

/**
 * Restore from full checkpoint `cf`, then the incrementals after it: the
 * mirror becomes exactly the checkpoint's files (our unproposed edits kept as
 * conflicts), each object through the journal. False when one was refused.
 */
async function restore(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  cf: number,
  cis: number[],
  result: ReceiveResult,
  options: ReceiveOptions,
): Promise<boolean> {
  const objects = [
    { kind: "cf" as const, seq: cf },
    ...cis.map((seq) => ({ kind: "ci" as const, seq })),
  ];
  // Only an accepted peer publishes checkpoints to us: a cf stands for the
  // peer.accept a collected b-1 carried.
  await options.onPeerControls([{ type: "peer.accept" }]);
  result.peerControls.push({ type: "peer.accept" });
  for (const o of objects) {
    const name = checkpointName(o.kind, o.seq);
    const staging = posix.join(
      stagingRoot(ctx),
      `${keys.peer}-${o.kind}-${o.seq}-${crypto.randomUUID()}`,
    );
    let cp: CheckpointJson;
    try {
      cp = await fetchObject(ctx, keys, channel, name, o.seq, staging, o.kind);
    } catch (err) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      if (!(err instanceof SyftError) || err.code !== "E_BAD_MESSAGE") throw err;
      await refuse(ctx, keys, channel, name, err.message, result);
      return false;
    }
    const state = structuredClone(result.state);
    const planner = new Planner(staging, cp.events);
    const mirrorRoot = posix.join(ctx.root, keys.peer);
    const now = ctx.now();
    if (o.kind === "cf") {
      const listed = new Set(cp.events.map((e) => e.path));
      for (const path of Object.keys(state.mirror).sort()) {
        if (listed.has(path)) continue;
        await applyPublication(
          planner,
          state,
          mirrorRoot,
          deletionEvent(keys.peer, path, null, now),
          now,
          result,
        );
      }
      state.base = o.seq;
      state.want_cf = null;
    }
    for (const ev of cp.events) await applyPublication(planner, state, mirrorRoot, ev, now, result);
    state.cursor = o.seq;
    state.waiting = null;
    state.ack_needed = true;
    await applyJournaled(ctx.layout, {
      peer: keys.peer,
      seq: o.seq,
      ops: planner.ops,
      after: state,
      staging,
      mirror: mirrorRoot,
    });
    result.state = state;
  }
  return true;
}

async function receiveOne(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  name: string,
  seq: number,
  result: ReceiveResult,
  options: ReceiveOptions,
): Promise<void> {
  const staging = posix.join(stagingRoot(ctx), `${keys.peer}-${seq}-${crypto.randomUUID()}`);
  let batch: BatchJson;
  try {
    batch = await fetchObject(ctx, keys, channel, name, seq, staging, "batch");
  } catch (err) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    if (!(err instanceof SyftError) || err.code !== "E_BAD_MESSAGE") throw err;
    // Never applied and never skipped: the sender answers with a fresh cf.
    await refuse(ctx, keys, channel, name, err.message, result);
    return;
  }

  const peerControls = batch.control.filter((c) =>
    c.type === "peer.accept" || c.type === "peer.reject" || c.type === "peer.remove"
  );
  if (peerControls.length) {
    await options.onPeerControls(peerControls);
    result.peerControls.push(...peerControls);
  }
  const acceptsProposals = options.acceptsProposals ||
    [...result.peerControls, ...peerControls].some((c) => c.type === "peer.accept");

  const state = structuredClone(result.state);
  const planner = new Planner(staging, batch.events);
  const mirrorRoot = posix.join(ctx.root, keys.peer);
  const ownRoot = ownDatasite(ctx);
  const now = ctx.now();

  for (const c of batch.control) {
    if (c.type === "proposal.rejected") {
      const pending = state.proposed[c.path];
      if (pending && pending.id === c.event_id) {
        const cur = await planner.hash(mirrorRoot, c.path);
        if (typeof cur === "string" && cur === pending.new_hash) {
          planner.rename(mirrorRoot, c.path, markerName(c.path, "rejected", now), cur);
        }
        delete state.proposed[c.path];
      }
    } else if (c.type === "channel.resync") {
      // Answered with a fresh cf after this round's batches. The reader may
      // have lost blobs too: each is checked (and uploaded again if need be).
      state.cf_due = true;
      state.blobs = [];
    }
  }
  const ack = batch.acks[ctx.me];
  if (ack !== undefined && ack > state.acked) state.acked = ack;

  const engine = acceptsProposals ? await options.engine() : null;
  for (const ev of batch.events) {
    if (ev.datasite === keys.peer) {
      await applyPublication(planner, state, mirrorRoot, ev, now, result);
    } else if (engine) {
      await judgeProposal(ctx, planner, state, engine, ownRoot, ev, keys.peer, result);
    } else {
      // Not accepted yet: a proposal is answered, never applied.
      state.controls.push({
        type: "proposal.rejected",
        event_id: ev.id,
        path: ev.path,
        reason: "permission",
        current_hash: null,
      });
      result.rejected++;
    }
  }
  state.cursor = seq;
  if (batch.events.length > 0 || batch.control.length > 0) state.ack_needed = true;
  await applyJournaled(ctx.layout, {
    peer: keys.peer,
    seq,
    ops: planner.ops,
    after: state,
    staging,
    mirror: mirrorRoot,
  });
  if (result.permissionsChanged) options.onPermissionsChanged();
  result.state = state;
  result.batches++;
}

async function applyPublication(
  planner: Planner,
  state: ChannelState,
  mirrorRoot: string,
  ev: FileChangeEvent,
  now: number,
  result: ReceiveResult,
): Promise<void> {
  const known = state.mirror[ev.path];
  const cur = await planner.hash(mirrorRoot, ev.path);
  const pending = state.proposed[ev.path];
  if (cur === "special") {
    result.conflicts++;
    return; // a symlink or folder where a file should be: leave it, never write through it
  }
  // Our copy differs from what the owner last published: an edit not yet answered.
  const localEdit = cur !== null && cur !== (known?.hash ?? null) && cur !== ev.new_hash;
  if (localEdit && !(pending && pending.new_hash === cur && ev.new_hash === cur)) {
    planner.rename(mirrorRoot, ev.path, markerName(ev.path, "conflict", now), cur);
    if (!pending || pending.new_hash !== cur) result.conflicts++;
  }
  if (ev.deleted) {
    if (cur !== null && !localEdit) planner.remove(mirrorRoot, ev.path, cur);
    delete state.mirror[ev.path];
  } else if (ev.new_hash !== null) {
    if (cur !== ev.new_hash || localEdit) {
      await planner.write(mirrorRoot, ev.path, ev.new_hash, ev.mode);
    }
    state.mirror[ev.path] = { hash: ev.new_hash, size: ev.size, mtime: 0, mode: ev.mode };
  }
  if (pending && (pending.new_hash === ev.new_hash || localEdit)) delete state.proposed[ev.path];
  result.applied++;
}

async function judgeProposal(
  ctx: SyncContext,
  planner: Planner,
  state: ChannelState,
  engine: PermissionEngine,
  ownRoot: string,
  ev: FileChangeEvent,
  peer: string,
  result: ReceiveResult,
): Promise<void> {
  const cur = await planner.hash(ownRoot, ev.path);
  const reject = (reason: "permission" | "conflict" | "invalid" | "quota") => {
    state.controls.push({
      type: "proposal.rejected",
      event_id: ev.id,
      path: ev.path,
      reason,
      // "special" (a folder or symlink there) is no hash: the wire says null.
      current_hash: cur === "special" ? null : cur,
    });
    if (!state.republish.includes(ev.path)) state.republish.push(ev.path);
    result.rejected++;
  };
  // The sender is the channel's sender, never a name inside the message.
  if (!engine.allows(ctx.me, ev.path, peer, "write")) return reject("permission");
  if (cur === "special") return reject("invalid");
  if (cur === ev.new_hash) return; // replay after a crash: already applied
  if (cur !== ev.old_hash) return reject("conflict");
  if (!ev.deleted && state.quota_used + ev.size > ctx.quotaBytes) return reject("quota");
  if (ev.deleted) planner.remove(ownRoot, ev.path, cur);
  else {
    await planner.write(ownRoot, ev.path, ev.new_hash!, ev.mode);
    state.quota_used += ev.size;
  }
  if (ev.path === PERMISSION_FILE_SUFFIX || ev.path.endsWith(`/${PERMISSION_FILE_SUFFIX}`)) {
    result.permissionsChanged = true;
  }
  result.applied++;
}
