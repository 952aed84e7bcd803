/**
 * Partial responses (`fields=`): Google returns only what the selector names,
 * and refuses a selector that names a field the resource does not have.
 * Grammar: `a,b/c,d(e,f),*`.
 * @module
 */
import { invalidParameter } from "./_errors.ts";

/** A parsed selector: each key maps to "everything below" or a sub-selection. */
export type Selection = Map<string, Selection | "all">;

/** Which keys a resource has, and the schema of those that hold resources. */
export interface Schema {
  [key: string]: Schema | null;
}

const USER: Schema = {
  kind: null,
  displayName: null,
  emailAddress: null,
  permissionId: null,
  me: null,
  photoLink: null,
};

/** Drive v3 `Permission`. */
export const PERMISSION: Schema = {
  kind: null,
  id: null,
  type: null,
  emailAddress: null,
  domain: null,
  role: null,
  allowFileDiscovery: null,
  displayName: null,
  photoLink: null,
  expirationTime: null,
  deleted: null,
  view: null,
  pendingOwner: null,
  permissionDetails: null,
  teamDrivePermissionDetails: null,
  inheritedPermissionsDisabled: null,
};

/** Drive v3 `File` (every documented key; the fake fills only some). */
export const FILE: Schema = Object.fromEntries(
  [
    "kind",
    "driveId",
    "fileExtension",
    "copyRequiresWriterPermission",
    "md5Checksum",
    "sha1Checksum",
    "sha256Checksum",
    "contentHints",
    "writersCanShare",
    "viewedByMe",
    "mimeType",
    "exportLinks",
    "parents",
    "thumbnailLink",
    "iconLink",
    "shared",
    "headRevisionId",
    "webViewLink",
    "webContentLink",
    "size",
    "viewersCanCopyContent",
    "hasThumbnail",
    "spaces",
    "folderColorRgb",
    "id",
    "name",
    "description",
    "starred",
    "trashed",
    "explicitlyTrashed",
    "createdTime",
    "modifiedTime",
    "modifiedByMeTime",
    "viewedByMeTime",
    "sharedWithMeTime",
    "quotaBytesUsed",
    "version",
    "originalFilename",
    "ownedByMe",
    "fullFileExtension",
    "properties",
    "appProperties",
    "isAppAuthorized",
    "teamDriveId",
    "capabilities",
    "hasAugmentedPermissions",
    "thumbnailVersion",
    "trashedTime",
    "modifiedByMe",
    "permissionIds",
    "imageMediaMetadata",
    "videoMediaMetadata",
    "shortcutDetails",
    "contentRestrictions",
    "resourceKey",
    "linkShareMetadata",
    "labelInfo",
    "inheritedPermissionsDisabled",
    "downloadRestrictions",
  ].map((k) => [k, null]),
);
Object.assign(FILE, {
  owners: USER,
  lastModifyingUser: USER,
  sharingUser: USER,
  trashingUser: USER,
  permissions: PERMISSION,
});

/** `files.list` response. */
export const FILE_LIST: Schema = {
  kind: null,
  nextPageToken: null,
  incompleteSearch: null,
  files: FILE,
};

/** `permissions.list` response. */
export const PERMISSION_LIST: Schema = { kind: null, nextPageToken: null, permissions: PERMISSION };

/** One `Change`. */
export const CHANGE: Schema = {
  kind: null,
  changeType: null,
  time: null,
  removed: null,
  fileId: null,
  file: FILE,
  driveId: null,
  drive: null,
  teamDriveId: null,
  teamDrive: null,
  type: null,
};

/** `changes.list` response. */
export const CHANGE_LIST: Schema = {
  kind: null,
  nextPageToken: null,
  newStartPageToken: null,
  changes: CHANGE,
};

/** `changes.getStartPageToken` response. */
export const START_PAGE_TOKEN: Schema = { kind: null, startPageToken: null };

/** `about.get` response (the part the fake models). */
export const ABOUT: Schema = {
  kind: null,
  user: USER,
  storageQuota: null,
  importFormats: null,
  exportFormats: null,
  maxImportSizes: null,
  maxUploadSize: null,
  appInstalled: null,
  folderColorPalette: null,
  driveThemes: null,
  canCreateDrives: null,
  canCreateTeamDrives: null,
  teamDriveThemes: null,
};

/** Parse a `fields` value against `schema`; an unknown key is a 400 as on Drive. */
export function parseFields(text: string, schema: Schema): Selection {
  let pos = 0;
  const fail = (): never => {
    throw invalidParameter("fields", `Invalid field selection ${text}`);
  };
  const name = (): string => {
    const m = /^[A-Za-z_*][A-Za-z0-9_]*/.exec(text.slice(pos));
    if (!m) fail();
    pos += m![0].length;
    return m![0];
  };
  const list = (schema: Schema | null): Selection => {
    const out: Selection = new Map();
    for (;;) {
      while (text[pos] === " ") pos++;
      item(out, schema);
      while (text[pos] === " ") pos++;
      if (text[pos] !== ",") return out;
      pos++;
    }
  };
  const item = (into: Selection, schema: Schema | null): void => {
    const key = name();
    if (key !== "*" && schema !== null && !(key in schema)) {
      throw invalidParameter("fields", `Invalid field selection ${key}`);
    }
    const child = key === "*" || schema === null ? null : schema[key] ?? null;
    if (text[pos] === "/") {
      pos++;
      const sub = into.get(key);
      const nested: Selection = sub instanceof Map ? sub : new Map();
      item(nested, child);
      if (sub !== "all") into.set(key, nested);
    } else if (text[pos] === "(") {
      pos++;
      const nested = list(child);
      if (text[pos] !== ")") fail();
      pos++;
      into.set(key, nested);
    } else {
      into.set(key, "all");
    }
  };
  const out = list(schema);
  if (pos !== text.length) fail();
  return out;
}

/** Keep only the selected parts of `value` (arrays are selected element by element). */
export function applyFields(value: unknown, selection: Selection): unknown {
  if (Array.isArray(value)) return value.map((v) => applyFields(v, selection));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  const all = selection.get("*") === "all";
  for (const [key, v] of Object.entries(value)) {
    const sel = selection.get(key);
    if (sel === "all" || (sel === undefined && all)) out[key] = v;
    else if (sel instanceof Map) out[key] = applyFields(v, sel);
  }
  return out;
}

/**
 * Select from `value` by the request's `fields`, or by Drive's defaults when
 * absent (`defaults` is itself a selector, e.g. `kind,id,name,mimeType`).
 */
export function select(
  value: unknown,
  fields: string | null,
  schema: Schema,
  defaults: string,
): unknown {
  const text = fields === null || fields === "" ? defaults : fields;
  return applyFields(value, parseFields(text, schema));
}
