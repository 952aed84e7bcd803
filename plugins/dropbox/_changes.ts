/**
 * The opaque cursor `changes()` hands out: Dropbox's `list_folder` cursor
 * over `/syft` (or the whole Dropbox, see `_index.ts`), the incoming channels
 * known at that point (a new one is a change; their place lets a later
 * process read them without asking Dropbox for them again), the owner checks
 * already made (so a later process does not call `list_folder_members` again
 * for each peer), when invitations were last looked for (they have no change
 * feed: a one-shot round looks only every few minutes), and the recipients of
 * our own channels (one still unanswered makes every round look). Parsed
 * once, bounded.
 * @module
 */
import { isRecord } from "../../core/encoding/record.ts";
import { isIdentity } from "../../core/paths/identity.ts";
import type { Verified } from "./_layout.ts";
import { ROOT } from "./_index.ts";

/** An incoming channel as the cursor keeps it: sender, shared folder id, mount path (lower case). */
export type KnownChannel = [sender: string, sharedFolderId: string, pathLower: string];

/** What a cursor holds. */
export interface ChangesCursor {
  /** Dropbox's cursor over `scope`. */
  dropbox: string;
  /** What it lists: `/syft`, or "" for the whole Dropbox. */
  scope: string;
  /** The incoming channels known at that point. */
  channels: KnownChannel[];
  /** Shared folder id → its verified sender and the sender's account id. */
  owners: Record<string, Verified>;
  /** When `list_mountable_folders` was last asked, ms since the epoch. */
  invitesAt: number;
  /** Recipients of our own channel folders. */
  outgoing: string[];
}

/** A cursor is never near this; a larger one is not ours. */
const MAX_CURSOR_CHARS = 1024 * 1024;
/** v1 cursors (without channels' places) decode as null: one full sync after an upgrade. */
const PREFIX = "dbx2.";

/** The opaque string for `cursor`. */
export function encodeCursor(cursor: ChangesCursor): string {
  return PREFIX +
    btoa(JSON.stringify([
      cursor.dropbox,
      cursor.scope,
      cursor.channels,
      cursor.owners,
      cursor.invitesAt,
      cursor.outgoing,
    ]));
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
  if (!Array.isArray(value) || value.length !== 6) return null;
  const [dropbox, scope, channels, owners, invitesAt, outgoing] = value;
  if (typeof dropbox !== "string" || dropbox === "") return null;
  if (scope !== "" && scope !== ROOT) return null;
  if (!Array.isArray(channels) || !channels.every(isKnownChannel)) return null;
  if (typeof invitesAt !== "number" || !Number.isSafeInteger(invitesAt) || invitesAt < 0) {
    return null;
  }
  if (!Array.isArray(outgoing) || !outgoing.every((s) => typeof s === "string" && isIdentity(s))) {
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
  return { dropbox, scope, channels, owners: checked, invitesAt, outgoing };
}

function isKnownChannel(v: unknown): v is KnownChannel {
  return Array.isArray(v) && v.length === 3 && typeof v[0] === "string" && isIdentity(v[0]) &&
    typeof v[1] === "string" && v[1] !== "" && typeof v[2] === "string" &&
    (v[2] === ROOT || v[2].startsWith("/"));
}
