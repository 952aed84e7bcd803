/**
 * The watcher side (docs/protocol.md §8): local edits in a peer's mirror become
 * proposals in our channel to that peer. Only certain refusals happen here
 * (`private/`, invalid paths, symlinks): the local copy is renamed
 * `<name>.rejected.<ts>` at once. Markers are never proposed, and a deleted
 * mirror never proposes deletions.
 * @module
 */
import { forgetWipedMirror, mirrorWasWiped } from "./reader/wiped_mirror.ts";
import { posix } from "node:path";
import { checkInboundPath } from "../paths/mod.ts";
import type { FileChangeEvent } from "../events/types.ts";
import { changeEvent, deletionEvent } from "../events/make.ts";
import type { SyncContext } from "./context.ts";
import { freeMarkerName, isMarker, isPrivatePath } from "../datasite/names.ts";
import { keepRefusals, type Refusal } from "./refusals.ts";
import { scanTree } from "./scan.ts";
import {
  type ChannelState,
  type FileInfo,
  loadChannelState,
  MAX_EARLIER_PROPOSALS,
  type PendingProposal,
  saveChannelState,
} from "./state.ts";

/** An outgoing event and the file its content is read from. */
export interface OutgoingEvent {
  event: FileChangeEvent;
  /** Absolute path of the content (null for a deletion). */
  source: string | null;
}

/** Proposals for one peer, the state to go on from, and what each records once sent. */
export interface ProposalResult {
  proposals: OutgoingEvent[];
  /**
   * The state after the scan, without the new proposals recorded: it may be
   * saved before the batch carrying them is in. Recording them earlier lost
   * them for good when the round then failed (simulation seed 20068: a save
   * while settling the writer's seq, then a 429): `proposed` said pending, so
   * no later scan sent them.
   */
  state: ChannelState;
  /** Path → the pending record each proposal becomes once its batch is in. */
  pending: Record<string, PendingProposal>;
  /** Edits refused here (never sent), each kept as a `.rejected` copy. */
  refused: Refusal[];
}

/** One peer's mirror being scanned: where it is, and what the scan collects. */
interface Scan {
  ctx: SyncContext;
  peer: string;
  mirrorRoot: string;
  state: ChannelState;
  now: number;
  proposals: OutgoingEvent[];
  pending: Record<string, PendingProposal>;
  refused: Refusal[];
  /** Local refusals decided, their copies not made yet (see {@linkcode keepAside}). */
  toRefuse: Refusal[];
}

/** Scan `<root>/<peer>/` for edits we have not proposed yet. */
export async function collectProposals(
  ctx: SyncContext,
  initial: ChannelState,
): Promise<ProposalResult> {
  const peer = initial.peer;
  const mirrorRoot = posix.join(ctx.root, peer);
  let state = structuredClone(initial);
  const exists = await ctx.fs.lstat(mirrorRoot).then((i) => i.isDirectory, () => false);
  if (!exists) {
    if (await mirrorWasWiped(ctx, state)) state = forgetWipedMirror(state);
    return { proposals: [], state, pending: {}, refused: [] };
  }
  await pruneRefusals(ctx, state, mirrorRoot);
  const tree = await scanTree(mirrorRoot, {
    previous: new Map(Object.entries(state.mirror)),
    skip: (name) => isMarker(name),
    fs: ctx.fs,
    written: ctx.written?.take(mirrorRoot),
  });
  const now = ctx.clock.now();
  const scan: Scan = {
    ctx,
    peer,
    mirrorRoot,
    state,
    now,
    proposals: [],
    pending: {},
    refused: [],
    toRefuse: [],
  };
  for (const rel of tree.special) {
    await refuseLocally(scan, rel, "not a regular file (symlinks and devices never travel)");
  }
  for (const [rel, info] of tree.files) {
    // The common case, synchronously: 10,000 unchanged files were 10,000 awaits.
    if (!keepUnchanged(state, rel, info)) await proposeEdit(scan, rel, info);
  }
  proposeDeletions(scan, tree.files, new Set(tree.unstable));
  await keepAside(scan);
  // Deletions first, as the owner applies them in order: a file replaced by a
  // folder of the same name must be gone before anything is written under it.
  const ordered = [
    ...scan.proposals.filter((p) => p.event.deleted),
    ...scan.proposals.filter((p) => !p.event.deleted),
  ];
  if (scan.refused.length) state.refused = keepRefusals(state.refused ?? [], scan.refused);
  return { proposals: ordered, state, pending: scan.pending, refused: scan.refused };
}

/**
 * A refusal is listed while its `.rejected` copy exists: one the user deleted
 * (or moved back) is dealt with.
 */
async function pruneRefusals(
  ctx: SyncContext,
  state: ChannelState,
  mirrorRoot: string,
): Promise<void> {
  if (!state.refused?.length) return;
  const left: Refusal[] = [];
  for (const r of state.refused) {
    if (await ctx.fs.lstat(posix.join(mirrorRoot, r.copy)).then(() => true, () => false)) {
      left.push(r);
    }
  }
  state.refused = left;
}

/** Refuse a local edit here, never sending it: the file is to be kept as a `.rejected` copy. */
async function refuseLocally(scan: Scan, rel: string, why: string): Promise<void> {
  const { ctx, mirrorRoot, now } = scan;
  const exists = (name: string) =>
    ctx.fs.lstat(posix.join(mirrorRoot, name)).then(() => true, () => false);
  const to = await freeMarkerName(rel, "rejected", now, exists);
  if (to === null) return;
  scan.toRefuse.push({ path: rel, reason: "local", detail: why, copy: to, at: now });
}

/**
 * Make the `.rejected` copies of the local refusals, each reason saved in
 * the channel state first: a round that died between the rename and its own
 * save left a copy nobody had said why of (simulation seed 7004022). A
 * reason whose copy a crash never made is dropped by the next scan
 * (`pruneRefusals`), which refuses the edit again.
 */
async function keepAside(scan: Scan): Promise<void> {
  const { ctx, mirrorRoot } = scan;
  if (scan.toRefuse.length === 0) return;
  const saved = await loadChannelState(ctx.layout, scan.peer);
  await saveChannelState(ctx.layout, {
    ...saved,
    refused: keepRefusals(saved.refused ?? [], scan.toRefuse),
  });
  for (const r of scan.toRefuse) {
    const moved = await ctx.fs.rename(
      posix.join(mirrorRoot, r.path),
      posix.join(mirrorRoot, r.copy),
    )
      .then(() => true, () => false);
    if (moved) scan.refused.push(r);
    ctx.warn(`not proposing ${scan.peer}/${r.path}: ${r.detail}; kept as ${r.copy}`);
  }
}

/**
 * Whether file `rel` is unchanged since the state recorded it; then its
 * mtime is remembered, so the next scan does not hash it again.
 */
function keepUnchanged(state: ChannelState, rel: string, info: FileInfo): boolean {
  const known = state.mirror[rel];
  if (!known || known.hash !== info.hash) return false;
  if (
    known.size === info.size && known.mtime === info.mtime &&
    (info.ino === undefined || known.ino === info.ino)
  ) {
    return true; // the record as it is (a file the scan took as the journal wrote it)
  }
  state.mirror[rel] = {
    ...known,
    size: info.size,
    mtime: info.mtime,
    ...(info.ino === undefined ? {} : { ino: info.ino }),
  };
  return true;
}

/** Propose file `rel` as scanned, unless it is unchanged, already pending, or refused here. */
async function proposeEdit(scan: Scan, rel: string, info: FileInfo): Promise<void> {
  const { state } = scan;
  const known = state.mirror[rel];
  const pending = state.proposed[rel];
  if (pending && pending.new_hash === info.hash) return;
  const check = checkInboundPath(rel);
  if (!check.ok) return await refuseLocally(scan, rel, check.reason);
  if (isPrivatePath(rel)) {
    return await refuseLocally(scan, rel, "private/ is never writable by peers");
  }
  // On top of our unanswered proposal: the owner applies ours in order, so
  // this one must expect that content, not the one we started from.
  const base = pending ? pending.new_hash : known?.hash ?? null;
  const event = changeEvent(scan.peer, rel, info, base, scan.now);
  scan.proposals.push({ event, source: posix.join(scan.mirrorRoot, rel) });
  scan.pending[rel] = { id: event.id, old_hash: base, new_hash: info.hash, ...chained(pending) };
}

/** The `earlier` list of a proposal that follows `pending` on the same path. */
function chained(pending: PendingProposal | undefined): Pick<PendingProposal, "earlier"> {
  if (!pending) return {};
  const earlier = [...(pending.earlier ?? [])];
  if (pending.new_hash !== null) earlier.push(pending.new_hash);
  return earlier.length === 0 ? {} : { earlier: earlier.slice(-MAX_EARLIER_PROPOSALS) };
}

/** Propose deleting each mirrored file the scan no longer found (a file mid-write is not gone). */
function proposeDeletions(scan: Scan, found: Map<string, unknown>, unstable: Set<string>): void {
  const { state } = scan;
  for (const [rel, known] of Object.entries(state.mirror)) {
    if (found.has(rel) || unstable.has(rel)) continue;
    const pending = state.proposed[rel];
    if (pending && pending.new_hash === null) continue;
    const base = pending ? pending.new_hash : known.hash;
    const event = deletionEvent(scan.peer, rel, base, scan.now, known.mode);
    scan.proposals.push({ event, source: null });
    scan.pending[rel] = { id: event.id, old_hash: base, new_hash: null, ...chained(pending) };
  }
}
