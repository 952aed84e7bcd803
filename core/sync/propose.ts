/**
 * The watcher side (docs/protocol.md §8): local edits in a peer's mirror become
 * proposals in our channel to that peer. Only certain refusals happen here
 * (`private/`, invalid paths, symlinks): the local copy is renamed
 * `<name>.rejected.<ts>` at once. Markers are never proposed, and a deleted
 * mirror never proposes deletions.
 * @module
 */
import { posix } from "node:path";
import { checkInboundPath } from "../paths/mod.ts";
import type { FileChangeEvent } from "../events/types.ts";
import { changeEvent, deletionEvent } from "../events/make.ts";
import type { SyncContext } from "./context.ts";
import { freeMarkerName, isMarker, isPrivatePath } from "../datasite/names.ts";
import { keepRefusals, type Refusal } from "./refusals.ts";
import { scanTree } from "./scan.ts";
import type { ChannelState } from "./state.ts";

/** An outgoing event and the file its content is read from. */
export interface OutgoingEvent {
  event: FileChangeEvent;
  /** Absolute path of the content (null for a deletion). */
  source: string | null;
}

/** Proposals for one peer, and the state with them recorded as pending. */
export interface ProposalResult {
  proposals: OutgoingEvent[];
  state: ChannelState;
  /** Edits refused here (never sent), each kept as a `.rejected` copy. */
  refused: Refusal[];
}

/** Scan `<root>/<peer>/` for edits we have not proposed yet. */
export async function collectProposals(
  ctx: SyncContext,
  initial: ChannelState,
): Promise<ProposalResult> {
  const peer = initial.peer;
  const mirrorRoot = posix.join(ctx.root, peer);
  const state = structuredClone(initial);
  const proposals: OutgoingEvent[] = [];
  const refused: Refusal[] = [];
  const exists = await ctx.fs.lstat(mirrorRoot).then((i) => i.isDirectory, () => false);
  if (!exists) return { proposals, state, refused };
  // A refusal is listed while its `.rejected` copy exists: one the user deleted
  // (or moved back) is dealt with.
  if (state.refused?.length) {
    const left: Refusal[] = [];
    for (const r of state.refused) {
      if (await ctx.fs.lstat(posix.join(mirrorRoot, r.copy)).then(() => true, () => false)) {
        left.push(r);
      }
    }
    state.refused = left;
  }

  const previous = new Map(Object.entries(state.mirror));
  const scan = await scanTree(mirrorRoot, {
    previous,
    skip: (name) => isMarker(name),
    fs: ctx.fs,
  });
  const now = ctx.clock.now();
  const refuse = async (rel: string, why: string) => {
    const to = await freeMarkerName(
      rel,
      "rejected",
      now,
      (name) => ctx.fs.lstat(posix.join(mirrorRoot, name)).then(() => true, () => false),
    );
    if (to === null) return;
    const moved = await ctx.fs.rename(posix.join(mirrorRoot, rel), posix.join(mirrorRoot, to))
      .then(() => true, () => false);
    if (moved) refused.push({ path: rel, reason: "local", detail: why, copy: to, at: now });
    ctx.warn(`not proposing ${peer}/${rel}: ${why}; kept as ${to}`);
  };
  for (const rel of scan.special) {
    await refuse(rel, "not a regular file (symlinks and devices never travel)");
  }

  for (const [rel, info] of scan.files) {
    const known = state.mirror[rel];
    if (known && known.hash === info.hash) {
      // Unchanged; remember its mtime so the next scan does not hash it again.
      state.mirror[rel] = { ...known, size: info.size, mtime: info.mtime };
      continue;
    }
    const pending = state.proposed[rel];
    if (pending && pending.new_hash === info.hash) continue;
    const check = checkInboundPath(rel);
    if (!check.ok) {
      await refuse(rel, check.reason);
      continue;
    }
    if (isPrivatePath(rel)) {
      await refuse(rel, "private/ is never writable by peers");
      continue;
    }
    const event = changeEvent(peer, rel, info, known?.hash ?? null, now);
    proposals.push({ event, source: posix.join(mirrorRoot, rel) });
    state.proposed[rel] = { id: event.id, old_hash: known?.hash ?? null, new_hash: info.hash };
  }
  const unstable = new Set(scan.unstable);
  for (const [rel, known] of Object.entries(state.mirror)) {
    if (scan.files.has(rel) || unstable.has(rel)) continue;
    const pending = state.proposed[rel];
    if (pending && pending.new_hash === null) continue;
    const event = deletionEvent(peer, rel, known.hash, now, known.mode);
    proposals.push({ event, source: null });
    state.proposed[rel] = { id: event.id, old_hash: known.hash, new_hash: null };
  }
  // Deletions first, as the owner applies them in order: a file replaced by a
  // folder of the same name must be gone before anything is written under it.
  const ordered = [
    ...proposals.filter((p) => p.event.deleted),
    ...proposals.filter((p) => !p.event.deleted),
  ];
  if (refused.length) state.refused = keepRefusals(state.refused ?? [], refused);
  return { proposals: ordered, state, refused };
}
