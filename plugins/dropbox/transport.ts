/**
 * The Dropbox transport (spec `dropbox`): channels are shared folders in the
 * sender's Dropbox with the recipient as a viewer (see `_layout.ts`), objects
 * are files in them. Dropbox enforces who reads what; this class adds the
 * protocol's rules on top (only the sender's writes count) and Dropbox's
 * sharp edges (issue 18 item 3): create-only uploads that survive a lost
 * answer, content hashes, upload sessions, one cursor for every channel.
 * @module
 */
import {
  parseChannelRef,
  preview,
  readRefusal,
  type WireErrors,
  wireErrors,
  writeRefusal,
} from "../_wire_args.ts";
import {
  type ChangesOptions,
  type ChangesResult,
  channelName,
  type ChannelRef,
  type ListOptions,
  type ListPage,
  type ObjectBody,
  type ObjectInfo,
  type TransportCapabilities,
  type WhoAmI,
} from "../../core/transport/contract.ts";
import { givesAwayChunks, type PluginImpl } from "../serve.ts";
import { describeError, isSyftError, SyftError } from "../../core/errors/mod.ts";
import { escapeTerminal } from "../../core/encoding/terminal.ts";
import { isIdentity } from "../../core/paths/identity.ts";
import { causeOf, DropboxApi } from "./_api.ts";
import { type BackoffPolicy, DEFAULT_BACKOFF } from "./_backoff.ts";
import { contentHash } from "./_content_hash.ts";
import { resumable, SINGLE_UPLOAD_MAX, smallAsBytes, uploadSession } from "./_transfer.ts";
export { SESSION_CHUNK, SINGLE_UPLOAD_MAX } from "./_transfer.ts";
import { type ChangesCursor, decodeCursor, encodeCursor } from "./_changes.ts";
import { dropboxHosts } from "./_env.ts";
import type { Entry } from "./_entries.ts";
import { covers, FolderIndex, ROOT } from "./_index.ts";
import type { FolderPage } from "./_api.ts";
import { byteOrder, type ChannelFolder, DropboxLayout, parseChannelFolderName } from "./_layout.ts";
import { objectName, storedName } from "./_names.ts";
import { TokenSource } from "./_token_source.ts";

const wire = wireErrors("dropbox");
const { fail, exists, listOptions } = wire;
const checkName: WireErrors["checkName"] = wire.checkName;

/** A listing the cursor caught up with this recently is answered without a call. */
const FRESH_MS = 1_000;
/**
 * Rounds look for new channels (invitations, which have no change feed) this
 * often, as Dropbox's desktop app shows new shares within minutes; `syft
 * peer …` (listIncoming) looks every time, and so does every round while one
 * of our channels is unanswered (a request waiting for its accept).
 */
export const INVITES_EVERY_MS = 120_000;
/** Dropbox's long-poll bounds, in seconds. */
const LONGPOLL_MIN_S = 30;
const LONGPOLL_MAX_S = 480;

/** What the Worker gets from the manifest (structured-cloneable). */
export interface DropboxInit {
  /** Our identity (lower-case email). */
  identity: string;
  /** `$SYFT_HOME/credentials`: the token file. */
  credentialsDir: string;
  /** The `SYFT_DROPBOX_API` base, or "" for Dropbox's own hosts. */
  apiBase: string;
  /** Retry schedule (tests shorten it; default 1 s base, 32 s cap, 8 tries). */
  backoff?: { baseMs: number; capMs: number; tries: number } | undefined;
  /** When a silent request counts as dropped (default 20 s). */
  requestTimeoutMs?: number | undefined;
  /**
   * How often rounds look for new channels (default {@linkcode INVITES_EVERY_MS});
   * 0: every round (the contract suite's strict "no new channel reported late").
   */
  invitesEveryMs?: number | undefined;
}

/**
 * Check the init options that came over the wire.
 * @throws {SyftError} `E_INTERNAL` naming the bad option (a manifest bug).
 */
export function parseDropboxInit(init: Record<string, unknown>): DropboxInit {
  const bad = (what: string) =>
    new SyftError("E_INTERNAL", `the dropbox plugin got a bad init option: ${what}`);
  const { identity, credentialsDir, apiBase, backoff, requestTimeoutMs, invitesEveryMs } = init;
  if (typeof identity !== "string" || !isIdentity(identity)) throw bad("identity");
  if (typeof credentialsDir !== "string" || !credentialsDir.startsWith("/")) {
    throw bad("credentialsDir");
  }
  if (typeof apiBase !== "string") throw bad("apiBase");
  const out: DropboxInit = { identity, credentialsDir, apiBase };
  if (backoff !== undefined) {
    const b = backoff as Record<string, unknown>;
    if (
      typeof b?.baseMs !== "number" || typeof b?.capMs !== "number" ||
      typeof b?.tries !== "number"
    ) throw bad("backoff");
    out.backoff = { baseMs: b.baseMs, capMs: b.capMs, tries: b.tries };
  }
  if (requestTimeoutMs !== undefined) {
    if (typeof requestTimeoutMs !== "number" || !(requestTimeoutMs > 0)) {
      throw bad("requestTimeoutMs");
    }
    out.requestTimeoutMs = requestTimeoutMs;
  }
  if (invitesEveryMs !== undefined) {
    if (typeof invitesEveryMs !== "number" || !(invitesEveryMs >= 0)) {
      throw bad("invitesEveryMs");
    }
    out.invitesEveryMs = invitesEveryMs;
  }
  return out;
}

/** The Dropbox transport for one identity. */
export class DropboxTransport implements PluginImpl {
  readonly #me: string;
  readonly #api: DropboxApi;
  readonly #layout: DropboxLayout;
  readonly #index = new FolderIndex();
  readonly #tokens: TokenSource;
  #accountId: string | null = null;
  /** No long-poll before this time (Dropbox's `backoff`), ms since the epoch. */
  #longpollNotBefore = 0;
  readonly #now: () => number;
  readonly #invitesEveryMs: number;

  constructor(
    init: DropboxInit,
    tokens: TokenSource,
    report = defaultReport,
    now: () => number = Date.now,
  ) {
    this.#me = init.identity;
    this.#now = now;
    this.#invitesEveryMs = init.invitesEveryMs ?? INVITES_EVERY_MS;
    const backoff: BackoffPolicy = init.backoff
      ? { ...DEFAULT_BACKOFF, ...init.backoff }
      : DEFAULT_BACKOFF;
    this.#tokens = tokens;
    this.#api = new DropboxApi({
      hosts: dropboxHosts(init.apiBase),
      tokens,
      backoff,
      requestTimeoutMs: init.requestTimeoutMs,
    });
    this.#layout = new DropboxLayout(this.#api, this.#me, report);
    if (tokens.accountId !== "") this.#accountId = tokens.accountId;
  }

  /** Read the credentials and build the transport (the Worker's factory). */
  static async create(init: DropboxInit): Promise<DropboxTransport> {
    const hosts = dropboxHosts(init.apiBase);
    const tokens = await TokenSource.load(
      init.credentialsDir,
      hosts.token,
      (url, i) => fetch(url, i),
    );
    return new DropboxTransport(init, tokens);
  }

  /** Requests sent so far (every attempt), for tests and `deno task bench`. */
  get calls(): number {
    return this.#api.calls;
  }

  capabilities(): Promise<TransportCapabilities> {
    return Promise.resolve({ enforcesSharing: true, canWatch: true, pool: false });
  }

  async whoami(): Promise<WhoAmI> {
    return await this.#wrap("whoami", async () => {
      const account = await this.#api.currentAccount("whoami");
      this.#accountId = account.accountId;
      return { email: account.email, authenticated: true };
    });
  }

  async openChannel(to: string): Promise<ChannelRef> {
    const op = "openChannel";
    if (typeof to !== "string" || !isIdentity(to)) {
      throw fail(op, `${preview(to)} is not a valid identity`);
    }
    const ref = { sender: this.#me, recipient: to };
    return await this.#wrap(op, async () => {
      await this.#layout.openChannel(op, ref);
      return ref;
    });
  }

  async listIncoming(): Promise<ChannelRef[]> {
    return await this.#wrap(
      "listIncoming",
      async () => (await this.#layout.incoming("listIncoming")).map((c) => c.ref),
    );
  }

  async put(channel: ChannelRef, name: string, body: ObjectBody): Promise<void> {
    const op = "put";
    const ref = this.#ref(op, channel);
    this.#mustWrite(op, ref);
    checkName(op, name);
    await this.#wrap(op, async () => {
      const folder = await this.#requireChannel(op, ref);
      const path = `${folder.pathLower}/${storedName(name)}`;
      if (body instanceof ReadableStream) body = await smallAsBytes(body, SINGLE_UPLOAD_MAX);
      let stored: Entry | "conflict";
      if (body instanceof Uint8Array && body.byteLength <= SINGLE_UPLOAD_MAX) {
        stored = await this.#api.uploadNew(op, path, body, contentHash(body));
      } else {
        // Refuse before sending a large body; the create-only commit is the real check.
        if ((await this.#api.getMetadata(op, path)) !== null) throw exists(ref, name);
        stored = await uploadSession(this.#api, op, path, body);
      }
      if (stored === "conflict") throw exists(ref, name);
      if (this.#index.cursor !== null) this.#index.note(stored);
    });
  }

  async list(channel: ChannelRef, options: ListOptions = {}): Promise<ListPage> {
    const op = "list";
    const ref = this.#ref(op, channel);
    this.#mustRead(op, ref);
    const { prefix, after, limit, all } = listOptions(op, options);
    return await this.#wrap(op, async () => {
      const folder = await this.#requireChannel(op, ref);
      const objects: ObjectInfo[] = [];
      for (const entry of await this.#entries(op, folder)) {
        const name = objectName(entry.name);
        if (name === null) continue;
        if (prefix !== undefined && !name.startsWith(prefix)) continue;
        if (after !== undefined && !(name > after)) continue;
        if (entry.tag === "folder") {
          if (all) objects.push({ name, size: 0, special: "folder" });
          continue;
        }
        if (!this.#writtenBySender(folder, entry)) continue;
        objects.push({ name, size: entry.size });
      }
      objects.sort((a, b) => byteOrder(a.name, b.name));
      const page = objects.slice(0, limit);
      const last = page[page.length - 1];
      return objects.length > limit && last !== undefined
        ? { objects: page, next: last.name }
        : { objects: page };
    });
  }

  async get(channel: ChannelRef, name: string): Promise<ReadableStream<Uint8Array>> {
    const op = "get";
    const ref = this.#ref(op, channel);
    this.#mustRead(op, ref);
    checkName(op, name);
    return await this.#wrap(op, async () => {
      const folder = await this.#requireChannel(op, ref);
      const path = `${folder.pathLower}/${storedName(name)}`;
      const missing = () => fail(op, `no object ${JSON.stringify(name)} in ${channelName(ref)}`);
      const first = await this.#api.download(op, path);
      // Dropbox finds `Z~AK` for `z~ak`: only the exact stored name is the object.
      if (first === null || first.entry.name !== storedName(name)) {
        await first?.body.cancel();
        throw missing();
      }
      if (!this.#writtenBySender(folder, first.entry)) {
        await first.body.cancel();
        throw missing();
      }
      return givesAwayChunks(
        resumable(this.#api, op, path, first, (detail) => fail(op, `${path}: ${detail}`)),
      );
    });
  }

  async delete(channel: ChannelRef, name: string): Promise<void> {
    const op = "delete";
    const ref = this.#ref(op, channel);
    this.#mustWrite(op, ref);
    checkName(op, name);
    await this.#wrap(op, async () => {
      const folder = this.#layout.ownPath(ref);
      if (!(await this.#layout.ownExists(op, ref, this.#indexedFolder(folder)))) return;
      const path = `${folder}/${storedName(name)}`;
      const there = await this.#api.getMetadata(op, path);
      // Case-insensitive paths: never delete `Z~AK` (no object of ours) for `z~ak`.
      if (there === null || there.name !== storedName(name) || there.tag !== "file") return;
      await this.#api.delete(op, path);
      if (this.#index.cursor !== null) this.#index.note({ ...there, tag: "deleted" });
    });
  }

  /**
   * Channels to us that changed since `cursor`: new ones (from
   * `list_mountable_folders`, asked only when due: see
   * {@linkcode INVITES_EVERY_MS}) and those the one `list_folder` cursor
   * reports entries in. An idle one-shot round is one `list_folder/continue`.
   * With `waitMs`, an idle answer waits on Dropbox's long-poll (no token, one
   * call per period) and wakes on a change.
   */
  async changes(cursor: string | null, options: ChangesOptions = {}): Promise<ChangesResult> {
    const op = "changes";
    return await this.#wrap(op, async () => {
      const base = cursor === null ? null : decodeCursor(cursor);
      if (base === null) return await this.#fullSync(op, []);
      const waitMs = Math.max(0, options.waitMs ?? 0);
      const known = this.#knownChannels(base);
      this.#layout.remember(known, base.owners);
      // A look this process made (listIncoming) is at least as new as the cursor's.
      let incoming = this.#layout.lastIncoming() ?? known;
      let invitesAt = base.invitesAt;
      let looked = false;
      const outgoing = new Set([...base.outgoing, ...this.#layout.openedRecipients()]);
      const look = async () => {
        incoming = await this.#layout.incoming(op, base.owners);
        invitesAt = this.#now();
        looked = true;
      };
      if (this.#invitesDue(invitesAt, outgoing, incoming)) await look();
      // A channel mounted outside what the cursor lists: list more, report all.
      if (incoming.some((c) => !covers(base.scope, c.pathLower))) {
        return await this.#fullSync(op, incoming, invitesAt);
      }
      const before = base.channels.map(([sender]) => sender);
      const marked = new Set(
        incoming.map((c) => c.ref.sender).filter((s) => !before.includes(s)),
      );
      const result = (dropbox: string) => ({
        cursor: this.#cursor(dropbox, base.scope, incoming, invitesAt, outgoing),
        channels: this.#refs(marked),
      });
      if (waitMs > 0 && marked.size === 0) {
        const changed = await this.#wait(op, base.dropbox, waitMs);
        if (!changed) return result(base.dropbox);
      }
      let next = base.dropbox;
      const feed = this.#index.cursor === base.dropbox;
      for (let pages = 0;; pages++) {
        const page = await this.#api.listFolderContinue(op, next);
        if (page === "reset") return await this.#fullSync(op, incoming, invitesAt);
        for (const entry of page.entries) {
          const channel = incoming.find((c) =>
            entry.pathLower === c.pathLower || entry.pathLower.startsWith(`${c.pathLower}/`)
          );
          if (channel) marked.add(channel.ref.sender);
          this.#noteOwnChannel(entry, outgoing);
        }
        if (feed) this.#index.apply(page.entries, page.cursor);
        next = page.cursor;
        if (!page.hasMore || pages >= 10_000) break;
      }
      // The caller moves to a cursor the index is not at: the index may lack
      // what was just reported, so the next listing catches up first.
      if (!feed) this.#index.stale();
      // A channel of ours opened since (`syft peer add` in another process):
      // its answer is awaited from this round on.
      if (!looked && this.#invitesDue(invitesAt, outgoing, incoming)) {
        await look();
        if (incoming.some((c) => !covers(base.scope, c.pathLower))) {
          return await this.#fullSync(op, incoming, invitesAt);
        }
        for (const c of incoming) if (!before.includes(c.ref.sender)) marked.add(c.ref.sender);
      }
      return result(next);
    });
  }

  /** Whether invitations are looked for now: the last look is old, or a channel of ours awaits its answer. */
  #invitesDue(invitesAt: number, outgoing: Set<string>, incoming: ChannelFolder[]): boolean {
    const age = this.#now() - invitesAt;
    if (!(age >= 0 && age < this.#invitesEveryMs)) return true;
    return [...outgoing].some((r) => !incoming.some((c) => c.ref.sender === r));
  }

  /** The incoming channels a cursor knows (those whose owner check it carries). */
  #knownChannels(base: ChangesCursor): ChannelFolder[] {
    return base.channels.flatMap(([sender, sharedFolderId, pathLower]) => {
      const owner = base.owners[sharedFolderId];
      if (owner === undefined || owner[0] !== sender) return [];
      return [{
        ref: { sender, recipient: this.#me },
        sharedFolderId,
        pathLower,
        writerId: owner[1],
      }];
    });
  }

  /** Follow our own channel folders (`/syft/syft1#<me>#<recipient>`) through listing entries. */
  #noteOwnChannel(entry: Entry, outgoing: Set<string>): void {
    const at = entry.pathLower.lastIndexOf("/");
    if (entry.pathLower.slice(0, at) !== ROOT || entry.tag === "file") return;
    const ref = parseChannelFolderName(entry.pathLower.slice(at + 1));
    if (ref === null || ref.sender !== this.#me) return;
    if (entry.tag === "folder") outgoing.add(ref.recipient);
    else outgoing.delete(ref.recipient);
  }

  /** Start from now: every incoming channel is reported, and the index is built. */
  async #fullSync(op: string, known: ChannelFolder[], knownAt = 0): Promise<ChangesResult> {
    const incoming = known.length > 0 ? known : await this.#layout.incoming(op, {});
    const invitesAt = known.length > 0 ? knownAt : this.#now();
    const scope = incoming.every((c) => covers(ROOT, c.pathLower)) ? ROOT : "";
    const listed = await this.#relist(op, scope);
    const outgoing = new Set(this.#layout.openedRecipients());
    for (const entry of listed.entries) this.#noteOwnChannel(entry, outgoing);
    return {
      cursor: this.#cursor(listed.cursor, scope, incoming, invitesAt, outgoing),
      channels: this.#refs(new Set(incoming.map((c) => c.ref.sender))),
    };
  }

  #cursor(
    dropbox: string,
    scope: string,
    incoming: ChannelFolder[],
    invitesAt: number,
    outgoing: Set<string>,
  ): string {
    return encodeCursor({
      dropbox,
      scope,
      channels: incoming.map((c) => [c.ref.sender, c.sharedFolderId, c.pathLower]),
      owners: this.#layout.knownOwners(),
      invitesAt,
      outgoing: [...outgoing].sort(byteOrder),
    });
  }

  /**
   * List `scope` in full into the index (creating /syft when missing); the
   * entries and the cursor after them. The scope is /syft unless a channel to us is mounted
   * outside it (Dropbox mounts at the top; we move mounts into /syft where
   * Dropbox lets us), then the whole Dropbox.
   */
  async #relist(op: string, scope: string): Promise<FolderPage> {
    let first = await this.#api.listFolder(op, scope, true);
    if (first === null) {
      await this.#api.createFolder(op, ROOT);
      first = await this.#api.listFolder(op, scope, true);
      if (first === null) throw fail(op, `${ROOT} vanished while it was created`);
    }
    const all = await this.#api.drain(op, first);
    this.#index.reset(scope, all.entries, all.cursor);
    return all;
  }

  /** Long-poll until a change or `waitMs`; whether something changed. */
  async #wait(op: string, cursor: string, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    const hold = this.#longpollNotBefore - Date.now();
    if (hold > 0) {
      // Dropbox asked for a pause between long-polls: wait it out, then look once.
      await new Promise((resolve) => setTimeout(resolve, Math.min(hold, waitMs)));
      return true;
    }
    const timeoutS = Math.min(LONGPOLL_MAX_S, Math.max(LONGPOLL_MIN_S, Math.ceil(waitMs / 1000)));
    const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    const r = await this.#api.longpoll(op, cursor, timeoutS, signal);
    if (r.backoffS > 0) this.#longpollNotBefore = Date.now() + r.backoffS * 1000;
    return r.changes;
  }

  /** The entries of a channel folder, from the index (brought up to date unless fresh). */
  async #entries(op: string, folder: ChannelFolder): Promise<Entry[]> {
    if (this.#index.cursor === null || !covers(this.#index.scope, folder.pathLower)) {
      const scope = covers(ROOT, folder.pathLower) && this.#index.scope === ROOT ? ROOT : "";
      await this.#relist(op, scope);
    } else if (!this.#index.fresh(FRESH_MS)) {
      await this.#catchUp(op, this.#index.cursor);
    }
    return this.#index.entries(folder.pathLower);
  }

  /** Apply what changed since the index's cursor. */
  async #catchUp(op: string, from: string): Promise<void> {
    let cursor = from;
    for (let pages = 0; pages < 10_000; pages++) {
      const page = await this.#api.listFolderContinue(op, cursor);
      if (page === "reset") {
        await this.#relist(op, this.#index.scope);
        return;
      }
      this.#index.apply(page.entries, page.cursor);
      cursor = page.cursor;
      if (!page.hasMore) return;
    }
  }

  /** Whether the index (when current) shows our channel folder at `path`; null: it cannot say. */
  #indexedFolder(path: string): boolean | null {
    if (!this.#index.fresh(FRESH_MS)) return null;
    return this.#index.folder(path)?.tag === "folder";
  }

  /** Whether `entry` in `folder` was written by the channel's sender; reports it once if not. */
  #writtenBySender(folder: ChannelFolder, entry: Entry): boolean {
    if (entry.modifiedBy === folder.writerId) return true;
    // Our own folder: Dropbox may leave modified_by out; only we write it anyway (viewers cannot).
    if (folder.ref.sender === this.#me && entry.modifiedBy === undefined) return true;
    this.#layout.ignore(
      `object:${entry.pathLower}:${entry.rev ?? ""}`,
      `dropbox: ignored ${JSON.stringify(entry.name)} in ${channelName(folder.ref)}: ` +
        `it was written by ${entry.modifiedBy ?? "an unknown account"}, not ${folder.ref.sender}`,
    );
    return false;
  }

  /** The folder of a channel we may use, or a clear error naming `op`. */
  async #requireChannel(op: string, ref: ChannelRef): Promise<ChannelFolder> {
    if (ref.sender === this.#me) {
      const path = this.#layout.ownPath(ref);
      if (await this.#layout.ownExists(op, ref, this.#indexedFolder(path))) {
        return {
          ref,
          sharedFolderId: "",
          pathLower: path,
          writerId: await this.#myAccountId(op),
        };
      }
    } else {
      const found = await this.#layout.incomingChannel(op, ref);
      if (found !== null) return found;
    }
    throw fail(
      op,
      `channel ${channelName(ref)} does not exist or is not shared with ${this.#me}`,
      {
        hint: ref.sender === this.#me
          ? "open the channel first"
          : `${ref.sender} has not opened this channel (yet)`,
      },
    );
  }

  async #myAccountId(op: string): Promise<string> {
    this.#accountId ??= (await this.#api.currentAccount(op)).accountId;
    return this.#accountId;
  }

  #refs(senders: Set<string>): ChannelRef[] {
    return [...senders].sort(byteOrder).map((sender) => ({ sender, recipient: this.#me }));
  }

  #ref(op: string, channel: unknown): ChannelRef {
    const ref = parseChannelRef(channel);
    if (typeof ref === "string") throw fail(op, ref);
    return ref;
  }

  #mustWrite(op: string, ref: ChannelRef): void {
    const refusal = writeRefusal(this.#me, ref);
    if (refusal) throw fail(op, refusal.detail, { hint: refusal.hint });
  }

  #mustRead(op: string, ref: ChannelRef): void {
    const refusal = readRefusal(this.#me, ref);
    if (refusal) throw fail(op, refusal);
  }

  /** Run `body`, turning anything but a SyftError into E_TRANSPORT naming `op`. */
  async #wrap<T>(op: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      if (isSyftError(err)) throw err;
      const cause = causeOf(err);
      throw fail(op, cause ? cause.summary || cause.message : describeError(err), { cause: err });
    }
  }
}

function defaultReport(message: string): void {
  // The worker's stderr skips the host's Output gate, and these reports quote
  // names peers chose: escape them here.
  console.warn(escapeTerminal(message));
}
