/**
 * The Google Drive transport (spec `gdrive`): channels are Drive folders in the
 * sender's My Drive shared read-only with the recipient (see `_layout.ts`),
 * objects are files in them. Drive itself enforces who reads what; this class
 * adds the protocol's rules on top (only the sender writes; foreign owners do
 * not count) and Drive's sharp edges (issue 13 item 4): duplicate names,
 * lost create answers, lagging listings.
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
  type TransportCapabilities,
  type WhoAmI,
} from "../../core/transport/contract.ts";
import { givesAwayChunks, type PluginImpl } from "../serve.ts";
import { describeError, isSyftError, SyftError } from "../../core/errors/mod.ts";
import { escapeTerminal } from "../../core/encoding/terminal.ts";
import { isIdentity } from "../../core/paths/identity.ts";
import { DriveApi } from "./_api.ts";
import { type BackoffPolicy, DEFAULT_BACKOFF } from "./_backoff.ts";
import { winner } from "./_files.ts";
import { createObject } from "./_create.ts";
import { DrivePool } from "./_pool.ts";
import { isNotFound } from "./_errors.ts";
import { byteOrder, DriveLayout } from "./_layout.ts";
import { decodeCursor, encodeCursor, markChange } from "./_changes.ts";
import { TokenBucket } from "./_rate.ts";
import { TokenSource } from "./_tokens.ts";
import { DEFAULT_FULL_LIST_EVERY } from "./manifest.ts";

/** How this transport names its failures (one shape for every plugin). */
const wire = wireErrors("gdrive");
const { fail, exists, listOptions } = wire;
// Spelled out: TypeScript calls an assertion only through an annotated name.
const checkName: WireErrors["checkName"] = wire.checkName;

export { DEFAULT_FULL_LIST_EVERY };

/** What the Worker gets from the manifest (structured-cloneable). */
export interface GdriveInit {
  /** Our identity (lower-case email). */
  identity: string;
  /** `$SYFT_HOME/credentials`: the client file and the tokens. */
  credentialsDir: string;
  /** Drive API base URL, ending in `/`. */
  apiBase: string;
  /** Full channel listing every this many `changes` rounds. */
  fullListEvery: number;
  /** Request rate (tests raise it; default 10/s, burst 100). */
  rate?: { perSecond: number; burst: number } | undefined;
  /** Retry schedule (tests shorten it; default 1 s base, 32 s cap, 8 tries). */
  backoff?: { baseMs: number; capMs: number; tries: number } | undefined;
  /** When a silent request counts as dropped (default 20 s). */
  requestTimeoutMs?: number | undefined;
}

/**
 * Check the init options that came over the wire.
 * @throws {SyftError} `E_INTERNAL` naming the bad option (a manifest bug).
 */
export function parseGdriveInit(init: Record<string, unknown>): GdriveInit {
  const bad = (what: string) =>
    new SyftError("E_INTERNAL", `the gdrive plugin got a bad init option: ${what}`);
  const { identity, credentialsDir, apiBase, fullListEvery, rate, backoff, requestTimeoutMs } =
    init;
  if (typeof identity !== "string" || !isIdentity(identity)) throw bad("identity");
  if (typeof credentialsDir !== "string" || !credentialsDir.startsWith("/")) {
    throw bad("credentialsDir");
  }
  if (typeof apiBase !== "string" || !/^https?:\/\//.test(apiBase)) throw bad("apiBase");
  const every = fullListEvery ?? DEFAULT_FULL_LIST_EVERY;
  if (typeof every !== "number" || !Number.isInteger(every) || every < 1) {
    throw bad("fullListEvery");
  }
  const out: GdriveInit = { identity, credentialsDir, apiBase, fullListEvery: every };
  if (rate !== undefined) {
    const r = rate as Record<string, unknown>;
    if (typeof r?.perSecond !== "number" || typeof r?.burst !== "number") throw bad("rate");
    out.rate = { perSecond: r.perSecond, burst: r.burst };
  }
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
  return out;
}

/** The Drive transport for one identity. */
export class GdriveTransport implements PluginImpl {
  readonly #me: string;
  readonly #api: DriveApi;
  readonly #layout: DriveLayout;
  readonly #pool: DrivePool;
  readonly #fullListEvery: number;

  constructor(init: GdriveInit, tokens: TokenSource, report = defaultReport) {
    this.#me = init.identity;
    const backoff: BackoffPolicy = init.backoff
      ? { ...DEFAULT_BACKOFF, ...init.backoff }
      : DEFAULT_BACKOFF;
    this.#api = new DriveApi({
      apiBase: init.apiBase,
      tokens,
      rate: new TokenBucket(init.rate ?? {}),
      backoff,
      requestTimeoutMs: init.requestTimeoutMs,
    });
    this.#layout = new DriveLayout(this.#api, this.#me, report);
    this.#pool = new DrivePool(this.#api, this.#layout, this.#me);
    this.#fullListEvery = init.fullListEvery;
  }

  /** Read the credentials and build the transport (the Worker's factory). */
  static async create(init: GdriveInit): Promise<GdriveTransport> {
    return new GdriveTransport(init, await TokenSource.load(init.credentialsDir));
  }

  /** Requests sent so far (every attempt), for tests and `deno task bench`. */
  get calls(): number {
    return this.#api.calls;
  }

  capabilities(): Promise<TransportCapabilities> {
    return Promise.resolve({ enforcesSharing: true, canWatch: false, pool: true });
  }

  async whoami(): Promise<WhoAmI> {
    return await this.#wrap("whoami", async () => ({
      email: await this.#api.aboutEmail("whoami"),
      authenticated: true,
    }));
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
      const file = await createObject(this.#api, op, {
        folder,
        name,
        body,
        copies: () => this.#layout.copies(op, ref, folder, name),
        exists: () => exists(ref, name),
      });
      this.#layout.noteCreated(ref, file);
    });
  }

  async list(channel: ChannelRef, options: ListOptions = {}): Promise<ListPage> {
    const op = "list";
    const ref = this.#ref(op, channel);
    this.#mustRead(op, ref);
    const { prefix, after, limit } = listOptions(op, options);
    return await this.#wrap(op, async () => {
      const folder = await this.#requireChannel(op, ref);
      // Drive's orderBy=name is not byte order, and `name contains` is not a
      // prefix test: list the folder and order and filter here.
      const all = (await this.#layout.objects(op, ref, folder)).filter((f) =>
        (prefix === undefined || f.name.startsWith(prefix)) &&
        (after === undefined || f.name > after)
      );
      const page = all.slice(0, limit);
      const objects = page.map((f) => ({ name: f.name, size: f.size }));
      const last = page[page.length - 1];
      return all.length > limit && last !== undefined ? { objects, next: last.name } : { objects };
    });
  }

  async get(channel: ChannelRef, name: string): Promise<ReadableStream<Uint8Array>> {
    const op = "get";
    const ref = this.#ref(op, channel);
    this.#mustRead(op, ref);
    checkName(op, name);
    return await this.#wrap(op, async () => {
      const folder = await this.#requireChannel(op, ref);
      const known = this.#layout.knownId(ref, name);
      if (known !== undefined) {
        try {
          return givesAwayChunks(await this.#api.download(op, known));
        } catch (err) {
          if (!isNotFound(err)) throw err;
          this.#layout.noteId(ref, name, null); // deleted since: look the name up
        }
      }
      const first = winner(await this.#layout.copies(op, ref, folder, name));
      if (first === null) {
        throw fail(op, `no object ${JSON.stringify(name)} in ${channelName(ref)}`);
      }
      this.#layout.noteId(ref, name, first.id);
      return givesAwayChunks(await this.#api.download(op, first.id));
    });
  }

  async delete(channel: ChannelRef, name: string): Promise<void> {
    const op = "delete";
    const ref = this.#ref(op, channel);
    this.#mustWrite(op, ref);
    checkName(op, name);
    await this.#wrap(op, async () => {
      const folder = await this.#layout.ownChannel(op, ref);
      if (folder === null) return; // no channel, no object: deleting is idempotent
      const copies = await this.#layout.copies(op, ref, folder, name);
      this.#layout.forgetCreated(ref, name);
      for (const copy of copies) {
        await this.#api.deleteFile(op, copy.id);
      }
    });
  }

  async poolPut(name: string, body: ObjectBody, readers: string[]): Promise<void> {
    const op = "poolPut";
    checkName(op, name);
    const who = parseReaders(op, readers);
    await this.#wrap(op, async () => {
      await this.#pool.put(op, name, body, who, () =>
        new SyftError(
          "E_EXISTS",
          `gdrive transport failed during ${op}: ${
            JSON.stringify(name)
          } already exists in the pool`,
          { hint: "objects are create-only: write under the next free name" },
        ));
    });
  }

  async poolAddReaders(name: string, readers: string[]): Promise<void> {
    const op = "poolAddReaders";
    checkName(op, name);
    const who = parseReaders(op, readers);
    await this.#wrap(op, async () => {
      await this.#pool.addReaders(
        op,
        name,
        who,
        () => fail(op, `no object ${JSON.stringify(name)} in the pool of ${this.#me}`),
      );
    });
  }

  async poolGet(sender: string, name: string): Promise<ReadableStream<Uint8Array>> {
    const op = "poolGet";
    if (typeof sender !== "string" || !isIdentity(sender)) {
      throw fail(op, `${preview(sender)} is not a valid identity`);
    }
    checkName(op, name);
    return await this.#wrap(op, async () =>
      givesAwayChunks(
        await this.#pool.get(op, sender, name, () =>
          fail(
            op,
            `no object ${JSON.stringify(name)} of ${sender}'s pool is shared with ${this.#me}`,
            {
              hint: sender === this.#me
                ? undefined
                : `${sender} has not shared it with ${this.#me}` +
                  " (yet: Drive's search can take a while to show a new share)",
            },
          )),
      ));
  }

  async poolList(options: ListOptions = {}): Promise<ListPage> {
    const op = "poolList";
    const { prefix, after, limit } = listOptions(op, options);
    return await this.#wrap(op, () => this.#pool.list(op, { prefix, after, limit }));
  }

  async poolDelete(name: string): Promise<void> {
    const op = "poolDelete";
    checkName(op, name);
    await this.#wrap(op, () => this.#pool.delete(op, name));
  }

  /**
   * One `changes.list` call when nothing happened, whatever the number of
   * peers. A change to a file whose parent is an incoming channel folder, or
   * to such a folder, marks that channel; a removal Drive cannot place (a
   * deleted file has no parents left) marks every incoming channel, which the
   * contract allows. Channels are listed in full, and all reported, on a
   * first sync, on a lost cursor, and every `fullListEvery` rounds, because
   * whether Drive reports files others add inside folders shared with us is
   * not verified.
   */
  async changes(cursor: string | null, _options: ChangesOptions = {}): Promise<ChangesResult> {
    const op = "changes";
    return await this.#wrap(op, async () => {
      const base = cursor === null ? null : decodeCursor(cursor);
      if (base === null) return await this.#fullSync(op);
      const marked = new Set<string>();
      const folders = { ...base.folders };
      let token = base.token;
      let next: string | undefined = token;
      for (let pages = 0; next !== undefined && pages < 10_000; pages++) {
        const page = await this.#api.changesPage(op, next);
        if (page === "lost") return await this.#fullSync(op);
        for (const change of page.changes) {
          // A pool object we knew is gone: no channel lost anything.
          if (change.file === null && change.removed && this.#pool.forgetId(change.fileId)) {
            continue;
          }
          const found = markChange(change, this.#me, folders, marked);
          if (found) this.#layout.remember(found.ref, found.id);
          else if (change.file !== null) this.#pool.learn(change.file);
        }
        next = page.nextPageToken;
        // Progress is kept page by page, so a cut-off walk resumes where it stopped.
        token = page.newStartPageToken ?? page.nextPageToken ?? token;
      }
      let rounds = base.rounds + 1;
      if (rounds >= this.#fullListEvery) {
        // The safety net: every incoming channel is reported, so the caller
        // lists each one even if Drive never told us of an object in it.
        rounds = 0;
        for (const id of Object.keys(folders)) delete folders[id];
        for (const channel of await this.#layout.incoming(op)) {
          folders[channel.id] = channel.ref.sender;
          marked.add(channel.ref.sender);
        }
      }
      return {
        cursor: encodeCursor({ token, rounds, folders }),
        channels: this.#refs(marked),
      };
    });
  }

  /** Start from now: the token first, so nothing between it and the listing is missed. */
  async #fullSync(op: string): Promise<ChangesResult> {
    const token = await this.#api.startPageToken(op);
    const folders: Record<string, string> = {};
    for (const channel of await this.#layout.incoming(op)) folders[channel.id] = channel.ref.sender;
    return {
      cursor: encodeCursor({ token, rounds: 0, folders }),
      channels: this.#refs(new Set(Object.values(folders))),
    };
  }

  #refs(senders: Set<string>): ChannelRef[] {
    return [...senders].sort(byteOrder).map((sender) => ({ sender, recipient: this.#me }));
  }

  /** The folder of a channel we may use, or a clear error naming `op`. */
  async #requireChannel(op: string, ref: ChannelRef): Promise<string> {
    const folder = ref.sender === this.#me
      ? await this.#layout.ownChannel(op, ref)
      : await this.#layout.incomingChannel(op, ref);
    if (folder === null) {
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
    return folder;
  }

  /** Validate a channel ref that came over the wire. */
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
      throw fail(op, describeError(err), { cause: err });
    }
  }
}

/** Most readers one pool call may name (a datasite's peers, with room to spare). */
const MAX_READERS = 10_000;

/** Checked readers of a pool object: identities, at least one, duplicates dropped. */
function parseReaders(op: string, readers: unknown): string[] {
  if (!Array.isArray(readers) || readers.length === 0 || readers.length > MAX_READERS) {
    throw fail(op, `readers must be a list of 1 to ${MAX_READERS} identities`);
  }
  for (const reader of readers) {
    if (typeof reader !== "string" || !isIdentity(reader)) {
      throw fail(op, `${preview(reader)} is not a valid identity`);
    }
  }
  return [...new Set(readers as string[])];
}

function defaultReport(message: string): void {
  // The worker's stderr skips the host's Output gate, and these reports quote
  // names peers chose on Drive: escape them here.
  console.warn(escapeTerminal(message));
}
