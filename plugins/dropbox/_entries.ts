/**
 * Dropbox's metadata, parsed once into the few fields syft uses: a listing
 * entry (file, folder or deleted), a shared folder as `list_mountable_folders`
 * shows it, and a member as `list_folder_members` shows it. Anything
 * malformed is dropped here, so the code after trusts its types.
 * @module
 */
import { isRecord } from "../../core/encoding/record.ts";
import { tagOf } from "./_errors.ts";

/** Strings from Dropbox are bounded before use (paths are at most a few KiB). */
const MAX_STRING = 4096;

/** One entry of a listing (`files/list_folder`, `get_metadata`, an upload's answer). */
export interface Entry {
  tag: "file" | "folder" | "deleted";
  /** The last path component, case as written. */
  name: string;
  /** The full path in lower case (Dropbox compares paths case-insensitively). */
  pathLower: string;
  /** Bytes (files only; 0 otherwise). */
  size: number;
  /** Account id of whoever last wrote the file (files inside shared folders). */
  modifiedBy?: string | undefined;
  /** Dropbox's content hash of a file. */
  contentHash?: string | undefined;
  /** A file's revision. */
  rev?: string | undefined;
  /** The shared folder a folder entry is the root of. */
  sharedFolderId?: string | undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.length <= MAX_STRING ? value : undefined;
}

/** An entry, or null for anything else. */
export function parseEntry(value: unknown): Entry | null {
  if (!isRecord(value)) return null;
  const tag = tagOf(value);
  const name = str(value.name);
  const pathLower = str(value.path_lower);
  if (name === undefined || pathLower === undefined) return null;
  if (tag === "deleted") return { tag, name, pathLower, size: 0 };
  if (tag === "folder") {
    const sharing = isRecord(value.sharing_info) ? value.sharing_info : {};
    return {
      tag,
      name,
      pathLower,
      size: 0,
      sharedFolderId: str(sharing.shared_folder_id) ?? str(value.shared_folder_id),
    };
  }
  if (tag !== "file") return null;
  const size = value.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return null;
  const sharing = isRecord(value.sharing_info) ? value.sharing_info : {};
  return {
    tag,
    name,
    pathLower,
    size,
    modifiedBy: str(sharing.modified_by),
    contentHash: str(value.content_hash),
    rev: str(value.rev),
  };
}

/** The entries of a listing page, malformed ones dropped. */
export function parseEntries(value: unknown): Entry[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v) => parseEntry(v) ?? []);
}

/** A shared folder we were invited to, as Dropbox lists it. */
export interface SharedFolder {
  sharedFolderId: string;
  /** The folder's name (its owner's name for it). */
  name: string;
  /** Where it is mounted in our Dropbox, lower case; absent while unmounted. */
  pathLower?: string | undefined;
}

/** A `SharedFolderMetadata`, or null. */
export function parseSharedFolder(value: unknown): SharedFolder | null {
  if (!isRecord(value)) return null;
  const sharedFolderId = str(value.shared_folder_id);
  const name = str(value.name);
  if (sharedFolderId === undefined || name === undefined) return null;
  const pathLower = str(value.path_lower);
  return pathLower === undefined ? { sharedFolderId, name } : { sharedFolderId, name, pathLower };
}

/** A user member of a shared folder. */
export interface Member {
  accountId: string;
  /** Lower-case; "" when Dropbox did not say. */
  email: string;
  /** `owner`, `editor`, `viewer`, … */
  accessType: string;
}

/** The user members of a `list_folder_members` answer, malformed ones dropped. */
export function parseMembers(value: unknown): Member[] {
  if (!isRecord(value) || !Array.isArray(value.users)) return [];
  return value.users.flatMap((u) => {
    if (!isRecord(u) || !isRecord(u.user)) return [];
    const accountId = str(u.user.account_id);
    const accessType = tagOf(u.access_type);
    if (accountId === undefined || accessType === undefined) return [];
    return [{ accountId, email: (str(u.user.email) ?? "").toLowerCase(), accessType }];
  });
}
