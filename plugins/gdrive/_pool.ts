/**
 * The sender's pool on Drive (protocol v2, issue 17 item 1): a blob stored
 * once and shared file by file with exactly its readers.
 *
 * ```
 * My Drive/syft/syft2pool/          ours, never shared as a folder
 * My Drive/syft/syft2pool/<name>    one object, shared as reader with each of its readers
 * ```
 *
 * A reader finds `sender`'s object among the files shared with it, by exact
 * name, and trusts it only when Drive says its owner is `sender`: anyone can
 * share a file of any name with anyone (a squatter). Drive's search lags
 * behind a new grant while its change feed does not, so ids of files shared
 * with us are also learnt from the feed (see {@linkcode DrivePool.learn}).
 * Costs: a put for K readers is one upload, one listing (the duplicate
 * check) and K `permissions.create`, sent one after another because Drive
 * applies only the last of concurrent permission changes to a file.
 * @module
 */
import { OBJECT_NAME_RE, type ObjectBody } from "../../core/transport/contract.ts";
import type { SyftError } from "../../core/errors/mod.ts";
import type { DriveApi } from "./_api.ts";
import { createObject } from "./_create.ts";
import { isNotFound } from "./_errors.ts";
import {
  byCreation,
  type DriveFile,
  exactlyNamed,
  FOLDER_MIME,
  qString,
  winner,
} from "./_files.ts";
import { byteOrder, type DriveLayout, explainSharing } from "./_layout.ts";

/** Name of our pool folder, inside our `syft` folder. */
export const POOL_FOLDER_NAME = "syft2pool";

/**
 * The public property that marks a pool object, so a reader never takes a
 * channel object of the same name and owner for one (its owner is what
 * makes it trusted; anyone can set a property).
 */
export const POOL_PROPERTY = { key: "syftPool", value: "2" } as const;
const POOL_MARK = { [POOL_PROPERTY.key]: POOL_PROPERTY.value };

/** Whether `file` carries the pool mark. */
function isMarked(file: DriveFile): boolean {
  return file.properties[POOL_PROPERTY.key] === POOL_PROPERTY.value;
}

/** How long our own creates are added to listings that do not show them yet. */
const RECENT_MS = 60_000;
/** Bound on each hint map; past it the map is dropped (hints are looked up again). */
const MAX_HINTS = 100_000;

/** A hint map that forgets everything rather than grow past its bound. */
class Hints<V> extends Map<string, V> {
  override set(key: string, value: V): this {
    if (this.size >= MAX_HINTS && !this.has(key)) this.clear();
    return super.set(key, value);
  }
}

/** The pool of one identity on Drive. */
export class DrivePool {
  readonly #api: DriveApi;
  readonly #layout: DriveLayout;
  readonly #me: string;
  /** Our objects: name → id of the copy that counts (a hint; a stale id answers 404). */
  readonly #ids = new Hints<string>();
  /** Our creates of the last minute, which listings may not show yet. */
  readonly #recent = new Hints<{ file: DriveFile; at: number }>();
  /** Readers each of our objects is known to be shared with, so a repeat costs no call. */
  readonly #granted = new Hints<Set<string>>();
  /** Others' objects shared with us: `sender\nname` → id, from searches and the change feed. */
  readonly #found = new Hints<DriveFile>();
  /** The same hints by id, for the change feed's removals. */
  readonly #foundKeys = new Hints<string>();

  constructor(api: DriveApi, layout: DriveLayout, me: string) {
    this.#api = api;
    this.#layout = layout;
    this.#me = me;
  }

  /**
   * Store `body` as `name`, create-only, then share it with each reader. A
   * grant that fails takes the object away again, so a put either happened
   * whole or can be repeated.
   * @throws {SyftError} `E_EXISTS` when the name is taken.
   */
  async put(
    op: string,
    name: string,
    body: ObjectBody,
    readers: string[],
    exists: () => SyftError,
  ): Promise<void> {
    const folder = await this.#folder(op, true);
    if (folder === null) throw new Error("the pool folder could not be created");
    const file = await createObject(this.#api, op, {
      folder,
      name,
      body,
      copies: () => this.#copies(op, folder, name),
      exists,
      properties: POOL_MARK,
    });
    this.#recent.set(name, { file, at: Date.now() });
    this.#ids.set(name, file.id);
    try {
      await this.#grant(op, name, file.id, readers);
    } catch (err) {
      await this.#api.deleteFile(op, file.id).catch(() => {}); // best effort: the error is the news
      this.#forget(name);
      throw err;
    }
  }

  /** Share our object `name` with more readers; readers it already has cost nothing. */
  async addReaders(
    op: string,
    name: string,
    readers: string[],
    missing: () => SyftError,
  ): Promise<void> {
    await this.#withOwnId(op, name, missing, (id) => this.#grant(op, name, id, readers));
  }

  /**
   * The bytes of `sender`'s object `name`, if it is shared with us: a known
   * id first (one call), else a search of the files shared with us.
   */
  async get(
    op: string,
    sender: string,
    name: string,
    missing: () => SyftError,
  ): Promise<ReadableStream<Uint8Array>> {
    if (sender === this.#me) {
      return await this.#withOwnId(op, name, missing, (id) => this.#api.download(op, id));
    }
    const key = `${sender}\n${name}`;
    const known = this.#found.get(key);
    if (known !== undefined) {
      try {
        return await this.#api.download(op, known.id);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // Deleted or unshared since: search again. Its id stays known, so the
        // feed's report of its removal is not taken for a channel's.
        this.#found.delete(key);
      }
    }
    const q = `name = ${qString(name)} and ${qString(sender)} in owners` +
      ` and sharedWithMe = true and trashed = false and properties has { key=${
        qString(POOL_PROPERTY.key)
      } and value=${qString(POOL_PROPERTY.value)} }`;
    // Name, owner and mark are checked again here: search is not ours to trust.
    const first = winner(
      exactlyNamed(await this.#api.listAll(op, q), name, sender).filter((f) =>
        f.mimeType !== FOLDER_MIME && isMarked(f)
      ),
    );
    if (first === null) throw missing();
    this.#remember(key, first);
    return await this.#api.download(op, first.id);
  }

  /** One page of our pool: one copy per name, in byte order (our recent creates included). */
  async list(
    op: string,
    options: { prefix: string | undefined; after: string | undefined; limit: number },
  ): Promise<{ objects: { name: string; size: number }[]; next?: string }> {
    const folder = await this.#folder(op, false);
    if (folder === null) return { objects: [] };
    const q = `${qString(folder)} in parents and trashed = false`;
    const byName = new Map<string, DriveFile>();
    for (const file of await this.#api.listAll(op, q)) {
      if (!this.#isOurs(file)) continue;
      const seen = byName.get(file.name);
      if (seen === undefined || byCreation(file, seen) < 0) byName.set(file.name, file);
    }
    const now = Date.now();
    for (const [name, entry] of this.#recent) {
      if (byName.has(name) || now - entry.at > RECENT_MS) this.#recent.delete(name);
      else byName.set(name, entry.file);
    }
    const { prefix, after, limit } = options;
    const all = [...byName.values()]
      .filter((f) =>
        (prefix === undefined || f.name.startsWith(prefix)) &&
        (after === undefined || f.name > after)
      )
      .sort((a, b) => byteOrder(a.name, b.name));
    for (const f of all) this.#ids.set(f.name, f.id);
    const page = all.slice(0, limit);
    const objects = page.map((f) => ({ name: f.name, size: f.size }));
    const last = page[page.length - 1];
    return all.length > limit && last !== undefined ? { objects, next: last.name } : { objects };
  }

  /** Remove every copy of our object `name`; a missing one is no error. */
  async delete(op: string, name: string): Promise<void> {
    const folder = await this.#folder(op, false);
    if (folder === null) return;
    const copies = await this.#copies(op, folder, name);
    this.#forget(name);
    for (const copy of copies) await this.#api.deleteFile(op, copy.id);
  }

  /**
   * Note a file the change feed reports that is shared with us but sits in no
   * folder we know: maybe an object of its owner's pool. Only a hint: its
   * name and owner come from Drive, and `get` drops it when it answers 404.
   */
  learn(file: DriveFile): void {
    const owner = file.owners[0];
    if (
      owner === undefined || owner === this.#me || file.owners.length !== 1 ||
      file.mimeType === FOLDER_MIME || file.trashed || !OBJECT_NAME_RE.test(file.name) ||
      !isMarked(file)
    ) return;
    const key = `${owner}\n${file.name}`;
    const seen = this.#found.get(key);
    // Two copies of one name: the earliest counts, as its owner resolves them.
    if (seen === undefined || seen.id === file.id || byCreation(file, seen) < 0) {
      this.#remember(key, file);
    }
  }

  /**
   * Forget an id the change feed says is gone (deleted or no longer shared
   * with us); true when it was a pool object we knew, so no channel lost it.
   */
  forgetId(id: string): boolean {
    const key = this.#foundKeys.get(id);
    if (key === undefined) return false;
    this.#foundKeys.delete(id);
    if (this.#found.get(key)?.id === id) this.#found.delete(key);
    return true;
  }

  #remember(key: string, file: DriveFile): void {
    this.#found.set(key, file);
    this.#foundKeys.set(file.id, key);
  }

  /** Share one after another: Drive keeps only the last of concurrent permission changes. */
  async #grant(op: string, name: string, id: string, readers: string[]): Promise<void> {
    const granted = this.#granted.get(name) ?? new Set<string>();
    this.#granted.set(name, granted);
    for (const reader of readers) {
      if (reader === this.#me || granted.has(reader)) continue;
      try {
        await this.#api.shareAsReader(op, id, reader);
      } catch (err) {
        throw explainSharing(err, reader, op);
      }
      granted.add(reader);
    }
  }

  /**
   * Run `fn` on the id of our object `name`: the one we know, and when Drive
   * says it is gone (another life of the plugin replaced it), the one a
   * look-up finds.
   */
  async #withOwnId<T>(
    op: string,
    name: string,
    missing: () => SyftError,
    fn: (id: string) => Promise<T>,
  ): Promise<T> {
    const known = this.#ids.get(name);
    if (known !== undefined) {
      try {
        return await fn(known);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.#forget(name);
      }
    }
    const id = await this.#ownId(op, name);
    if (id === null) throw missing();
    return await fn(id);
  }

  /** The id of our object `name` (a hint, else a look-up), or null when there is none. */
  async #ownId(op: string, name: string): Promise<string | null> {
    const known = this.#ids.get(name);
    if (known !== undefined) return known;
    const folder = await this.#folder(op, false);
    if (folder === null) return null;
    const first = winner(await this.#copies(op, folder, name));
    if (first !== null) this.#ids.set(name, first.id);
    return first?.id ?? null;
  }

  /** Every copy of our object `name` in the pool folder, our recent create included. */
  async #copies(op: string, folder: string, name: string): Promise<DriveFile[]> {
    const q = `name = ${qString(name)} and ${qString(folder)} in parents and trashed = false`;
    const found = exactlyNamed(await this.#api.listAll(op, q), name, this.#me)
      .filter((f) => f.mimeType !== FOLDER_MIME);
    const recent = this.#recent.get(name);
    if (
      recent && Date.now() - recent.at <= RECENT_MS && !found.some((f) => f.id === recent.file.id)
    ) {
      found.push(recent.file); // the listing lags behind our own create
    }
    return found;
  }

  #isOurs(file: DriveFile): boolean {
    return !file.trashed && file.mimeType !== FOLDER_MIME && OBJECT_NAME_RE.test(file.name) &&
      file.owners.includes(this.#me);
  }

  #forget(name: string): void {
    this.#ids.delete(name);
    this.#recent.delete(name);
    this.#granted.delete(name);
  }

  async #folder(op: string, create: boolean): Promise<string | null> {
    return await this.#layout.ownFolder(op, POOL_FOLDER_NAME, create);
  }
}
