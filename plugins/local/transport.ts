/**
 * The local-folder transport (spec `local:<dir>`): channels are folders of a
 * folder every peer can reach, objects are plain files under their exact names.
 * It runs inside a Worker that may touch only `<dir>` (see `manifest.ts`), but
 * the class works in-process too.
 *
 * A shared folder cannot enforce who reads or writes what, so this transport
 * enforces the protocol's rules on its own API: only a channel's sender writes
 * or deletes in it, only its sender and recipient list or read it.
 * Confidentiality against other users of the folder comes from the envelope's
 * encryption, not from here (docs/protocol.md §1).
 * @module
 */
import {
  MAX_LIST_PAGE,
  parseChannelRef,
  parseReaders,
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
  OBJECT_NAME_RE,
  type ObjectBody,
  type ObjectInfo,
  type TransportCapabilities,
  type WhoAmI,
} from "../../core/transport/contract.ts";
import {
  chunkBuffer,
  givesAwayChunks,
  type PluginImpl,
  releaseChunk,
  spareBuffer,
} from "../serve.ts";
import { describeError, isSyftError, SyftError } from "../../core/errors/mod.ts";
import { isIdentity } from "../../core/paths/identity.ts";
import {
  byteOrder,
  channelDir,
  fileStream,
  lstatOrNull,
  parseChannelFolder,
  poolDir,
  randomHex,
  READERS_PREFIX,
  removeQuietly,
  syncDir,
  TEMP_PREFIX,
  writeAll,
} from "./_layout.ts";
import { bumpMarker, folderSignature, hasMarker } from "./_marker.ts";
import { FolderWatcher } from "./_watch.ts";
import { encodeBase64, parseBase64 } from "../../core/encoding/base64.ts";

/** How this transport names its failures (one shape for every plugin). */
const wire = wireErrors("local");
const { fail, exists, poolExists, listOptions } = wire;
// Spelled out: TypeScript calls an assertion only through an annotated name.
const checkName: WireErrors["checkName"] = wire.checkName;

/** What the local plugin needs to start (the manifest's `init`). */
export interface LocalInit {
  /** Absolute path of the shared folder. */
  dir: string;
  /** Our identity: the sender of the channels we write. */
  identity: string;
}

/** Most objects a listing page holds, and the default page size. */
export const MAX_PAGE = MAX_LIST_PAGE;

/** While `changes()` waits, it re-checks at least this often, even without watcher events. */
const POLL_MS = 500;

/** Parse the `init` record sent by the host. */
export function parseLocalInit(init: Record<string, unknown>): LocalInit {
  const { dir, identity } = init;
  if (typeof dir !== "string" || !dir.startsWith("/")) {
    throw new SyftError("E_INTERNAL", "local transport init needs an absolute dir");
  }
  if (typeof identity !== "string" || !isIdentity(identity)) {
    throw new SyftError("E_INTERNAL", "local transport init needs a valid identity");
  }
  return { dir: dir.length > 1 ? dir.replace(/\/+$/, "") : dir, identity };
}

/** Change-detection state carried in the opaque cursor. */
interface Snapshot {
  /** Signature of the root folder (its marker and mtime). */
  root: string;
  /** Signature of each incoming channel folder, by sender. */
  channels: Record<string, string>;
}

/** The local-folder transport. */
export class LocalFolderTransport implements PluginImpl {
  readonly #root: string;
  readonly #me: string;
  #watcher: FolderWatcher | null = null;

  constructor(init: LocalInit) {
    this.#root = init.dir;
    this.#me = init.identity;
  }

  capabilities(): Promise<TransportCapabilities> {
    return Promise.resolve({ enforcesSharing: false, canWatch: true, pool: true });
  }

  whoami(): Promise<WhoAmI> {
    return Promise.resolve({ email: this.#me, authenticated: false });
  }

  async openChannel(to: string): Promise<ChannelRef> {
    const op = "openChannel";
    if (typeof to !== "string" || !isIdentity(to)) {
      throw fail(op, `${preview(to)} is not a valid identity`, {
        hint: "identities are lower-case email addresses",
      });
    }
    const ref = { sender: this.#me, recipient: to };
    const dir = channelDir(this.#root, ref);
    return await this.#wrap(op, async () => {
      let created = false;
      try {
        await Deno.mkdir(dir);
        created = true;
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      }
      const info = await Deno.lstat(dir);
      if (!info.isDirectory) {
        throw fail(op, `${channelName(ref)} exists in ${this.#root} but is not a folder`, {
          hint: "remove or rename that entry of the shared folder",
        });
      }
      // A channel without a marker was created by a run that died before
      // announcing it (or by hand): announce it now, so recipients notice.
      if (created || !(await hasMarker(dir))) {
        await bumpMarker(dir);
        await bumpMarker(this.#root);
      }
      return ref;
    });
  }

  async listIncoming(): Promise<ChannelRef[]> {
    return await this.#wrap("listIncoming", () => this.#incoming());
  }

  async put(channel: ChannelRef, name: string, body: ObjectBody): Promise<void> {
    const op = "put";
    const ref = this.#ref(op, channel);
    this.#mustWrite(op, ref);
    checkName(op, name);
    const dir = channelDir(this.#root, ref);
    const final = `${dir}/${name}`;
    await this.#wrap(op, async () => {
      await this.#requireChannel(op, ref);
      await writeCreateOnly(op, dir, final, body, () => exists(ref, name));
      await bumpMarker(dir);
    });
  }

  async list(channel: ChannelRef, options: ListOptions = {}): Promise<ListPage> {
    const op = "list";
    const ref = this.#ref(op, channel);
    this.#mustRead(op, ref);
    const { prefix, after, limit, all } = listOptions(op, options);
    const dir = channelDir(this.#root, ref);
    return await this.#wrap(op, async () => {
      await this.#requireChannel(op, ref);
      return await listFolder(dir, { prefix, after, limit, all });
    });
  }

  async get(channel: ChannelRef, name: string): Promise<ReadableStream<Uint8Array>> {
    const op = "get";
    const ref = this.#ref(op, channel);
    this.#mustRead(op, ref);
    checkName(op, name);
    const path = `${channelDir(this.#root, ref)}/${name}`;
    return await this.#wrap(op, async () => {
      await this.#requireChannel(op, ref);
      return await openRegular(
        path,
        () => fail(op, `no object ${JSON.stringify(name)} in ${channelName(ref)}`),
        () =>
          fail(op, `object ${JSON.stringify(name)} in ${channelName(ref)} changed while opening`),
      );
    });
  }

  async delete(channel: ChannelRef, name: string): Promise<void> {
    const op = "delete";
    const ref = this.#ref(op, channel);
    this.#mustWrite(op, ref);
    checkName(op, name);
    const dir = channelDir(this.#root, ref);
    await this.#wrap(op, async () => {
      const info = await lstatOrNull(`${dir}/${name}`);
      if (!info) return; // already gone: deleting is idempotent
      // A folder someone put at an object name holds no object: there is
      // nothing of ours to delete (and its contents are not ours to remove).
      // Failing here made one folder stop every collection of the channel,
      // and with it every round.
      if (info.isDirectory) return;
      try {
        await Deno.remove(`${dir}/${name}`);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
      await syncDir(dir);
      await bumpMarker(dir);
    });
  }

  async poolPut(name: string, body: ObjectBody, readers: string[]): Promise<void> {
    const op = "poolPut";
    checkName(op, name);
    const who = this.#readersArg(op, readers);
    const dir = poolDir(this.#root, this.#me);
    await this.#wrap(op, async () => {
      await this.#poolFolder(op, dir);
      const final = `${dir}/${name}`;
      if (await lstatOrNull(final)) throw poolExists(this.#me, name);
      // Readers first: once the object is there, its readers are too.
      const readersFile = `${dir}/${READERS_PREFIX}${name}`;
      await replaceSmallFile(dir, readersFile, jsonBytes(who));
      try {
        await writeCreateOnly(op, dir, final, body, () => poolExists(this.#me, name));
      } catch (err) {
        // A put that did not happen leaves no readers behind (nor takes another's).
        if (!isSyftError(err) || err.code !== "E_EXISTS") await removeQuietly(readersFile);
        throw err;
      }
    });
  }

  async poolAddReaders(name: string, readers: string[]): Promise<void> {
    const op = "poolAddReaders";
    checkName(op, name);
    const who = this.#readersArg(op, readers);
    const dir = poolDir(this.#root, this.#me);
    await this.#wrap(op, async () => {
      if (!(await lstatOrNull(`${dir}/${name}`))?.isFile) {
        throw fail(op, `no object ${JSON.stringify(name)} in our pool`);
      }
      const path = `${dir}/${READERS_PREFIX}${name}`;
      const known = await readReaders(path) ?? new Set<string>();
      if (who.every((r) => known.has(r))) return;
      await replaceSmallFile(dir, path, jsonBytes([...new Set([...known, ...who])].sort()));
    });
  }

  async poolGet(sender: string, name: string): Promise<ReadableStream<Uint8Array>> {
    const op = "poolGet";
    if (typeof sender !== "string" || !isIdentity(sender)) {
      throw fail(op, `${preview(sender)} is not a valid identity`);
    }
    checkName(op, name);
    const dir = poolDir(this.#root, sender);
    return await this.#wrap(op, async () => {
      // Not shared with us reads exactly as missing (the folder cannot enforce it; we do).
      const missing = () => fail(op, `no object ${JSON.stringify(name)} in ${sender}'s pool`);
      if (sender !== this.#me) {
        const readers = await readReaders(`${dir}/${READERS_PREFIX}${name}`);
        if (!readers?.has(this.#me)) throw missing();
      }
      return await openRegular(
        `${dir}/${name}`,
        missing,
        () => fail(op, `object ${JSON.stringify(name)} in ${sender}'s pool changed while opening`),
      );
    });
  }

  async poolList(options: ListOptions = {}): Promise<ListPage> {
    const op = "poolList";
    const { prefix, after, limit } = listOptions(op, options);
    const dir = poolDir(this.#root, this.#me);
    return await this.#wrap(op, async () => {
      if (!(await lstatOrNull(dir))?.isDirectory) return { objects: [] };
      return await listFolder(dir, { prefix, after, limit, all: false });
    });
  }

  async poolDelete(name: string): Promise<void> {
    const op = "poolDelete";
    checkName(op, name);
    const dir = poolDir(this.#root, this.#me);
    await this.#wrap(op, async () => {
      const info = await lstatOrNull(`${dir}/${name}`);
      if (info && !info.isDirectory) await removeQuietly(`${dir}/${name}`);
      await removeQuietly(`${dir}/${READERS_PREFIX}${name}`);
      if (info) await syncDir(dir);
    });
  }

  async changes(cursor: string | null, options: ChangesOptions = {}): Promise<ChangesResult> {
    const op = "changes";
    const waitMs = typeof options.waitMs === "number" && options.waitMs > 0 ? options.waitMs : 0;
    return await this.#wrap(op, async () => {
      const deadline = Date.now() + waitMs;
      let base = cursor === null ? null : decodeCursor(cursor);
      for (;;) {
        // Read the generation before looking, so a change during the look wakes the wait.
        const generation = waitMs > 0 ? this.#watch().generation() : 0;
        const snapshot = await this.#snapshot(base);
        const changed = changedChannels(base, snapshot);
        const remaining = deadline - Date.now();
        if (changed.length > 0 || remaining <= 0) {
          return {
            cursor: encodeCursor(snapshot),
            channels: changed.map((sender) => ({ sender, recipient: this.#me })),
          };
        }
        // Nothing incoming changed, so this snapshot is as good a base as the
        // cursor, and a changed root is not re-read at every turn.
        base = snapshot;
        await this.#watch().wait(generation, Math.min(remaining, POLL_MS));
      }
    });
  }

  /** Stop the watcher (for in-process use; a Worker is simply terminated). */
  close(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }

  #watch(): FolderWatcher {
    this.#watcher ??= new FolderWatcher(this.#root);
    return this.#watcher;
  }

  /** Incoming channels, sorted by folder name; junk entries are skipped, never an error. */
  async #incoming(): Promise<ChannelRef[]> {
    const found: { name: string; ref: ChannelRef }[] = [];
    for await (const entry of Deno.readDir(this.#root)) {
      if (!entry.isDirectory) continue; // files and symlinks are never channels
      const ref = parseChannelFolder(entry.name);
      if (ref && ref.recipient === this.#me) found.push({ name: entry.name, ref });
    }
    found.sort((a, b) => byteOrder(a.name, b.name));
    return found.map((f) => f.ref);
  }

  /**
   * Signatures of the root and the incoming channels. The root folder is read
   * only when its signature moved (a channel may have appeared); otherwise the
   * channels known to `base` are re-checked, one marker read and stat each.
   */
  async #snapshot(base: Snapshot | null): Promise<Snapshot> {
    const root = await folderSignature(this.#root, true);
    if (root === null) {
      throw fail("changes", `the folder ${this.#root} is gone or not a folder`);
    }
    const senders = base === null || base.root !== root
      ? (await this.#incoming()).map((ref) => ref.sender)
      : Object.keys(base.channels);
    const signatures = await Promise.all(
      senders.map((sender) =>
        folderSignature(channelDir(this.#root, { sender, recipient: this.#me }))
      ),
    );
    const channels: Record<string, string> = {};
    senders.forEach((sender, i) => {
      const signature = signatures[i];
      if (typeof signature === "string") channels[sender] = signature;
    });
    return { root, channels };
  }

  /** Our pool folder, created on first use; anything else at its name is refused. */
  async #poolFolder(op: string, dir: string): Promise<void> {
    try {
      await Deno.mkdir(dir);
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    if (!(await Deno.lstat(dir)).isDirectory) {
      throw fail(op, `${dir} exists but is not a folder`, {
        hint: "remove or rename that entry of the shared folder",
      });
    }
  }

  #readersArg(op: string, readers: unknown): string[] {
    const who = parseReaders(readers);
    if (typeof who === "string") throw fail(op, who);
    return who;
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

  async #requireChannel(op: string, ref: ChannelRef): Promise<void> {
    const info = await lstatOrNull(channelDir(this.#root, ref));
    if (!info?.isDirectory) {
      throw fail(op, `channel ${channelName(ref)} does not exist in ${this.#root}`, {
        hint: ref.sender === this.#me
          ? "open the channel first"
          : `${ref.sender} has not opened this channel (yet)`,
      });
    }
  }

  /** Run `body`, turning any non-SyftError (fs errors, NotCapable) into E_TRANSPORT naming `op`. */
  async #wrap<T>(op: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      if (isSyftError(err)) throw err;
      const kind = err instanceof Error && err.name !== "Error" ? `${err.name}: ` : "";
      throw fail(op, `${kind}${describeError(err)}`, { cause: err });
    }
  }
}

/**
 * Store `body` at `final` (in folder `dir`), create-only and atomic: written
 * to a temp file, synced, then linked to its name. `taken` is the error for a
 * name that exists.
 */
async function writeCreateOnly(
  op: string,
  dir: string,
  final: string,
  body: ObjectBody,
  taken: () => SyftError,
): Promise<void> {
  // Refuse before reading a possibly huge body; the link below is the real check.
  if (await lstatOrNull(final)) throw taken();
  const temp = `${dir}/${TEMP_PREFIX}${randomHex(16)}`;
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(temp, { write: true, createNew: true });
    if (body instanceof Uint8Array) {
      await writeAll(file, body);
    } else if (body instanceof ReadableStream) {
      await writeStream(op, { file, path: temp }, body);
    } else {
      throw fail(op, "the body is neither bytes nor a stream");
    }
    await file.sync();
    file.close();
    file = undefined;
    // link, not rename: it refuses to replace an existing name, so two
    // writers racing on one name cannot overwrite each other.
    try {
      await Deno.link(temp, final);
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) throw taken();
      throw err;
    }
  } finally {
    file?.close();
    await removeQuietly(temp);
  }
  await syncDir(dir);
}

/**
 * One page of the objects in folder `dir` (a channel or a pool). Temp files
 * and other dotfiles never match an object name.
 */
async function listFolder(
  dir: string,
  { prefix, after, limit, all }: {
    prefix: string | undefined;
    after: string | undefined;
    limit: number;
    all: boolean;
  },
): Promise<ListPage> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    // isFile is false for symlinks: never list what could point elsewhere
    // as an object. With `all`, such entries are shown as what they are.
    if (!OBJECT_NAME_RE.test(entry.name) || (!entry.isFile && !all)) continue;
    if (prefix !== undefined && !entry.name.startsWith(prefix)) continue;
    if (after !== undefined && entry.name <= after) continue;
    names.push(entry.name);
  }
  names.sort(byteOrder);
  const page = names.slice(0, limit);
  const infos = await Promise.all(page.map((n) => lstatOrNull(`${dir}/${n}`)));
  const objects: ObjectInfo[] = [];
  page.forEach((objectName, i) => {
    const info = infos[i];
    // Deleted since readDir: leave it out.
    if (info?.isFile) objects.push({ name: objectName, size: info.size });
    else if (info && all) {
      const special = info.isDirectory ? "folder" : info.isSymlink ? "symlink" : "other";
      objects.push({ name: objectName, size: info.size, special });
    }
  });
  const last = page[page.length - 1];
  return names.length > limit && last !== undefined ? { objects, next: last } : { objects };
}

/**
 * A stream of the regular file at `path`. The name could be swapped for a
 * symlink between lstat and open; the open file must be the one lstat saw.
 */
async function openRegular(
  path: string,
  missing: () => SyftError,
  swapped: () => SyftError,
): Promise<ReadableStream<Uint8Array>> {
  const info = await lstatOrNull(path);
  if (!info?.isFile) throw missing();
  const file = await Deno.open(path, { read: true });
  const opened = await file.stat().catch(() => null);
  if (!opened || opened.ino !== info.ino || opened.dev !== info.dev) {
    file.close();
    throw swapped();
  }
  return givesAwayChunks(fileStream(file, { take: chunkBuffer, keep: spareBuffer }));
}

function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/**
 * Replace a small file atomically (temp, sync, rename): a pool object's
 * readers, the one thing on the shared folder we overwrite.
 */
async function replaceSmallFile(dir: string, path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${dir}/${TEMP_PREFIX}${randomHex(16)}`;
  try {
    const file = await Deno.open(temp, { write: true, createNew: true });
    try {
      await writeAll(file, bytes);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } finally {
    await removeQuietly(temp);
  }
  await syncDir(dir);
}

/** Largest readers file read: a hostile one must not make us allocate much. */
const MAX_READERS_FILE = 1024 * 1024;

/** The readers recorded for a pool object, or null when there is no (valid) record. */
async function readReaders(path: string): Promise<Set<string> | null> {
  const info = await lstatOrNull(path);
  if (!info?.isFile || info.size > MAX_READERS_FILE) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(await Deno.readFile(path)));
    const readers = parseReaders(value);
    return typeof readers === "string" ? null : new Set(readers);
  } catch {
    return null;
  }
}

/**
 * After this many bytes of a streamed body, `put` asks the kernel to start
 * writing them out (an fdatasync nobody waits for) while the body keeps coming,
 * so the final fsync of a large object waits for the last stretch, not all of it.
 */
const EARLY_SYNC_BYTES = 32 * 1024 * 1024;

/**
 * Write `body` to `file`, asking for the next piece before writing this one:
 * the writer (this Worker) and the producer (the host sealing the object) then
 * work at the same time instead of taking turns. One piece is held ahead.
 * Durability still rests on the caller's final fsync; the early ones only
 * start it sooner, through a handle of their own: Deno runs one handle's
 * operations one after another, so a sync on the writing handle held back
 * every write behind it (11-13 ms, 32 times per GiB).
 */
async function writeStream(
  op: string,
  { file, path }: { file: Deno.FsFile; path: string },
  body: ReadableStream<Uint8Array>,
): Promise<void> {
  const reader = body.getReader();
  let unsynced = 0;
  let syncing: Promise<void> | null = null;
  try {
    let next = reader.read();
    for (;;) {
      const { done, value } = await next;
      if (done) return;
      if (!(value instanceof Uint8Array)) {
        throw fail(op, "the body stream yielded something other than bytes");
      }
      next = reader.read();
      // A failed write must not leave that read's rejection unhandled.
      next.catch(() => {});
      await writeAll(file, value);
      unsynced += value.byteLength;
      releaseChunk(value);
      if (unsynced >= EARLY_SYNC_BYTES && syncing === null) {
        unsynced = 0;
        syncing = syncBeside(path).finally(() => {
          syncing = null;
        });
      }
    }
  } catch (err) {
    reader.cancel(err).catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
    await syncing;
  }
}

/** fsync `path` through a handle of its own; an error is dropped (it was only a head start). */
async function syncBeside(path: string): Promise<void> {
  try {
    const beside = await Deno.open(path, { read: true });
    try {
      await beside.syncData();
    } finally {
      beside.close();
    }
  } catch {
    // The caller's final fsync still stands for durability.
  }
}

function changedChannels(base: Snapshot | null, now: Snapshot): string[] {
  return Object.keys(now.channels)
    .filter((sender) => base === null || base.channels[sender] !== now.channels[sender])
    .sort(byteOrder);
}

function encodeCursor(snapshot: Snapshot): string {
  const json = JSON.stringify({ v: 1, root: snapshot.root, ch: snapshot.channels });
  return encodeBase64(new TextEncoder().encode(json));
}

/** A cursor we cannot read counts as none: every channel is reported, which is allowed. */
function decodeCursor(cursor: string): Snapshot | null {
  try {
    const bytes = parseBase64(cursor);
    if (bytes === null) return null;
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value !== "object" || value === null) return null;
    const { v, root, ch } = value as Record<string, unknown>;
    if (v !== 1 || typeof root !== "string" || typeof ch !== "object" || ch === null) return null;
    const channels: Record<string, string> = {};
    for (const [sender, signature] of Object.entries(ch)) {
      if (!isIdentity(sender) || typeof signature !== "string") return null;
      channels[sender] = signature;
    }
    return { root, channels };
  } catch {
    return null;
  }
}
