/**
 * Where syft lives in Dropbox (issue 18 item 2):
 *
 * ```
 * /syft/                                  our folder
 * /syft/syft1#<me>#<recipient>/           our channel: a shared folder, the recipient a viewer
 * /syft/syft1#<sender>#<me>/              a channel to us, mounted here (or `… (1)` on a clash)
 * ```
 *
 * A recipient finds channels with `list_mountable_folders` and accepts one
 * only when its owner (`list_folder_members`) is the sender named in it; it
 * then mounts it and moves the mount into `/syft`, so the one cursor over
 * `/syft` sees it. Channels are known by shared-folder id, never by path.
 * Anything else is ignored and reported once.
 * @module
 */
import { channelName, type ChannelRef } from "../../core/transport/contract.ts";
import { isIdentity } from "../../core/paths/identity.ts";
import { type DropboxApi } from "./_api.ts";
import { ROOT } from "./_index.ts";
import { isSyftError } from "../../core/errors/mod.ts";

/** A channel folder we may read or write. */
export interface ChannelFolder {
  ref: ChannelRef;
  sharedFolderId: string;
  /** Where it is in our Dropbox (lower case). */
  pathLower: string;
  /** The account id whose writes count in it (the sender's). */
  writerId: string;
}

/** The channel a folder name stands for (a clash suffix ` (n)` allowed), or null. */
export function parseChannelFolderName(name: string): ChannelRef | null {
  const parts = name.toLowerCase().replace(/ \(\d+\)$/, "").split("#");
  if (parts.length !== 3 || parts[0] !== "syft1") return null;
  const [, sender, recipient] = parts;
  if (sender === undefined || recipient === undefined) return null;
  if (!isIdentity(sender) || !isIdentity(recipient)) return null;
  return { sender, recipient };
}

/** Lexical byte order. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A sender verified as the owner of a shared folder: sender and account id. */
export type Verified = [sender: string, writerId: string];

/** Finds, checks and mounts channel folders for one identity. */
export class DropboxLayout {
  readonly #api: DropboxApi;
  readonly #me: string;
  readonly #report: (message: string) => void;
  readonly #reported = new Set<string>();
  /** Shared folders whose owner was checked: id → [sender, account id], or null (refused). */
  readonly verified = new Map<string, Verified | null>();
  /** Our channel folders known to exist and be shared with their recipient. */
  readonly #opened = new Set<string>();
  #incoming: ChannelFolder[] | null = null;

  constructor(api: DropboxApi, me: string, report: (message: string) => void) {
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

  /** Path of our channel `ref` (lower case: e-mails are, and so is the prefix). */
  ownPath(ref: ChannelRef): string {
    return `${ROOT}/${channelName(ref)}`;
  }

  /** Whether we created our channel `ref` (known, or seen in the index, or looked up). */
  async ownExists(op: string, ref: ChannelRef, indexed: boolean | null): Promise<boolean> {
    const path = this.ownPath(ref);
    if (this.#opened.has(path) || indexed === true) return true;
    if (indexed === false) return false;
    const meta = await this.#api.getMetadata(op, path);
    if (meta?.tag !== "folder") return false;
    this.#opened.add(path);
    return true;
  }

  /**
   * Create (if needed) our channel to `ref.recipient`, make it a shared folder
   * and add the recipient as a viewer, quietly. Safe to repeat.
   */
  async openChannel(op: string, ref: ChannelRef): Promise<void> {
    const path = this.ownPath(ref);
    if (this.#opened.has(path)) return;
    await this.#api.createFolder(op, ROOT);
    await this.#api.createFolder(op, path);
    const id = await this.#api.shareFolder(op, path);
    await this.#api.addViewer(op, id, ref.recipient);
    this.#opened.add(path);
  }

  /**
   * Every channel to us whose owner is its sender, in name order: mounted
   * (and moved into /syft) when it was not yet. `known` carries owner checks
   * from earlier processes (the changes cursor), so a round checks only new
   * folders.
   */
  async incoming(op: string, known: Record<string, Verified> = {}): Promise<ChannelFolder[]> {
    this.#learn(known);
    const bySender = new Map<string, ChannelFolder>();
    for (const folder of await this.#api.mountableFolders(op)) {
      const ref = parseChannelFolderName(folder.name);
      if (ref === null || ref.recipient !== this.#me || ref.sender === this.#me) continue;
      const writerId = await this.#ownerCheck(op, folder.sharedFolderId, ref, folder.name);
      if (writerId === null) continue;
      const seen = bySender.get(ref.sender);
      // Two genuine folders of one sender: keep the mounted one, else the first by id.
      if (seen && (seen.pathLower !== "" || folder.sharedFolderId > seen.sharedFolderId)) continue;
      bySender.set(ref.sender, {
        ref,
        sharedFolderId: folder.sharedFolderId,
        pathLower: folder.pathLower ?? "",
        writerId,
      });
    }
    const out: ChannelFolder[] = [];
    for (const channel of bySender.values()) {
      channel.pathLower = await this.#placed(op, channel);
      if (channel.pathLower !== "") out.push(channel);
    }
    out.sort((a, b) => byteOrder(channelName(a.ref), channelName(b.ref)));
    this.#incoming = out;
    return out;
  }

  /** The channels to us as the last look found them, or null before the first. */
  lastIncoming(): ChannelFolder[] | null {
    return this.#incoming;
  }

  /**
   * Take `channels` (from a changes cursor, an earlier look of an earlier
   * process) as the last look when this process has made none, so reading
   * them costs no `list_mountable_folders`.
   */
  remember(channels: ChannelFolder[], owners: Record<string, Verified>): void {
    this.#learn(owners);
    this.#incoming ??= channels;
  }

  /** Recipients of the channels this process opened. */
  openedRecipients(): string[] {
    return [...this.#opened].flatMap((path) => {
      const ref = parseChannelFolderName(path.slice(path.lastIndexOf("/") + 1));
      return ref?.sender === this.#me ? [ref.recipient] : [];
    });
  }

  /** The incoming channel `ref`, from the last look or a new one. */
  async incomingChannel(op: string, ref: ChannelRef): Promise<ChannelFolder | null> {
    const find = (list: ChannelFolder[] | null) =>
      list?.find((c) => c.ref.sender === ref.sender && c.ref.recipient === ref.recipient) ?? null;
    return find(this.#incoming) ?? find(await this.incoming(op));
  }

  /** Owner checks an earlier process made (a changes cursor), unless this one made its own. */
  #learn(owners: Record<string, Verified>): void {
    for (const [id, v] of Object.entries(owners)) {
      if (!this.verified.has(id)) this.verified.set(id, v);
    }
  }

  /** The owner checks made so far, for the cursor. */
  knownOwners(): Record<string, Verified> {
    const out: Record<string, Verified> = {};
    for (const [id, v] of this.verified) if (v !== null) out[id] = v;
    return out;
  }

  /** The sender's account id when the folder's owner is the sender named in it, else null. */
  async #ownerCheck(
    op: string,
    id: string,
    ref: ChannelRef,
    name: string,
  ): Promise<string | null> {
    const known = this.verified.get(id);
    if (known !== undefined) return known !== null && known[0] === ref.sender ? known[1] : null;
    const owner = (await this.#api.folderMembers(op, id)).find((m) => m.accessType === "owner");
    if (owner === undefined || owner.email !== ref.sender) {
      this.verified.set(id, null);
      this.ignore(
        `folder:${id}`,
        `dropbox: ignored the folder ${JSON.stringify(name)} shared with ${this.#me}: ` +
          `its owner is ${owner?.email || "unknown"}, not ${ref.sender}`,
      );
      return null;
    }
    this.verified.set(id, [ref.sender, owner.accountId]);
    return owner.accountId;
  }

  /**
   * Mount `channel` when it is not; where it is (lower case). A mount we make
   * is moved into /syft, so the one cursor over /syft sees it. The move is
   * tried once, right after mounting: where Dropbox (or a fake) refuses it,
   * the mount stays at the top and the listing scope widens instead
   * (`_index.ts`), without a failing call in every later process.
   *
   * Neither call's failure says where the mount is: a lost answer hides a
   * mount or a move that happened, and the retry (ours, or the HTTP
   * client's, unseen) then fails with `already_mounted` or
   * `from_lookup/not_found`. So whenever the answer is not the mount's
   * place, Dropbox is asked where the shared folder is mounted.
   */
  async #placed(op: string, channel: ChannelFolder): Promise<string> {
    if (channel.pathLower !== "") return channel.pathLower;
    const id = channel.sharedFolderId;
    // null: mounted already (another instance of us, or our own lost answer).
    const mounted = (await this.#api.mountFolder(op, id)) ?? await this.#api.mountPath(op, id);
    if (mounted === "" || mounted.startsWith(`${ROOT}/`)) return mounted;
    try {
      await this.#api.createFolder(op, ROOT);
      const moved = await this.#api.move(op, mounted, `${ROOT}/${channelName(channel.ref)}`);
      if (moved !== null) return moved.pathLower;
    } catch (err) {
      if (isSyftError(err) && err.code !== "E_TRANSPORT") throw err;
    }
    return await this.#api.mountPath(op, id);
  }
}
