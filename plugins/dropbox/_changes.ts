/**
 * The opaque cursor `changes()` hands out: Dropbox's `list_folder` cursor
 * over `/syft` (or the whole Dropbox, see `_index.ts`), the incoming channels reported so far (a new one is a
 * change), and the owner checks already made (so a later process does not
 * call `list_folder_members` again for each peer). Parsed once, bounded.
 * @module
 */
import { isRecord } from "../../core/encoding/record.ts";
import { isIdentity } from "../../core/paths/identity.ts";
import type { Verified } from "./_layout.ts";
import { ROOT } from "./_index.ts";

/** What a cursor holds. */
export interface ChangesCursor {
  /** Dropbox's cursor over `scope`. */
  dropbox: string;
  /** What it lists: `/syft`, or "" for the whole Dropbox. */
  scope: string;
  /** Senders of the incoming channels known at that point. */
  senders: string[];
  /** Shared folder id → its verified sender and the sender's account id. */
  owners: Record<string, Verified>;
}

/** A cursor is never near this; a larger one is not ours. */
const MAX_CURSOR_CHARS = 1024 * 1024;
const PREFIX = "dbx1.";

/** The opaque string for `cursor`. */
export function encodeCursor(cursor: ChangesCursor): string {
  return PREFIX +
    btoa(JSON.stringify([cursor.dropbox, cursor.scope, cursor.senders, cursor.owners]));
}

/** The cursor `text` stands for, or null for anything else (then: a full sync). */
export function decodeCursor(text: string): ChangesCursor | null {
  if (text.length > MAX_CURSOR_CHARS || !text.startsWith(PREFIX)) return null;
  let value: unknown;
  try {
    value = JSON.parse(atob(text.slice(PREFIX.length)));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 4) return null;
  const [dropbox, scope, senders, owners] = value;
  if (typeof dropbox !== "string" || dropbox === "") return null;
  if (scope !== "" && scope !== ROOT) return null;
  if (!Array.isArray(senders) || !senders.every((s) => typeof s === "string" && isIdentity(s))) {
    return null;
  }
  if (!isRecord(owners)) return null;
  const checked: Record<string, Verified> = {};
  for (const [id, v] of Object.entries(owners)) {
    if (
      !Array.isArray(v) || v.length !== 2 || typeof v[0] !== "string" || !isIdentity(v[0]) ||
      typeof v[1] !== "string"
    ) return null;
    checked[id] = [v[0], v[1]];
  }
  return { dropbox, scope, senders, owners: checked };
}
