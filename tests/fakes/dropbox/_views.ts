/**
 * What a user sees of the store: file, folder and deleted metadata, shared
 * folder metadata, accounts; each in Dropbox's documented shape, with the
 * paths of the user's own view (a shared folder's content appears under
 * each member's mount path).
 * @module
 */
import { baseName, type Node, type SharedFolder, type Store, type User } from "./_store.ts";

/** `path_lower` / `path_display` of a node for `user`, or null when not visible. */
export function pathsOf(
  store: Store,
  user: User,
  node: Node,
): { lower: string; display: string } | null {
  const view = store.viewOf(user, node.ns);
  if (!view) return null;
  return { lower: view.lower + node.relLower, display: view.display + node.relDisplay };
}

/** File or folder metadata (`.tag` file|folder) at user-visible paths. */
export function metadata(
  store: Store,
  user: User,
  node: Node,
  paths: { lower: string; display: string },
): Record<string, unknown> {
  const name = baseName(paths.display);
  const sf = node.ns.shared;
  const readOnly = sf ? store.accessIn(user, node.ns) === "viewer" : false;
  if (node.kind === "folder") {
    const out: Record<string, unknown> = {
      ".tag": "folder",
      name,
      path_lower: paths.lower,
      path_display: paths.display,
      id: node.id,
    };
    if (node.mount) {
      const mountedRo = store.accessIn(user, node.mount.ns) === "viewer";
      out.shared_folder_id = node.mount.id;
      out.sharing_info = {
        read_only: mountedRo,
        shared_folder_id: node.mount.id,
        traverse_only: false,
        no_access: false,
      };
    } else if (sf) {
      out.parent_shared_folder_id = sf.id;
      out.sharing_info = {
        read_only: readOnly,
        parent_shared_folder_id: sf.id,
        traverse_only: false,
        no_access: false,
      };
    }
    return out;
  }
  const out: Record<string, unknown> = {
    ".tag": "file",
    name,
    path_lower: paths.lower,
    path_display: paths.display,
    id: node.id,
    client_modified: node.clientModified,
    server_modified: node.serverModified,
    rev: node.rev,
    size: node.content?.length ?? 0,
    is_downloadable: true,
    content_hash: node.contentHash,
  };
  if (sf) {
    out.parent_shared_folder_id = sf.id;
    out.sharing_info = {
      read_only: readOnly,
      parent_shared_folder_id: sf.id,
      modified_by: node.modifiedBy,
    };
  }
  return out;
}

/** The same metadata as a struct (FileMetadata, FolderMetadata): routes that return one send no `.tag`. */
export function untagged(m: Record<string, unknown>): Record<string, unknown> {
  const { [".tag"]: _, ...rest } = m;
  return rest;
}

/** A deleted entry of a listing. */
export function deleted(paths: { lower: string; display: string }): Record<string, unknown> {
  return {
    ".tag": "deleted",
    name: baseName(paths.display),
    path_lower: paths.lower,
    path_display: paths.display,
  };
}

/** sharing.SharedFolderMetadata as `user` sees it (paths only where it has it mounted). */
export function sharedFolderMetadata(
  user: User,
  sf: SharedFolder,
): Record<string, unknown> {
  const access = sf.members.get(user.email)?.access ?? "viewer";
  const out: Record<string, unknown> = {
    access_type: { ".tag": access },
    is_inside_team_folder: false,
    is_team_folder: false,
    owner_display_names: [sf.owner.displayName],
    name: sf.name,
    policy: {
      acl_update_policy: { ".tag": "editors" },
      shared_link_policy: { ".tag": "anyone" },
      member_policy: { ".tag": "anyone" },
      resolved_member_policy: { ".tag": "anyone" },
      viewer_info_policy: { ".tag": "enabled" },
    },
    preview_url: `https://www.dropbox.com/scl/fo/${sf.id}`,
    shared_folder_id: sf.id,
    time_invited: sf.members.get(user.email)?.invited ?? sf.created,
    access_inheritance: { ".tag": "inherit" },
  };
  const mountedAt = sf.mounts.get(user.accountId);
  const node = mountedAt === undefined ? undefined : user.root.nodes.get(mountedAt);
  if (node) {
    out.path_lower = node.relLower;
    out.path_display = node.relDisplay;
    out.folder_id = node.id;
  }
  return out;
}

/** users.FullAccount. */
export function fullAccount(user: User): Record<string, unknown> {
  const [given, ...rest] = user.displayName.split(" ");
  return {
    account_id: user.accountId,
    name: {
      given_name: given ?? "",
      surname: rest.join(" "),
      familiar_name: given ?? "",
      display_name: user.displayName,
      abbreviated_name: user.displayName.slice(0, 2).toUpperCase(),
    },
    email: user.email,
    email_verified: true,
    disabled: false,
    country: "US",
    locale: "en",
    referral_link: `https://www.dropbox.com/referrals/${user.uid}`,
    is_paired: false,
    account_type: { ".tag": "basic" },
    root_info: {
      ".tag": "user",
      root_namespace_id: user.root.id,
      home_namespace_id: user.root.id,
    },
  };
}

/** A member of a shared folder, as list_folder_members shows a user. */
export function userMembership(user: User, access: string): Record<string, unknown> {
  return {
    access_type: { ".tag": access },
    user: {
      account_id: user.accountId,
      email: user.email,
      display_name: user.displayName,
      same_team: false,
    },
    permissions: [],
    is_inherited: false,
  };
}

/** An invitee (no account for the e-mail yet). */
export function inviteeMembership(email: string, access: string): Record<string, unknown> {
  return {
    access_type: { ".tag": access },
    invitee: { ".tag": "email", email },
    permissions: [],
    is_inherited: false,
  };
}
