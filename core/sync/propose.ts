/**
 * The watcher side (PROTOCOL.md §8): local edits in a peer's mirror become
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
import { isMarker, markerName } from "../paths/markers.ts";
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
  refusedLocally: string[];
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
  const refusedLocally: string[] = [];
  const exists = await Deno.lstat(mirrorRoot).then((i) => i.isDirectory, () => false);
  if (!exists) return { proposals, state, refusedLocally };

  const previous = new Map(Object.entries(state.mirror));
  const scan = await scanTree(mirrorRoot, { previous, skip: (name) => isMarker(name) });
  const now = ctx.now();
  const refuse = async (rel: string, why: string) => {
    const to = markerName(rel, "rejected", now);
    await Deno.rename(posix.join(mirrorRoot, rel), posix.join(mirrorRoot, to)).catch(() => {});
    refusedLocally.push(rel);
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
    if (rel.split("/")[0] === "private") {
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
  return { proposals: ordered, state, refusedLocally };
}
