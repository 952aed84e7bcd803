/**
 * Resources as a caller sees them: the whole `drive#file`, `drive#user` and
 * `drive#permission` before `fields` cuts them, and the view `q` is matched on.
 * @module
 */
import { MY_SELF, type QueryFile } from "./_query.ts";
import { type Caller, digest, FOLDER, type Role, type Store, type StoredFile } from "./_store.ts";

/** The caller's view of a file for `q`. */
export function queryView(store: Store, caller: Caller, f: StoredFile): QueryFile {
  const me = caller.user.email;
  const withMe = (list: string[]) => list.includes(me) ? [...list, MY_SELF] : list;
  const writers = [f.owner, ...f.shares.filter((s) => s.role === "writer").map((s) => s.email)];
  const readers = [
    ...writers,
    ...f.shares.filter((s) => s.role !== "writer").map((s) => s.email),
  ];
  return {
    name: f.name,
    mimeType: f.mimeType,
    // As in the file resource: a folder the caller cannot reach is no parent it
    // can search by (a file shared alone does not reveal where it sits). Read
    // only by `in parents` terms, so a listing without one pays nothing.
    get parents() {
      return f.parents.filter((p) => {
        const parent = store.files.get(p);
        return parent !== undefined && store.reaches(caller, parent);
      });
    },
    owners: withMe([f.owner]),
    writers: withMe(writers),
    readers: withMe(readers),
    trashed: store.trashed(f),
    starred: f.starred,
    sharedWithMe: f.owner !== me && f.shares.some((s) => s.email === me),
    createdTime: f.createdTime,
    modifiedTime: f.modifiedTime,
    properties: f.properties,
    appProperties: f.appProperties,
  };
}

/** A `drive#user` resource. */
export function userResource(store: Store, email: string, me: string): Record<string, unknown> {
  const u = store.users.get(email);
  return {
    kind: "drive#user",
    displayName: u?.displayName ?? email,
    emailAddress: email,
    ...(u ? { permissionId: u.permissionId } : {}),
    me: email === me,
  };
}

/** A `drive#permission` resource. */
export function permissionResource(
  store: Store,
  email: string,
  role: Role,
): Record<string, unknown> {
  const u = store.users.get(email);
  return {
    kind: "drive#permission",
    id: u?.permissionId ?? `pending-${email}`,
    type: "user",
    emailAddress: email,
    role,
    displayName: u?.displayName ?? email,
    deleted: false,
    pendingOwner: false,
  };
}

/** The whole `drive#file` resource as the caller sees it (then cut by `fields`). */
export function fileResource(
  store: Store,
  caller: Caller,
  f: StoredFile,
  fields: string | null,
): Record<string, unknown> {
  const me = caller.user.email;
  const role = store.role(me, f);
  const canEdit = role === "owner" || role === "writer";
  const share = f.shares.find((s) => s.email === me);
  const isFolder = f.mimeType === FOLDER;
  const out: Record<string, unknown> = {
    kind: "drive#file",
    id: f.id,
    name: f.name,
    mimeType: f.mimeType,
    starred: f.starred,
    trashed: store.trashed(f),
    explicitlyTrashed: f.explicitlyTrashed,
    spaces: ["drive"],
    version: String(f.version),
    webViewLink: `https://drive.google.com/file/d/${f.id}/view`,
    createdTime: f.createdTime,
    modifiedTime: f.modifiedTime,
    modifiedByMe: f.lastModifyingUser === me,
    owners: [userResource(store, f.owner, me)],
    lastModifyingUser: userResource(store, f.lastModifyingUser, me),
    shared: f.shares.length > 0,
    ownedByMe: f.owner === me,
    isAppAuthorized: f.appAuthorized.has(`${me}\n${caller.clientId}`),
    capabilities: {
      canEdit,
      canAddChildren: isFolder && canEdit,
      canListChildren: isFolder,
      canDelete: role === "owner",
      canTrash: role === "owner",
      canShare: canEdit,
      canDownload: !isFolder,
      canRename: canEdit,
    },
    appProperties: f.appProperties,
    properties: f.properties,
    quotaBytesUsed: String(f.owner === me ? f.content?.length ?? 0 : 0),
  };
  // Drive shows only the parents the caller can reach, and no key when there are none.
  const parents = f.parents.filter((p) => {
    const parent = store.files.get(p);
    return parent !== undefined && store.reaches(caller, parent);
  });
  if (parents.length > 0) out.parents = parents;
  if (f.description !== undefined) out.description = f.description;
  if (share) {
    out.sharingUser = userResource(store, share.by, me);
    out.sharedWithMeTime = share.time;
  }
  if (canEdit) {
    out.permissions = [
      permissionResource(store, f.owner, "owner"),
      ...f.shares.map((s) => permissionResource(store, s.email, s.role)),
    ];
    out.permissionIds = (out.permissions as { id: string }[]).map((p) => p.id);
  }
  if (f.content) {
    out.size = String(f.content.length);
    if (fields !== null && /\*|md5Checksum|sha1Checksum|sha256Checksum/.test(fields)) {
      const content = f.content;
      f.digests ??= {
        md5: digest("md5", content),
        sha1: digest("sha1", content),
        sha256: digest("sha256", content),
      };
      out.md5Checksum = f.digests.md5;
      out.sha1Checksum = f.digests.sha1;
      out.sha256Checksum = f.digests.sha256;
    }
    out.headRevisionId = `0B${f.id.slice(1, 12)}v${f.version}`;
    out.originalFilename = f.name;
    const dot = f.name.lastIndexOf(".");
    if (dot > 0) {
      out.fileExtension = f.name.slice(dot + 1);
      out.fullFileExtension = f.name.slice(f.name.indexOf(".") + 1);
    }
  }
  return out;
}
