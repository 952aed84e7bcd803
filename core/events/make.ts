/**
 * Building the FileChangeEvents we write (docs/protocol.md §4.2): publications of
 * our datasite, proposals to a peer's, and deletions of either. Pure.
 * @module
 */
import { type FileChangeEvent, INLINE_LIMIT } from "./types.ts";

/** A new or changed file of `datasite` as `info` describes it. */
export function changeEvent(
  datasite: string,
  path: string,
  info: { hash: string; size: number; mode: "file" | "exec" },
  oldHash: string | null,
  now: number,
): FileChangeEvent {
  return {
    id: crypto.randomUUID(),
    datasite,
    path,
    old_hash: oldHash,
    new_hash: info.hash,
    size: info.size,
    deleted: false,
    mode: info.mode,
    submitted_at: now,
    ts: now,
    content: info.size <= INLINE_LIMIT ? "inline" : "blob",
  };
}

/** The deletion of `path` of `datasite` (last seen as `oldHash`). */
export function deletionEvent(
  datasite: string,
  path: string,
  oldHash: string | null,
  now: number,
  mode: "file" | "exec" = "file",
): FileChangeEvent {
  return {
    id: crypto.randomUUID(),
    datasite,
    path,
    old_hash: oldHash,
    new_hash: null,
    size: 0,
    deleted: true,
    mode,
    submitted_at: now,
    ts: now,
    content: null,
  };
}
