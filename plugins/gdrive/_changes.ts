/**
 * What `changes()` learns from Drive's change feed (issue 13 item 5), kept
 * apart from the transport so it can be tested alone: which incoming
 * channels a change touches, and the opaque cursor carried between rounds
 * (Drive's page token, rounds since the last full listing, and the incoming
 * channel folders by id).
 * @module
 */
import { isIdentity } from "../../core/paths/identity.ts";
import { type DriveFile, FOLDER_MIME } from "./_files.ts";
import { type ChannelFolder, parseChannelFolderName } from "./_layout.ts";
import { encodeBase64, parseBase64 } from "../../core/encoding/base64.ts";

/** One entry of `changes.list`, parsed. */
export interface Change {
  fileId: string;
  removed: boolean;
  file: DriveFile | null;
}

/** What `changes()` remembers between rounds (inside the opaque cursor). */
export interface Cursor {
  /** Drive's changes page token. */
  token: string;
  /** Rounds since the last full channel listing. */
  rounds: number;
  /** Incoming channel folder ids → their sender. */
  folders: Record<string, string>;
}

/**
 * Add to `marked` the sender of every incoming channel `change` may touch:
 * a file whose parent is a known channel folder, or a channel folder itself
 * (whose owner must be the sender it names). A removal Drive cannot place
 * (a deleted file keeps no parents) marks every known channel, which the
 * contract allows. Updates `folders`; returns a channel folder it learnt.
 */
export function markChange(
  change: Change,
  me: string,
  folders: Record<string, string>,
  marked: Set<string>,
): ChannelFolder | null {
  const file = change.file;
  if (file === null) {
    if (!change.removed) return null;
    const sender = folders[change.fileId];
    if (sender !== undefined) {
      marked.add(sender);
      delete folders[change.fileId];
    } else {
      for (const s of Object.values(folders)) marked.add(s);
    }
    return null;
  }
  if (file.mimeType === FOLDER_MIME) {
    const ref = parseChannelFolderName(file.name);
    if (ref !== null && ref.recipient === me && file.owners.includes(ref.sender)) {
      marked.add(ref.sender);
      if (file.trashed || change.removed) {
        delete folders[file.id];
        return null;
      }
      folders[file.id] = ref.sender;
      return { ref, id: file.id };
    }
  }
  for (const parent of file.parents) {
    const sender = folders[parent];
    if (sender !== undefined) marked.add(sender);
  }
  if (file.parents.length === 0 && (file.trashed || change.removed)) {
    // Trashed or unshared: Drive may no longer tell us where it was.
    for (const s of Object.values(folders)) marked.add(s);
  }
  return null;
}

/** The opaque cursor string. */
export function encodeCursor(cursor: Cursor): string {
  const json = JSON.stringify({ v: 1, t: cursor.token, n: cursor.rounds, f: cursor.folders });
  return encodeBase64(new TextEncoder().encode(json));
}

/** A cursor we cannot read counts as none: a full sync reports every channel, which is allowed. */
export function decodeCursor(cursor: string): Cursor | null {
  try {
    const bytes = parseBase64(cursor);
    if (bytes === null) return null;
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value !== "object" || value === null) return null;
    const { v, t, n, f } = value as Record<string, unknown>;
    if (v !== 1 || typeof t !== "string" || t === "" || typeof n !== "number") return null;
    if (typeof f !== "object" || f === null) return null;
    const folders: Record<string, string> = {};
    for (const [id, sender] of Object.entries(f)) {
      if (typeof sender !== "string" || !isIdentity(sender)) return null;
      folders[id] = sender;
    }
    return { token: t, rounds: n, folders };
  } catch {
    return null;
  }
}
