/**
 * Applying a peer's publication to its mirror: the planned ops for one event,
 * with our own unanswered edits kept aside as conflict copies and a second
 * name for an existing file (case, Unicode form) kept aside as rejected.
 * @module
 */
import type { FileChangeEvent } from "../../events/types.ts";
import {
  freeMarkerName,
  MARKER_MAX_SUFFIX,
  type MarkerKind,
  markerName,
} from "../../datasite/names.ts";
import { type ChannelState, isOwnEcho, type PendingProposal } from "../state.ts";
import type { Planner } from "./planner.ts";
import { countApplied, type Work } from "./types.ts";

/** One object being planned: its planner, the state it builds, and where it writes. */
export interface BatchScope {
  planner: Planner;
  /** The channel state this object's journal entry will record (a copy, edited in place). */
  state: ChannelState;
  /** The peer's mirror under our root. */
  mirrorRoot: string;
  now: number;
  work: Work;
}

/** Plan publication `ev` on the peer's mirror and record it in the state. */
export async function applyPublication(scope: BatchScope, ev: FileChangeEvent): Promise<void> {
  const { planner, state, mirrorRoot, work } = scope;
  const here = await planner.hash(mirrorRoot, ev.path);
  if (here === "special") {
    work.conflicts++;
    return; // a symlink or folder where a file should be: leave it, never write through it
  }
  if (typeof here === "object" && here !== null) return await keepClashAside(scope, ev, here.clash);
  const cur = here;
  const pending = state.proposed[ev.path];
  if (cur !== ev.new_hash && isOwnEcho(pending, ev.new_hash)) {
    return keepLaterEdit(scope, ev, pending!);
  }
  const localEdit = await keepLocalEdit(scope, ev, cur);
  if (ev.new_hash !== null) noteSeen(work, ev.path, ev.new_hash);
  if (ev.deleted) {
    if (cur !== null && !localEdit) planner.remove(mirrorRoot, ev.path, cur);
    delete state.mirror[ev.path];
  } else if (ev.new_hash !== null) {
    if (cur !== ev.new_hash || localEdit) {
      // Over our edit's copy moved aside, the path is planned free.
      await planner.write(
        mirrorRoot,
        ev.path,
        { ...ev, new_hash: ev.new_hash },
        localEdit ? null : cur,
      );
    }
    state.mirror[ev.path] = { hash: ev.new_hash, size: ev.size, mtime: 0, mode: ev.mode };
  }
  if (pending && (pending.new_hash === ev.new_hash || localEdit)) delete state.proposed[ev.path];
  countApplied(work, ev.path);
}

/**
 * The owner published a content we proposed, and our copy has moved on since
 * (edited again, deleted, or made again after our deletion): the echo is
 * ours, not the owner's change, so
 * our copy stays and is proposed in turn against it. The mirror records the
 * echo as the owner's version; the proposals up to it are answered.
 */
function keepLaterEdit(
  scope: BatchScope,
  ev: FileChangeEvent,
  pending: PendingProposal,
): void {
  const { state, work } = scope;
  const hash = ev.new_hash;
  if (hash === null) {
    // Our deletion, and a file we made there since (simulation seed 30036: it
    // was kept as a conflict copy and never proposed).
    delete state.mirror[ev.path];
    delete state.proposed[ev.path];
    return countApplied(work, ev.path);
  }
  noteSeen(work, ev.path, hash);
  state.mirror[ev.path] = { hash, size: ev.size, mtime: 0, mode: ev.mode };
  if (pending.new_hash === hash) delete state.proposed[ev.path];
  else {
    const { earlier = [], ...latest } = pending;
    const rest = earlier.slice(earlier.indexOf(hash) + 1);
    state.proposed[ev.path] = rest.length ? { ...latest, earlier: rest } : latest;
  }
  countApplied(work, ev.path);
}

/**
 * Another name for a file we already have (README.md / readme.md, NFC /
 * NFD): on a case-insensitive or normalising disk it would overwrite that
 * one. Kept aside as a rejected copy, never recorded as mirrored; unless
 * that file already holds this very content (identical is no conflict).
 */
async function keepClashAside(scope: BatchScope, ev: FileChangeEvent, clash: string) {
  const { planner, mirrorRoot, work } = scope;
  if (ev.new_hash !== null && await planner.hash(mirrorRoot, clash) === ev.new_hash) return;
  work.conflicts++;
  if (ev.new_hash === null) return;
  const copy = await rejectedCopyOf(scope, ev.path, clash);
  await planner.write(mirrorRoot, copy, { ...ev, new_hash: ev.new_hash }, null);
}

/**
 * Our copy (`cur`) differs from what the owner last published: an edit not
 * yet answered, moved aside as a conflict copy before the publication lands.
 * True when there was such an edit.
 */
async function keepLocalEdit(
  scope: BatchScope,
  ev: FileChangeEvent,
  cur: string | null,
): Promise<boolean> {
  const { planner, state, mirrorRoot, work } = scope;
  const known = state.mirror[ev.path];
  const pending = state.proposed[ev.path];
  const localEdit = cur !== null && cur !== (known?.hash ?? null) && cur !== ev.new_hash;
  if (!localEdit || (pending && pending.new_hash === cur && ev.new_hash === cur)) return localEdit;
  const copy = await freeMarker(scope, ev.path, "conflict");
  planner.rename(mirrorRoot, ev.path, copy, cur);
  const counted = !pending || pending.new_hash !== cur;
  if (counted) work.conflicts++;
  work.copies.set(copy, { path: ev.path, hash: cur, counted });
  return localEdit;
}

/** Remember a content the peer published for `path` this round. */
function noteSeen(work: Work, path: string, hash: string): void {
  const seen = work.seen.get(path);
  if (seen) seen.add(hash);
  else work.seen.set(path, new Set([hash]));
}

/**
 * Where a colliding path's content is kept: beside the entry it collides
 * with (its folders as they exist), under its own last name marked rejected.
 */
async function rejectedCopyOf(scope: BatchScope, path: string, clash: string): Promise<string> {
  const depth = clash.split("/").length;
  const segments = path.split("/");
  const rest = segments.slice(depth);
  const at = rest.length === 0
    ? [...clash.split("/").slice(0, -1), segments[segments.length - 1]!]
    : [...clash.split("/"), ...rest];
  return await freeMarker(scope, at.join("/"), "rejected");
}

/** A marker name for `rel` in the mirror that nothing on disk or planned holds yet. */
export async function freeMarker(
  scope: Pick<BatchScope, "planner" | "mirrorRoot" | "now">,
  rel: string,
  kind: MarkerKind,
): Promise<string> {
  const { planner, mirrorRoot: root, now } = scope;
  const free = await freeMarkerName(
    rel,
    kind,
    now,
    async (name) => (await planner.hash(root, name)) !== null,
  );
  // Thousands of markers of one file in one second: the last name is reused.
  return free ?? markerName(rel, kind, now, MARKER_MAX_SUFFIX);
}
