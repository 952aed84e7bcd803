/**
 * The reading side of a channel (docs/protocol.md §7, §8): fetch the peer's batches
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
  type RejectReason,
} from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import type { PermissionEngine } from "../permissions/mod.ts";
import type { ChannelRef } from "../transport/contract.ts";
import { ownDatasite, type PeerKeys, stagingRoot, type SyncContext } from "./context.ts";
import { applyJournaled, type JournalOp } from "./journal.ts";
import { regularFileHash } from "./scan.ts";
import { caseFoldKey } from "../paths/case.ts";
import {
  freeMarkerName,
  isPermissionFile,
  MARKER_MAX_SUFFIX,
  type MarkerKind,
  markerName,
} from "../datasite/names.ts";
import { keepRefusals, ownerDetail, type Refusal } from "./refusals.ts";
import { quarantineObject } from "./quarantine.ts";
import { type ChannelState, saveChannelState } from "./state.ts";
import { ownOpenKeys } from "./outgoing.ts";
import { CHECKPOINT_MAX_ENTRIES } from "./checkpoint_out.ts";
import { planRead, type ReadPlan } from "../checkpoints/read_plan.ts";
import type { LocalFs } from "../fs/local_fs.ts";

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
  /** The first few paths applied (mirror or datasite), for the round's report. */
  paths: string[];
  /** Our writes the peer refused this round, each kept as a `.rejected` copy. */
  refused: Refusal[];
  /** The peer's writes to our datasite we refused this round, and why. */
  rejections: Rejection[];
}

/** A write of the peer's we refused. */
export interface Rejection {
  path: string;
  reason: RejectReason;
  detail: string;
}

/** A round's reading, with what it needs beyond the result. */
type Work = ReceiveResult & {
  /** Proposals still to judge this round. */
  budget: number;
  /** Conflict copies made this round: copy path → the path and its content. */
  copies: Map<string, { path: string; hash: string; counted: boolean }>;
  /** Contents the peer published this round, per path. */
  seen: Map<string, Set<string>>;
};

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

/** Proposals judged per peer and round when the context sets no limit (config `sync.max_proposals`). */
export const DEFAULT_MAX_PROPOSALS = 10_000;

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
): Promise<Fetched<K>> {
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
  await ctx.fs.mkdir(staging, { recursive: true });
  // Staged sizes, so the checks below need no lstat per event.
  const sizes = new Map<string, number>();
  const json = await unpackBody(kind === "batch" ? opened.body : withProgress(ctx, name, opened), {
    first: kind === "batch" ? "batch.json" : "checkpoint.json",
    ...(kind === "batch" ? {} : { maxEntries: CHECKPOINT_MAX_ENTRIES }),
    onContent: (hash, bytes) => {
      // Synchronous: a small file's asynchronous write costs more in round trips than in writing.
      // createNew: the folder is this batch's own, and the reader refuses duplicate hashes.
      ctx.fs.writeFileSync(posix.join(staging, hash), bytes, { createNew: true });
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
  // Blobs are fetched later, only for the events that are applied (see
  // blobFetcher): a proposal refused from its metadata costs no blob bytes.
  for (const ev of batch.events) {
    if (ev.new_hash === null) continue;
    const stagedSize = sizes.get(ev.new_hash);
    if (stagedSize === undefined) {
      if (ev.content === "blob") continue;
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
  return { ...batch, staged: sizes } as unknown as Fetched<K>;
}

/** A parsed object and the sizes of the contents it carried inline (staged by hash). */
type Fetched<K extends "batch" | "ci" | "cf"> = (K extends "batch" ? BatchJson : CheckpointJson) & {
  staged: Map<string, number>;
};

/**
 * Fetches a blob into staging the first time a planned write needs it: bytes
 * are spent only on content that will be written. Its envelope's size is
 * checked against the event's before the body is read, and its hash after.
 */
function blobFetcher(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  object: string,
  staging: string,
  staged: Map<string, number>,
): (hash: string, size: number, event: string) => Promise<void> {
  return async (hash, size, event) => {
    const known = staged.get(hash);
    if (known !== undefined) {
      if (known !== size) {
        throw new SyftError(
          "E_BAD_MESSAGE",
          `object ${object}: event ${event} claims size ${size} but its content is ${known} bytes`,
        );
      }
      return;
    }
    const blob = blobName(await blobId(keys.blobKeyIn, hash));
    const opened = await openEnvelope(
      await getBlob(ctx, channel, blob, object),
      { name: blob, sender: channel.sender, recipient: channel.recipient, kind: "blob" },
      {
        senderSignPublic: keys.signPublic,
        agreePrivate: ctx.keys.agree.privateKey,
        senderAgreePublic: keys.agreePublic,
      },
    );
    if (opened.header.size !== size) {
      await opened.body.cancel().catch(() => {});
      throw new SyftError(
        "E_BAD_MESSAGE",
        `blob ${blob}: ${opened.header.size} bytes, but event ${event} claims ${size}`,
      );
    }
    const target = posix.join(staging, hash);
    const temp = `${target}.part`;
    const written = await writeHashed(opened.body, temp, ctx.fs);
    if (written.hash !== hash || written.size !== size) {
      throw new SyftError(
        "E_BAD_MESSAGE",
        `blob ${blob}: content hash does not match event ${event}`,
      );
    }
    await ctx.fs.rename(temp, target);
    staged.set(hash, size);
  };
}

/**
 * A blob a batch references. Blobs are uploaded before the batch that needs
 * them (docs/protocol.md §4.3), so one that is not in the channel makes the batch
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

/** What the plan knows of one root (our datasite, or a peer's mirror). */
interface RootPlan {
  /** Planned content per file path: a hash, or null when planned away. */
  view: Map<string, string | null>;
  /** Folders planned writes need: case-folded path → the path as written. */
  dirs: Map<string, string>;
  /** Files planned: case-folded path → the path as written. */
  files: Map<string, string>;
  /**
   * Folders read from disk: path ("" for the root) → entries by case-folded
   * name; null when it is no folder there. Disk is fixed while planning.
   */
  listings: Map<string, Map<string, DiskEntry[]> | null>;
}

interface DiskEntry {
  name: string;
  /** A real folder (a symlink to one is not). */
  dir: boolean;
}

/** What is at a path, as the plan sees it. */
type Here = string | null | "special" | { clash: string };

/**
 * Plan the ops of one batch. Each root's view overlays planned changes on the
 * disk so several events on one path in a batch see each other.
 *
 * Memory stays proportional to the batch's own paths: a folder prefix is kept
 * as a slice of its path (no copy), and disk folders are read once each, so
 * deep or numerous paths cost no per-segment copies or per-segment lstat.
 */
class Planner {
  ops: JournalOp[] = [];
  readonly #roots = new Map<string, RootPlan>();
  #n = 0;
  /** How many events of the object may write each content: a content written once moves, not links. */
  readonly #uses = new Map<string, number>();

  constructor(
    readonly fs: LocalFs,
    readonly staging: string,
    events: readonly FileChangeEvent[],
    readonly fetch: (hash: string, size: number, event: string) => Promise<void>,
  ) {
    for (const ev of events) {
      if (ev.new_hash !== null) this.#uses.set(ev.new_hash, (this.#uses.get(ev.new_hash) ?? 0) + 1);
    }
  }

  #plan(root: string): RootPlan {
    let plan = this.#roots.get(root);
    if (!plan) {
      plan = { view: new Map(), dirs: new Map(), files: new Map(), listings: new Map() };
      this.#roots.set(root, plan);
    }
    return plan;
  }

  /** The entries of disk folder `dir` (relative to `root`), read once. */
  #listing(root: string, plan: RootPlan, dir: string): Map<string, DiskEntry[]> | null {
    let listing = plan.listings.get(dir);
    if (listing !== undefined) return listing;
    listing = null;
    try {
      const byKey = new Map<string, DiskEntry[]>();
      for (const e of this.fs.readDirSync(dir === "" ? root : posix.join(root, dir))) {
        const key = caseFoldKey(e.name);
        const entry = { name: e.name, dir: e.isDirectory };
        const same = byKey.get(key);
        if (same) same.push(entry);
        else byKey.set(key, [entry]);
      }
      listing = byKey;
    } catch {
      // Missing, or not a folder: nothing can be found under it.
    }
    plan.listings.set(dir, listing);
    return listing;
  }

  /**
   * What is at `rel` under `root`: its hash, null when nothing, "special" when
   * it is not a regular file or lies under one (on disk or planned) or is a
   * folder planned writes need, and a clash when it differs only by case or
   * Unicode normalisation from an existing or planned different path, which
   * a case-insensitive or normalising file system would take for the same one.
   *
   * A "special" path planned as an op would fail inside the journal, and a
   * failing journal entry is retried, and fails, at the start of every later
   * round: one such event (a hostile peer's, or a file replaced by a folder of
   * the same name) wedged the receiver for good.
   */
  async hash(root: string, rel: string): Promise<Here> {
    const plan = this.#plan(root);
    const folded = caseFoldKey(rel);
    let onDisk = true; // the parent folder exists on disk as a real folder
    let end = -1;
    let fend = -1;
    for (;;) {
      const start = end + 1;
      const fstart = fend + 1;
      end = rel.indexOf("/", start);
      fend = folded.indexOf("/", fstart);
      const last = end === -1;
      if (last !== (fend === -1)) break; // folding moved a "/": no case rule can apply
      const prefix = last ? rel : rel.slice(0, end);
      const fprefix = last ? folded : folded.slice(0, fend);
      const planned = plan.view.get(prefix);
      const plannedDir = plan.dirs.get(fprefix);
      if (!last && typeof planned === "string") return "special"; // a file planned there
      if (last && plannedDir === prefix) return "special"; // a folder planned there
      if (plannedDir !== undefined && plannedDir !== prefix) return { clash: plannedDir };
      const plannedFile = plan.files.get(fprefix);
      if (plannedFile !== undefined && plannedFile !== prefix) return { clash: plannedFile };
      if (onDisk) {
        const parent = start === 0 ? "" : rel.slice(0, start - 1);
        const name = last ? rel.slice(start) : rel.slice(start, end);
        const entries = this.#listing(root, plan, parent)?.get(
          last ? folded.slice(fstart) : folded.slice(fstart, fend),
        ) ?? [];
        const exact = entries.find((e) => e.name === name);
        if (!exact) {
          const other = entries.find((e) =>
            plan.view.get(parent === "" ? e.name : `${parent}/${e.name}`) !== null
          );
          if (other) return { clash: parent === "" ? other.name : `${parent}/${other.name}` };
          onDisk = false; // nothing below a missing name is on disk
        } else if (!last && !exact.dir) {
          if (planned !== null) return "special"; // a file or symlink where a folder should be
          onDisk = false; // planned away: free once that op ran
        } else if (!last && planned === null) onDisk = false;
      }
      if (last) break;
    }
    if (plan.view.has(rel)) return plan.view.get(rel)!;
    return onDisk ? await regularFileHash(posix.join(root, rel), this.fs) : null;
  }

  #setFile(plan: RootPlan, rel: string, hash: string | null): void {
    plan.view.set(rel, hash);
    const key = caseFoldKey(rel);
    if (hash !== null) plan.files.set(key, rel);
    else if (plan.files.get(key) === rel) plan.files.delete(key);
  }

  #needDirs(plan: RootPlan, rel: string): void {
    const folded = caseFoldKey(rel);
    let end = rel.indexOf("/");
    let fend = folded.indexOf("/");
    while (end !== -1 && fend !== -1) {
      const fprefix = folded.slice(0, fend);
      if (!plan.dirs.has(fprefix)) plan.dirs.set(fprefix, rel.slice(0, end));
      end = rel.indexOf("/", end + 1);
      fend = folded.indexOf("/", fend + 1);
    }
  }

  /**
   * A content that only this write can use is renamed into place as staged;
   * one that several events may write gets a staged copy per write. Not a hard
   * link: paths that share an inode change together when the user edits one
   * of them in place. A blob is fetched here, the first time a write needs it.
   */
  async write(
    root: string,
    rel: string,
    ev: FileChangeEvent & { new_hash: string },
  ): Promise<void> {
    const hash = ev.new_hash;
    await this.fetch(hash, ev.size, ev.id);
    let staged = posix.join(this.staging, hash);
    if ((this.#uses.get(hash) ?? 0) !== 1) {
      staged = posix.join(this.staging, `op-${this.#n++}`);
      this.fs.copyFileSync(posix.join(this.staging, hash), staged);
    }
    this.ops.push({ op: "write", root, rel, staged, hash, mode: ev.mode });
    const plan = this.#plan(root);
    this.#setFile(plan, rel, hash);
    this.#needDirs(plan, rel);
  }

  remove(root: string, rel: string, hash: string | null): void {
    this.ops.push({ op: "delete", root, rel, hash });
    this.#setFile(this.#plan(root), rel, null);
  }

  rename(root: string, rel: string, to: string, hash: string): void {
    this.ops.push({ op: "rename", root, rel, to, hash });
    const plan = this.#plan(root);
    this.#setFile(plan, rel, null);
    this.#setFile(plan, to, hash);
    this.#needDirs(plan, to);
  }
}

/** Read every new object of `keys.peer`'s channel to us, in order, applying each. */
export async function receiveFrom(
  ctx: SyncContext,
  keys: PeerKeys,
  initial: ChannelState,
  options: ReceiveOptions,
): Promise<ReceiveResult> {
  const work = await readChannel(ctx, keys, initial, options);
  await dropIdenticalCopies(ctx, keys.peer, work);
  const { budget: _b, copies: _c, seen: _s, ...result } = work;
  return result;
}

/**
 * Identical content is never a conflict: a copy kept aside that holds what the
 * peer published for that path this round (a mirror restored after `state/`
 * was lost replays versions the disk already has) is removed again.
 */
async function dropIdenticalCopies(ctx: SyncContext, peer: string, work: Work): Promise<void> {
  const mirrorRoot = posix.join(ctx.root, peer);
  for (const [copy, c] of work.copies) {
    const final = work.state.mirror[c.path]?.hash;
    if (final !== c.hash && !work.seen.get(c.path)?.has(c.hash)) continue;
    const abs = posix.join(mirrorRoot, copy);
    // Only what is still exactly the kept content (the user may have edited it since).
    if (await regularFileHash(abs, ctx.fs) !== c.hash) continue;
    await ctx.fs.remove(abs).catch(() => {});
    if (c.counted) work.conflicts--;
  }
}

async function readChannel(
  ctx: SyncContext,
  keys: PeerKeys,
  initial: ChannelState,
  options: ReceiveOptions,
): Promise<Work> {
  const channel: ChannelRef = { sender: keys.peer, recipient: ctx.me };
  const result: Work = {
    budget: Math.max(1, ctx.maxProposals ?? DEFAULT_MAX_PROPOSALS),
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
    paths: [],
    refused: [],
    rejections: [],
    copies: new Map(),
    seen: new Map(),
  };
  if (initial.cursor === 0 && initial.base === null && !initial.seq_known && !initial.judged) {
    const judged = await judgedBefore(ctx, keys);
    if (judged > 0) {
      result.state = { ...result.state, judged };
      await saveChannelState(ctx.layout, result.state);
    }
  }
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
            rolled_back: {
              highest: plan.highest,
              cursor: result.state.cursor,
              at: ctx.clock.now(),
            },
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

/**
 * How far an earlier state of ours had read `keys.peer`'s channel, when this
 * one has no record of it (`state/` lost): the ack our own newest batch to the
 * peer carries (0 when there is none). Without it the peer's old proposals
 * were judged again: a received job's files, no longer writable, were
 * rejected, and proposals long since undone applied again.
 */
async function judgedBefore(ctx: SyncContext, keys: PeerKeys): Promise<number> {
  const channel: ChannelRef = { sender: ctx.me, recipient: keys.peer };
  const page = await ctx.transport.list(channel, { prefix: "b-", all: true });
  const seqs = page.objects.filter((o) => !o.special).map((o) => parseBatchName(o.name))
    .filter((s): s is number => s !== null).sort((a, b) => b - a);
  // The newest few: one that is not ours (anyone can write the folder) is passed over.
  for (const seq of seqs.slice(0, 3)) {
    const name = batchName(seq);
    try {
      const opened = await openEnvelope(
        await ctx.transport.get(channel, name),
        { name, sender: ctx.me, recipient: keys.peer, kind: "batch" },
        ownOpenKeys(ctx, keys),
      );
      const json = await unpackBody(opened.body, {
        first: "batch.json",
        onContent: () => Promise.resolve(),
      });
      return parseBatchJson(json, { sender: ctx.me, recipient: keys.peer }).acks[keys.peer] ?? 0;
    } catch (err) {
      if (err instanceof SyftError && err.code === "E_BAD_MESSAGE") continue;
      throw err;
    }
  }
  return 0;
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
  result: Work,
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
  result: Work,
  missing: number,
  why: "gap" | "quarantined",
): Promise<void> {
  result.gap = true;
  const now = ctx.clock.now();
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
  result: Work,
): Promise<void> {
  await quarantineObject(
    ctx.layout,
    ctx.transport,
    channel,
    name,
    reason,
    ctx.clock.now(),
    ctx.quarantineBytes,
  );
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
  state.waiting = { missing, since: ctx.clock.now(), asked: true };
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
  result: Work,
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
    const state = structuredClone(result.state);
    const mirrorRoot = posix.join(ctx.root, keys.peer);
    let planner: Planner;
    try {
      const cp = await fetchObject(ctx, keys, channel, name, o.seq, staging, o.kind);
      const fetchBlob = blobFetcher(ctx, keys, channel, name, staging, cp.staged);
      planner = new Planner(ctx.fs, staging, cp.events, fetchBlob);
      const now = ctx.clock.now();
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
      for (const ev of cp.events) {
        await applyPublication(planner, state, mirrorRoot, ev, now, result);
      }
    } catch (err) {
      await ctx.fs.remove(staging, { recursive: true }).catch(() => {});
      if (!(err instanceof SyftError) || err.code !== "E_BAD_MESSAGE") throw err;
      await refuse(ctx, keys, channel, name, err.message, result);
      return false;
    }
    state.resume = null;
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
    }, ctx.clock);
    result.state = state;
  }
  return true;
}

/**
 * Read batch `seq` and apply it, from the event the previous round stopped at.
 * At most `result.budget` proposals are judged: the rest of the batch waits
 * for the next round, its position kept in `state.resume` in the same journal
 * entry as the ops, so a crash loses and repeats nothing.
 */
async function receiveOne(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  name: string,
  seq: number,
  result: Work,
  options: ReceiveOptions,
): Promise<void> {
  const staging = posix.join(stagingRoot(ctx), `${keys.peer}-${seq}-${crypto.randomUUID()}`);
  const from = result.state.resume?.seq === seq ? result.state.resume.next : 0;
  let batch: Fetched<"batch">;
  try {
    batch = await fetchObject(ctx, keys, channel, name, seq, staging, "batch");
    if (from > batch.events.length) {
      throw new SyftError("E_BAD_MESSAGE", `object ${name} changed: it has fewer events than read`);
    }
  } catch (err) {
    await ctx.fs.remove(staging, { recursive: true }).catch(() => {});
    if (!(err instanceof SyftError) || err.code !== "E_BAD_MESSAGE") throw err;
    // Never applied and never skipped: the sender answers with a fresh cf.
    await refuse(ctx, keys, channel, name, err.message, result);
    return;
  }
  const isProposal = (ev: FileChangeEvent) => ev.datasite !== keys.peer;
  if (from === 0 && result.budget <= 0 && batch.events[0] && isProposal(batch.events[0])) {
    // Nothing of it can be judged this round: not even its controls are read
    // (they are, with its first events, next round).
    await ctx.fs.remove(staging, { recursive: true }).catch(() => {});
    result.state = { ...result.state, resume: { seq, next: 0 } };
    await saveChannelState(ctx.layout, result.state);
    return;
  }

  const peerControls = batch.control.filter((c) =>
    c.type === "peer.accept" || c.type === "peer.reject" || c.type === "peer.remove"
  );
  // A resumed batch's controls were acted on when it was started.
  if (peerControls.length && from === 0) {
    await options.onPeerControls(peerControls);
    result.peerControls.push(...peerControls);
  }
  const acceptsProposals = options.acceptsProposals ||
    [...result.peerControls, ...peerControls].some((c) => c.type === "peer.accept");

  const state = structuredClone(result.state);
  const planner = new Planner(
    ctx.fs,
    staging,
    batch.events,
    blobFetcher(ctx, keys, channel, name, staging, batch.staged),
  );
  const mirrorRoot = posix.join(ctx.root, keys.peer);
  const ownRoot = ownDatasite(ctx);
  const now = ctx.clock.now();
  // A Set while judging: a long batch of refusals made `includes` quadratic.
  const republish = new Set(state.republish);
  const refused: Refusal[] = [];
  let stop: number | null = null;
  try {
    if (from === 0) {
      for (const c of batch.control) {
        if (c.type === "proposal.rejected") {
          const pending = state.proposed[c.path];
          if (pending && pending.id === c.event_id) {
            const cur = await planner.hash(mirrorRoot, c.path);
            if (typeof cur === "string" && cur === pending.new_hash) {
              const copy = await freeMarker(planner, mirrorRoot, c.path, "rejected", now);
              planner.rename(mirrorRoot, c.path, copy, cur);
              const refusal: Refusal = {
                path: c.path,
                reason: c.reason,
                detail: c.detail ?? null,
                copy,
                at: now,
              };
              refused.push(refusal);
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
    }

    const engine = acceptsProposals ? await options.engine() : null;
    for (let i = from; i < batch.events.length; i++) {
      const ev = batch.events[i]!;
      if (!isProposal(ev)) {
        await applyPublication(planner, state, mirrorRoot, ev, now, result);
        continue;
      }
      // Judged before our state was lost: deciding it again would undo that decision.
      if (seq <= (state.judged ?? 0)) continue;
      if (result.budget <= 0) {
        stop = i;
        break;
      }
      result.budget--;
      if (engine) {
        await judgeProposal(ctx, planner, state, engine, ownRoot, ev, keys.peer, result, republish);
      } else {
        // Not accepted yet: a proposal is answered, never applied.
        const detail = "you are not an accepted peer (yet)";
        state.controls.push({
          type: "proposal.rejected",
          event_id: ev.id,
          path: ev.path,
          reason: "permission",
          current_hash: null,
          detail,
        });
        result.rejected++;
        result.rejections.push({ path: ev.path, reason: "permission", detail });
      }
    }
  } catch (err) {
    // A blob the batch references is missing or not what its event says.
    await ctx.fs.remove(staging, { recursive: true }).catch(() => {});
    if (!(err instanceof SyftError) || err.code !== "E_BAD_MESSAGE") throw err;
    await refuse(ctx, keys, channel, name, err.message, result);
    return;
  }
  state.republish = [...republish];
  if (refused.length) state.refused = keepRefusals(state.refused ?? [], refused);
  if (stop === null) {
    state.cursor = seq;
    state.resume = null;
  } else state.resume = { seq, next: stop };
  if (batch.events.length > 0 || batch.control.length > 0) state.ack_needed = true;
  await applyJournaled(ctx.layout, {
    peer: keys.peer,
    seq,
    ops: planner.ops,
    after: state,
    staging,
    mirror: mirrorRoot,
  }, ctx.clock);
  if (result.permissionsChanged) options.onPermissionsChanged();
  result.state = state;
  result.refused.push(...refused);
  // Counted when only part of it was read too: the round did receive something.
  result.batches++;
}

async function applyPublication(
  planner: Planner,
  state: ChannelState,
  mirrorRoot: string,
  ev: FileChangeEvent,
  now: number,
  result: Work,
): Promise<void> {
  const known = state.mirror[ev.path];
  const here = await planner.hash(mirrorRoot, ev.path);
  const pending = state.proposed[ev.path];
  if (here === "special") {
    result.conflicts++;
    return; // a symlink or folder where a file should be: leave it, never write through it
  }
  if (typeof here === "object" && here !== null) {
    // Another name for a file we already have (README.md / readme.md, NFC /
    // NFD): on a case-insensitive or normalising disk it would overwrite that
    // one. Kept aside as a rejected copy, never recorded as mirrored; unless
    // that file already holds this very content (identical is no conflict).
    if (ev.new_hash !== null && await planner.hash(mirrorRoot, here.clash) === ev.new_hash) return;
    result.conflicts++;
    if (ev.new_hash !== null) {
      await planner.write(
        mirrorRoot,
        await rejectedCopyOf(planner, mirrorRoot, ev.path, here.clash, now),
        {
          ...ev,
          new_hash: ev.new_hash,
        },
      );
    }
    return;
  }
  const cur = here;
  // Our copy differs from what the owner last published: an edit not yet answered.
  const localEdit = cur !== null && cur !== (known?.hash ?? null) && cur !== ev.new_hash;
  if (localEdit && !(pending && pending.new_hash === cur && ev.new_hash === cur)) {
    const copy = await freeMarker(planner, mirrorRoot, ev.path, "conflict", now);
    planner.rename(mirrorRoot, ev.path, copy, cur);
    const counted = !pending || pending.new_hash !== cur;
    if (counted) result.conflicts++;
    result.copies.set(copy, { path: ev.path, hash: cur, counted });
  }
  if (ev.new_hash !== null) {
    const seen = result.seen.get(ev.path);
    if (seen) seen.add(ev.new_hash);
    else result.seen.set(ev.path, new Set([ev.new_hash]));
  }
  if (ev.deleted) {
    if (cur !== null && !localEdit) planner.remove(mirrorRoot, ev.path, cur);
    delete state.mirror[ev.path];
  } else if (ev.new_hash !== null) {
    if (cur !== ev.new_hash || localEdit) {
      await planner.write(mirrorRoot, ev.path, { ...ev, new_hash: ev.new_hash });
    }
    state.mirror[ev.path] = { hash: ev.new_hash, size: ev.size, mtime: 0, mode: ev.mode };
  }
  if (pending && (pending.new_hash === ev.new_hash || localEdit)) delete state.proposed[ev.path];
  applied(result, ev.path);
}

/** Paths a result names; the rest are counted. */
const NAMED_PATHS = 8;

function applied(result: Work, path: string): void {
  result.applied++;
  if (result.paths.length < NAMED_PATHS) result.paths.push(path);
}

/**
 * Where a colliding path's content is kept: beside the entry it collides
 * with (its folders as they exist), under its own last name marked rejected.
 */
async function rejectedCopyOf(
  planner: Planner,
  root: string,
  path: string,
  clash: string,
  now: number,
): Promise<string> {
  const depth = clash.split("/").length;
  const segments = path.split("/");
  const rest = segments.slice(depth);
  const at = rest.length === 0
    ? [...clash.split("/").slice(0, -1), segments[segments.length - 1]!]
    : [...clash.split("/"), ...rest];
  return await freeMarker(planner, root, at.join("/"), "rejected", now);
}

/** A marker name for `rel` that nothing on disk or planned holds yet. */
async function freeMarker(
  planner: Planner,
  root: string,
  rel: string,
  kind: MarkerKind,
  now: number,
): Promise<string> {
  const free = await freeMarkerName(
    rel,
    kind,
    now,
    async (name) => (await planner.hash(root, name)) !== null,
  );
  // Thousands of markers of one file in one second: the last name is reused.
  return free ?? markerName(rel, kind, now, MARKER_MAX_SUFFIX);
}

async function judgeProposal(
  ctx: SyncContext,
  planner: Planner,
  state: ChannelState,
  engine: PermissionEngine,
  ownRoot: string,
  ev: FileChangeEvent,
  peer: string,
  result: Work,
  republish: Set<string>,
): Promise<void> {
  const reject = (
    reason: "permission" | "conflict" | "invalid" | "quota",
    current: string | null,
  ) => {
    const detail = ownerDetail(reason, ev.path, ctx.quotaBytes);
    state.controls.push({
      type: "proposal.rejected",
      event_id: ev.id,
      path: ev.path,
      reason,
      current_hash: current,
      detail,
    });
    republish.add(ev.path);
    result.rejected++;
    result.rejections.push({ path: ev.path, reason, detail });
  };
  // Judged from the event's metadata alone, before the disk is looked at or a
  // byte of content fetched. The sender is the channel's sender, never a name
  // inside the message. No hash goes back: the peer may not read the file.
  if (!engine.allows(ctx.me, ev.path, peer, "write")) {
    // A proposal that changes nothing is no write to refuse (a replay), but
    // only where the peer may read the path: the answer must never tell it
    // what we hold where it may not look.
    if (
      engine.allows(ctx.me, ev.path, peer, "read") &&
      await planner.hash(ownRoot, ev.path) === ev.new_hash
    ) return;
    return reject("permission", null);
  }
  const here = await planner.hash(ownRoot, ev.path);
  // "special" (a folder or symlink there) is no hash: the wire says null.
  if (here === "special") return reject("invalid", null);
  if (typeof here === "object" && here !== null) {
    // A second name for an existing file (case or Unicode form): never overwrites it.
    return ev.deleted ? undefined : reject("conflict", null);
  }
  const cur = here;
  if (cur === ev.new_hash) return; // replay after a crash: already applied
  if (cur !== ev.old_hash) return reject("conflict", cur);
  // Still before any content is fetched: the write below is what fetches it.
  if (!ev.deleted && state.quota_used + ev.size > ctx.quotaBytes) return reject("quota", cur);
  if (ev.deleted) planner.remove(ownRoot, ev.path, cur);
  else {
    await planner.write(ownRoot, ev.path, { ...ev, new_hash: ev.new_hash! });
    state.quota_used += ev.size;
  }
  if (isPermissionFile(ev.path)) {
    result.permissionsChanged = true;
  }
  applied(result, ev.path);
}
