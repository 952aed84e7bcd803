/**
 * The reading side of a channel (PROTOCOL.md §7, §8): fetch the peer's batches
 * strictly in seq order, verify and unpack them, then apply publications to
 * the peer's mirror and judge proposals against our permission files as they
 * stood at the start of the batch. Every change goes through the journal.
 * @module
 */
import { posix } from "node:path";
import { hashFile } from "../crypto/agree.ts";
import { blobId } from "../crypto/agree.ts";
import { openEnvelope } from "../events/envelope.ts";
import { parseBatchJson } from "../events/parse.ts";
import { unpackBody } from "../events/body.ts";
import {
  type BatchJson,
  batchName,
  blobName,
  type Control,
  type FileChangeEvent,
  parseBatchName,
} from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import type { PermissionEngine } from "../permissions/mod.ts";
import type { ChannelRef } from "../../plugins/contract.ts";
import { ownDatasite, type PeerKeys, stagingRoot, type SyncContext } from "./context.ts";
import { applyJournaled, type JournalOp } from "./journal.ts";
import { regularFileHash } from "./scan.ts";
import { quarantineObject } from "./quarantine.ts";
import type { ChannelState } from "./state.ts";

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

async function fetchBatch(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  name: string,
  seq: number,
  staging: string,
): Promise<BatchJson> {
  const stream = await ctx.transport.get(channel, name);
  const opened = await openEnvelope(
    stream,
    { name, sender: channel.sender, recipient: channel.recipient, kind: "batch" },
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
  const json = await unpackBody(opened.body, {
    first: "batch.json",
    onContent: async (hash, bytes) => {
      await Deno.writeFile(posix.join(staging, hash), bytes);
    },
  });
  const batch = parseBatchJson(json, { sender: channel.sender, recipient: channel.recipient });
  if (batch.seq !== seq) {
    throw new SyftError(
      "E_BAD_MESSAGE",
      `object ${name}: batch.json seq ${batch.seq} is not ${seq}`,
    );
  }
  // Blobs: fetched, decrypted and hash-checked into staging before anything is applied.
  for (const ev of batch.events) {
    if (ev.content !== "blob" || ev.new_hash === null) continue;
    const target = posix.join(staging, ev.new_hash);
    if (await Deno.lstat(target).then(() => true, () => false)) continue;
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
    const file = await Deno.open(temp, { write: true, create: true, truncate: true });
    await opened.body.pipeTo(file.writable);
    const { hash } = await hashFile(temp);
    if (hash !== ev.new_hash) {
      throw new SyftError(
        "E_BAD_MESSAGE",
        `blob ${blob}: content hash does not match event ${ev.id}`,
      );
    }
    await Deno.rename(temp, target);
  }
  for (const ev of batch.events) {
    if (ev.new_hash === null) continue;
    const staged = await Deno.lstat(posix.join(staging, ev.new_hash)).catch(() => null);
    if (!staged) {
      throw new SyftError(
        "E_BAD_MESSAGE",
        `object ${name}: inline content for ${ev.path} is missing`,
      );
    }
    // The hash pins the bytes, not the claimed size, and the size is what the
    // inbox quota counts: a size that lies about its content refuses the batch.
    if (staged.size !== ev.size) {
      throw new SyftError(
        "E_BAD_MESSAGE",
        `object ${name}: ${ev.path} claims size ${ev.size} but its content is ${staged.size} bytes`,
      );
    }
  }
  return batch;
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
  constructor(readonly staging: string) {}

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

  /** Each write gets its own staged link, so one content can land at several paths. */
  async write(root: string, rel: string, hash: string, mode: "file" | "exec"): Promise<void> {
    const staged = posix.join(this.staging, `op-${this.#n++}`);
    await Deno.link(posix.join(this.staging, hash), staged);
    this.ops.push({ op: "write", root, rel, staged, hash, mode });
    this.#view.set(this.key(root, rel), hash);
    this.#needDirs(root, rel);
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

/** Read every new batch of `keys.peer`'s channel to us, in order, applying each. */
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
  };
  let after: string | undefined = batchName(initial.cursor);
  for (;;) {
    const page = await ctx.transport.list(channel, { prefix: "b-", after });
    for (const obj of page.objects) {
      const seq = parseBatchName(obj.name);
      if (seq === null || seq <= result.state.cursor) continue;
      if (seq !== result.state.cursor + 1) {
        result.gap = true;
        return result;
      }
      await receiveOne(ctx, keys, channel, obj.name, seq, result, options);
    }
    if (!page.next) break;
    after = page.next;
  }
  return result;
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
    batch = await fetchBatch(ctx, keys, channel, name, seq, staging);
  } catch (err) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    if (!(err instanceof SyftError) || err.code !== "E_BAD_MESSAGE") throw err;
    await quarantineObject(ctx.layout, ctx.transport, channel, name, err.message, ctx.now());
    ctx.warn(`quarantined ${name} from ${keys.peer}: ${err.message}`);
    // Never applied; the sender is asked for a fresh full state instead.
    const state = structuredClone(result.state);
    state.cursor = seq;
    state.quarantined.push(seq);
    state.controls.push({ type: "channel.resync", from_seq: seq, reason: "quarantined" });
    await applyJournaled(ctx.layout, {
      peer: keys.peer,
      seq,
      ops: [],
      after: state,
      staging: null,
    });
    result.state = state;
    result.quarantined++;
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
    peerControls.some((c) => c.type === "peer.accept");

  const state = structuredClone(result.state);
  const planner = new Planner(staging);
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
      state.published = {};
      // The reader may have lost blobs too (deleted from the channel): upload
      // again; a blob still there is reused after its header verifies as ours.
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
      current_hash: typeof cur === "string" ? cur : null,
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
