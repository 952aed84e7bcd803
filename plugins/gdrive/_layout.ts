/**
 * Where syft lives in Google Drive (issue 13 item 3, docs/protocol.md §2):
 *
 * ```
 * My Drive/syft/                                 the sender's own folder
 * My Drive/syft/syft1#<sender>#<recipient>/      one channel, shared with the recipient as reader
 * My Drive/syft/syft1#<sender>#<recipient>/<object name>
 * My Drive/syft/syft2pool/                       the sender's pool, never shared (see `_pool.ts`)
 * ```
 *
 * A recipient finds channels among the folders shared with it, and trusts one
 * only when Drive says its owner is the sender named in it; inside, only
 * files owned by that sender count. Anything else is ignored and reported
 * once. Folder ids are remembered for the life of the plugin, so a round
 * does not look them up again.
 * @module
 */
import { channelName, type ChannelRef, OBJECT_NAME_RE } from "../../core/transport/contract.ts";
import { isIdentity } from "../../core/paths/identity.ts";
import type { DriveApi } from "./_api.ts";
import { DriveError } from "./_backoff.ts";
import { SyftError } from "../../core/errors/mod.ts";
import {
  byCreation,
  type DriveFile,
  exactlyNamed,
  FOLDER_MIME,
  qString,
  resolveCreate,
  winner,
} from "./_files.ts";

/** Name of the folder in My Drive that holds our channels. */
export const ROOT_FOLDER_NAME = "syft";

/** The channel a folder name stands for, or null for anything else. */
export function parseChannelFolderName(name: string): ChannelRef | null {
  const parts = name.split("#");
  if (parts.length !== 3 || parts[0] !== "syft1") return null;
  const [, sender, recipient] = parts;
  if (sender === undefined || recipient === undefined) return null;
  if (!isIdentity(sender) || !isIdentity(recipient)) return null;
  return { sender, recipient };
}

/**
 * Drive shares without a notification e-mail only with addresses that have a
 * Google account (`invalidSharingRequest` otherwise); say so instead of
 * passing on Drive's advice to tick "Notify people".
 */
export function explainSharing(err: unknown, recipient: string, op = "openChannel"): unknown {
  if (
    err instanceof SyftError && err.cause instanceof DriveError &&
    err.cause.reason === "invalidSharingRequest"
  ) {
    return new SyftError(
      "E_TRANSPORT",
      `gdrive transport failed during ${op}: Google Drive cannot share with ${recipient}, ` +
        "which has no Google account under that address",
      {
        hint: `${recipient} must use a Google account with that address to peer over Drive`,
        cause: err,
      },
    );
  }
  return err;
}

/** A channel folder we may read, with its Drive id. */
export interface ChannelFolder {
  ref: ChannelRef;
  id: string;
}

/** How long our own creates are added to listings that do not show them yet. */
const RECENT_MS = 60_000;
/** Recent creates remembered per channel. */
const MAX_RECENT = 10_000;

/** Object ids remembered across all channels before the hints are dropped. */
const MAX_KNOWN_IDS = 200_000;

/** Lexical byte order for ASCII names. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Finds and creates syft's folders and objects for one identity. */
export class DriveLayout {
  readonly #api: DriveApi;
  readonly #me: string;
  readonly #report: (message: string) => void;
  readonly #reported = new Set<string>();
  #rootId: string | null = null;
  /** Channel folder ids by channel name (ours and incoming). */
  readonly #folders = new Map<string, string>();
  /** Our channels that are known to be shared with their recipient. */
  readonly #shared = new Set<string>();
  /**
   * Object name → file id per channel, from the last listing or put, so a
   * `get` after a `list` costs one call, not two. Only a hint: a stale id
   * answers 404 and the name is looked up again.
   */
  readonly #ids = new Map<string, Map<string, string>>();
  #idCount = 0;
  /**
   * Objects we created lately, per channel: Drive's listings can lag behind a
   * create, and a writer must see its own objects at once (the next batch
   * number is read from its own channel).
   */
  readonly #recent = new Map<string, Map<string, { file: DriveFile; at: number }>>();

  constructor(api: DriveApi, me: string, report: (message: string) => void) {
    this.#api = api;
    this.#me = me;
    this.#report = report;
  }

  /** Report something ignored, once per plugin life. */
  ignore(key: string, message: string): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#report(message);
  }

  /** The id of our `syft` folder, created when missing and `create` is set. */
  async rootId(op: string, create: boolean): Promise<string | null> {
    if (this.#rootId !== null) return this.#rootId;
    const q = `name = ${qString(ROOT_FOLDER_NAME)} and mimeType = ${qString(FOLDER_MIME)}` +
      ` and 'root' in parents and trashed = false`;
    const find = async () =>
      winner(exactlyNamed(await this.#api.listAll(op, q), ROOT_FOLDER_NAME, this.#me));
    let found = await find();
    if (found === null && create) {
      // No parents: Drive puts a new file at the top of My Drive ('root').
      found = await this.#createOnce(op, ROOT_FOLDER_NAME, null);
    }
    if (found !== null) this.#rootId = found.id;
    return this.#rootId;
  }

  /**
   * The id of our folder `name` in our `syft` folder (never shared by this
   * class), created when missing and `create` is set; null when it is missing.
   */
  async ownFolder(op: string, name: string, create: boolean): Promise<string | null> {
    const cached = this.#folders.get(name);
    if (cached !== undefined) return cached;
    const root = await this.rootId(op, create);
    if (root === null) return null;
    let id = (await this.#findOwnChannel(op, root, name))?.id;
    if (id === undefined && create) id = (await this.#createOnce(op, name, root)).id;
    if (id !== undefined) this.#folders.set(name, id);
    return id ?? null;
  }

  /** Our channel `ref`'s folder id, or null when it does not exist. */
  async ownChannel(op: string, ref: ChannelRef): Promise<string | null> {
    const name = channelName(ref);
    const cached = this.#folders.get(name);
    if (cached !== undefined) return cached;
    const root = await this.rootId(op, false);
    if (root === null) return null;
    const found = await this.#findOwnChannel(op, root, name);
    if (found !== null) this.#folders.set(name, found.id);
    return found?.id ?? null;
  }

  /**
   * Create (if needed) our channel to `ref.recipient` and share it with them
   * as a reader, without a notification e-mail. Safe to repeat: sharing an
   * already shared folder is a no-op for Drive.
   */
  async openChannel(op: string, ref: ChannelRef): Promise<string> {
    const name = channelName(ref);
    const root = await this.rootId(op, true);
    if (root === null) throw new Error("the syft folder could not be created");
    let id = this.#folders.get(name) ?? (await this.#findOwnChannel(op, root, name))?.id;
    if (id === undefined) {
      const created = await this.#createOnce(op, name, root);
      id = created.id;
    }
    this.#folders.set(name, id);
    if (!this.#shared.has(name)) {
      try {
        await this.#api.shareAsReader(op, id, ref.recipient);
      } catch (err) {
        throw explainSharing(err, ref.recipient);
      }
      this.#shared.add(name);
    }
    return id;
  }

  /** The folder of incoming channel `ref` if it is shared with us by its sender, else null. */
  async incomingChannel(op: string, ref: ChannelRef): Promise<string | null> {
    const name = channelName(ref);
    const cached = this.#folders.get(name);
    if (cached !== undefined) return cached;
    const q = `name = ${qString(name)} and mimeType = ${qString(FOLDER_MIME)}` +
      ` and sharedWithMe = true and trashed = false`;
    const copies = exactlyNamed(await this.#api.listAll(op, q), name);
    const genuine = copies.filter((f) => this.#ownedBySender(f, ref));
    const found = winner(genuine);
    if (found !== null) this.#folders.set(name, found.id);
    return found?.id ?? null;
  }

  /** Every channel folder shared with us whose owner is its sender, in name order. */
  async incoming(op: string): Promise<ChannelFolder[]> {
    const q = `name contains 'syft1' and mimeType = ${qString(FOLDER_MIME)}` +
      ` and sharedWithMe = true and trashed = false`;
    const byName = new Map<string, DriveFile[]>();
    for (const file of await this.#api.listAll(op, q)) {
      const ref = parseChannelFolderName(file.name);
      // `contains` matches more than syft's names; and a channel to someone else is not ours.
      if (ref === null || ref.recipient !== this.#me || file.trashed) continue;
      if (!this.#ownedBySender(file, ref)) continue;
      byName.set(file.name, [...(byName.get(file.name) ?? []), file]);
    }
    const out: ChannelFolder[] = [];
    for (const [name, copies] of byName) {
      const first = winner(copies);
      const ref = parseChannelFolderName(name);
      if (first === null || ref === null) continue;
      this.#folders.set(name, first.id);
      out.push({ ref, id: first.id });
    }
    return out.sort((a, b) => byteOrder(channelName(a.ref), channelName(b.ref)));
  }

  /** Remember an incoming channel's folder id learnt elsewhere (from changes). */
  remember(ref: ChannelRef, id: string): void {
    this.#folders.set(channelName(ref), id);
  }

  /**
   * The objects of channel `ref` (folder `folderId`): files its sender owns
   * with valid object names, one per name (the earliest created), in byte order.
   */
  async objects(op: string, ref: ChannelRef, folderId: string): Promise<DriveFile[]> {
    const q = `${qString(folderId)} in parents and trashed = false`;
    const byName = new Map<string, DriveFile>();
    for (const file of await this.#api.listAll(op, q)) {
      if (file.trashed || file.mimeType === FOLDER_MIME || !OBJECT_NAME_RE.test(file.name)) {
        continue;
      }
      if (!file.owners.includes(ref.sender)) {
        this.ignore(
          `object:${file.id}`,
          `gdrive: ignored ${JSON.stringify(file.name)} in ${channelName(ref)}: ` +
            `its owner is not ${ref.sender}`,
        );
        continue;
      }
      const seen = byName.get(file.name);
      if (seen === undefined || byCreation(file, seen) < 0) byName.set(file.name, file);
    }
    this.#mergeRecent(ref, byName);
    const ids = new Map<string, string>();
    for (const [name, file] of byName) ids.set(name, file.id);
    this.#keepIds(channelName(ref), ids);
    return [...byName.values()].sort((a, b) => byteOrder(a.name, b.name));
  }

  /** Remember that we just created `file` in our channel `ref`. */
  noteCreated(ref: ChannelRef, file: DriveFile): void {
    const key = channelName(ref);
    const recent = this.#recent.get(key) ?? new Map<string, { file: DriveFile; at: number }>();
    if (recent.size >= MAX_RECENT) recent.clear(); // only a hint: lose it rather than grow
    recent.set(file.name, { file, at: Date.now() });
    this.#recent.set(key, recent);
    this.noteId(ref, file.name, file.id);
  }

  /** Forget a recent create (the object was deleted). */
  forgetCreated(ref: ChannelRef, name: string): void {
    this.#recent.get(channelName(ref))?.delete(name);
    this.noteId(ref, name, null);
  }

  /**
   * Add our recent creates that the listing does not show yet; drop those it
   * shows (it caught up) or that are too old to be lag.
   */
  #mergeRecent(ref: ChannelRef, byName: Map<string, DriveFile>): void {
    if (ref.sender !== this.#me) return;
    const recent = this.#recent.get(channelName(ref));
    if (!recent) return;
    const now = Date.now();
    for (const [name, entry] of recent) {
      if (byName.has(name) || now - entry.at > RECENT_MS) recent.delete(name);
      else byName.set(name, entry.file);
    }
  }

  /** The file id object `name` had when last seen, if any. */
  knownId(ref: ChannelRef, name: string): string | undefined {
    return this.#ids.get(channelName(ref))?.get(name);
  }

  /** Remember (`id`) or forget (null) where object `name` lives. */
  noteId(ref: ChannelRef, name: string, id: string | null): void {
    const key = channelName(ref);
    const ids = this.#ids.get(key) ?? new Map<string, string>();
    if (id === null) ids.delete(name);
    else ids.set(name, id);
    this.#keepIds(key, ids);
  }

  /** Store a channel's ids, dropping all of them past a bound (they are only hints). */
  #keepIds(key: string, ids: Map<string, string>): void {
    this.#idCount += ids.size - (this.#ids.get(key)?.size ?? 0);
    this.#ids.set(key, ids);
    if (this.#idCount > MAX_KNOWN_IDS) {
      this.#ids.clear();
      this.#idCount = 0;
    }
  }

  /** Every copy of object `name` in the folder owned by the channel's sender. */
  async copies(op: string, ref: ChannelRef, folderId: string, name: string): Promise<DriveFile[]> {
    const q = `name = ${qString(name)} and ${qString(folderId)} in parents and trashed = false`;
    const found = exactlyNamed(await this.#api.listAll(op, q), name, ref.sender)
      .filter((f) => f.mimeType !== FOLDER_MIME);
    const recent = ref.sender === this.#me
      ? this.#recent.get(channelName(ref))?.get(name)
      : undefined;
    if (
      recent && Date.now() - recent.at <= RECENT_MS && !found.some((f) => f.id === recent.file.id)
    ) {
      found.push(recent.file); // the listing lags behind our own create
    }
    return found;
  }

  async #findOwnChannel(op: string, root: string, name: string): Promise<DriveFile | null> {
    const q = `name = ${qString(name)} and mimeType = ${qString(FOLDER_MIME)}` +
      ` and ${qString(root)} in parents and trashed = false`;
    return winner(exactlyNamed(await this.#api.listAll(op, q), name, this.#me));
  }

  /**
   * Create folder `name` in `parent` (null: the top of My Drive), then settle a race with another
   * instance of us: the earliest copy wins and ours is removed when it lost
   * (it is empty, nothing has used it yet).
   */
  async #createOnce(op: string, name: string, parent: string | null): Promise<DriveFile> {
    const created = await this.#api.createOnce(
      op,
      parent === null
        ? { name, mimeType: FOLDER_MIME }
        : { name, mimeType: FOLDER_MIME, parents: [parent] },
    );
    const q = `name = ${qString(name)} and mimeType = ${qString(FOLDER_MIME)}` +
      ` and ${qString(parent ?? "root")} in parents and trashed = false`;
    const copies = exactlyNamed(await this.#api.listAll(op, q), name, this.#me);
    if (!copies.some((f) => f.id === created.id)) copies.push(created);
    const { won } = resolveCreate(copies, (f) => f.id === created.id);
    if (won) return created;
    await this.#api.deleteFile(op, created.id);
    return winner(copies.filter((f) => f.id !== created.id)) ?? created;
  }

  #ownedBySender(file: DriveFile, ref: ChannelRef): boolean {
    if (file.owners.includes(ref.sender)) return true;
    this.ignore(
      `folder:${file.id}`,
      `gdrive: ignored the folder ${JSON.stringify(file.name)} shared with ${this.#me}: ` +
        `its owner is ${file.owners.join(", ") || "unknown"}, not ${ref.sender}`,
    );
    return false;
  }
}
