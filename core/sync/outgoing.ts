/**
 * Writing objects to our own channel: sealing for the peer, uploading blobs
 * (reused only when the one already there decrypts to the same content), and
 * telling our own objects from ones someone else dropped into the shared
 * folder. Shared by batches and checkpoints.
 * @module
 */
import { blobId, hashedFileStream, hashStream, sha256Hex } from "../crypto/agree.ts";
import { lazyImport } from "../lazy_import.ts";
import { openEnvelope, readHeaderOnly, sealEnvelope } from "../events/envelope.ts";
import { blobName, type ObjectKind } from "../events/types.ts";
import { SyftError } from "../errors/mod.ts";
import { channelName, type ChannelRef } from "../transport/contract.ts";
import type { PeerKeys, SyncContext } from "./context.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import type { ContentCache } from "./content_cache.ts";

/** Seal `body` as object `name` of our channel to `keys.peer`. */
export function sealFor(
  ctx: SyncContext,
  keys: PeerKeys,
  header: { kind: ObjectKind; name: string; seq: number; size: number },
  body: Uint8Array | ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  return sealEnvelope(
    { ...header, sender: ctx.me, recipient: keys.peer, created_at: ctx.clock.now() },
    body,
    {
      signPrivate: ctx.keys.sign.privateKey,
      agreePrivate: ctx.keys.agree.privateKey,
      peerAgreePublic: keys.agreePublic,
    },
  );
}

/** The keys that open our own objects: X25519 is symmetric, so ours and the peer's public one. */
export function ownOpenKeys(ctx: SyncContext, keys: PeerKeys) {
  return {
    senderSignPublic: ctx.keys.sign.publicKey,
    agreePrivate: ctx.keys.agree.privateKey,
    senderAgreePublic: keys.agreePublic,
  };
}

/** Tar entries a reader accepts in a checkpoint: a full one lists every projected file. */
export const CHECKPOINT_MAX_ENTRIES = 200_001;

/**
 * The `batch.json` or `checkpoint.json` of our own object `name` in our
 * channel to `keys.peer`, opened with our own keys (X25519 is symmetric).
 * @throws {SyftError} `E_BAD_MESSAGE` when it is not an object we wrote.
 */
export async function readOwnObject(
  ctx: SyncContext,
  keys: PeerKeys,
  name: string,
  kind: "batch" | "ci" | "cf",
): Promise<Uint8Array> {
  const channel: ChannelRef = { sender: ctx.me, recipient: keys.peer };
  const opened = await openEnvelope(
    await ctx.transport.get(channel, name),
    { name, sender: ctx.me, recipient: keys.peer, kind },
    ownOpenKeys(ctx, keys),
  );
  // The tar and gzip readers load here, not with the round: an idle round reads no object.
  const { unpackBody } = await lazyImport<typeof import("../events/body.ts")>(
    new URL("../events/body.ts", import.meta.url),
  );
  return await unpackBody(opened.body, {
    first: kind === "batch" ? "batch.json" : "checkpoint.json",
    ...(kind === "batch" ? {} : { maxEntries: CHECKPOINT_MAX_ENTRIES }),
    onContent: () => Promise.resolve(),
  });
}

/**
 * Whether object `name` in our channel is one this identity wrote: its header
 * verifies with our key and names exactly that object. Anyone who can write
 * the shared folder can drop a file there.
 */
export async function isOwnObject(
  ctx: SyncContext,
  channel: ChannelRef,
  name: string,
  kind: ObjectKind,
): Promise<boolean> {
  try {
    await readHeaderOnly(await ctx.transport.get(channel, name), {
      name,
      sender: ctx.me,
      recipient: channel.recipient,
      kind,
    }, ctx.keys.sign.publicKey);
    return true;
  } catch (err) {
    if (err instanceof SyftError && err.code === "E_BAD_MESSAGE") return false;
    throw err;
  }
}

/**
 * What a squatter put at `name` in our channel: a folder, symlink or other
 * entry that is no object (null when the name holds an object or nothing).
 * Anyone who can write the shared folder can create one where our next object
 * goes; it can be neither read as ours nor replaced by a create-only put.
 */
export async function squatterAt(
  ctx: SyncContext,
  channel: ChannelRef,
  name: string,
): Promise<string | null> {
  const page = await ctx.transport.list(channel, { prefix: name, limit: 1, all: true });
  const entry = page.objects.find((o) => o.name === name);
  return entry?.special ?? null;
}

/**
 * The error that stops our channel to one peer (never the round): the name we
 * must write next is taken by something we cannot remove or step past safely.
 */
export function squattedError(channel: ChannelRef, name: string, kind: string): SyftError {
  return new SyftError(
    "E_EXISTS",
    `cannot write ${name} to our channel to ${channel.recipient}: ` +
      `a ${kind} someone else created takes that name in the shared storage`,
    {
      hint: `remove that ${kind} (in the folder of channel ${
        channelName(channel)
      }), then run syft sync again`,
    },
  );
}

/** Stream a file, failing if its bytes no longer hash to `expected`. */
export async function verifiedStream(
  path: string,
  expected: string,
  fs: LocalFs,
): Promise<ReadableStream<Uint8Array>> {
  return await hashedFileStream(path, ({ hash }) => {
    if (hash !== expected) {
      throw new SyftError("E_INPUT", `${path} changed while it was being sent`);
    }
  }, fs);
}

/**
 * A file's bytes if they still hash to `expected`; null when changed or gone.
 * From the round's `cache` when it has them (read and hashed this round).
 */
export function readVerified(
  fs: LocalFs,
  path: string,
  expected: string,
  cache?: ContentCache,
): Uint8Array | null {
  const kept = cache?.get(expected);
  if (kept) return kept;
  try {
    // Synchronous: inline contents are small, and a batch reads thousands of them.
    const bytes = fs.readFileSync(path);
    if (sha256Hex(bytes) !== expected) return null;
    cache?.put(expected, bytes);
    return bytes;
  } catch {
    return null;
  }
}

/** Read a whole stream (a batch or checkpoint body, whose size the header needs). */
export async function collectBytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of stream) {
    parts.push(c);
    n += c.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A content to upload as a blob. */
export interface BlobSource {
  /** The batch or checkpoint that first references it. */
  seq: number;
  /** The file it is read from, re-hashed as it is read. */
  source: string;
  hash: string;
  size: number;
}

/** Upload `blob`'s content as a blob of our channel. Returns its id. */
export async function uploadBlob(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  blob: BlobSource,
): Promise<string> {
  const { seq, source, hash, size } = blob;
  const id = await blobId(keys.blobKeyOut, hash);
  const name = blobName(id);
  const seal = async () =>
    sealFor(
      ctx,
      keys,
      { kind: "blob", name, seq, size },
      await verifiedStream(source, hash, ctx.fs),
    );
  const sealed = await seal();
  try {
    await ctx.transport.put(channel, name, sealed);
    return id;
  } catch (err) {
    if (!(err instanceof SyftError) || err.code !== "E_EXISTS") throw err;
    await sealed.cancel().catch(() => {}); // unread: close the source file
  }
  // Not an object at all (a folder, a symlink): it cannot be read or replaced.
  const squatter = await squatterAt(ctx, channel, name);
  if (squatter) throw squattedError(channel, name, squatter);
  // Already there (a crash after upload, or a resync): reuse it only if it
  // opens as ours in full and holds this content. A header check alone let a
  // blob damaged in the channel be reused by every resync, so the peer
  // quarantined every republish and never caught up (identity test (g)); and
  // a foreign object under the name stopped publishing to the peer for good.
  if (await holdsContent(ctx, keys, channel, name, hash)) return id;
  ctx.warn(`${name} in our channel to ${keys.peer} is damaged or not ours; uploading it again`);
  await ctx.transport.delete(channel, name);
  await ctx.transport.put(channel, name, await seal());
  return id;
}

/** Whether blob `name` in our channel verifies as ours and decrypts to content `hash`. */
async function holdsContent(
  ctx: SyncContext,
  keys: PeerKeys,
  channel: ChannelRef,
  name: string,
  hash: string,
): Promise<boolean> {
  try {
    const opened = await openEnvelope(
      await ctx.transport.get(channel, name),
      { name, sender: ctx.me, recipient: keys.peer, kind: "blob" },
      ownOpenKeys(ctx, keys),
    );
    return (await hashStream(opened.body)).hash === hash;
  } catch (err) {
    if (err instanceof SyftError && err.code === "E_BAD_MESSAGE") return false;
    throw err;
  }
}
