/**
 * Fetching what a peer published: open an object's envelope (a batch or a
 * checkpoint), stage the contents it carries inline, and fetch a blob only
 * when a planned write needs it. Every size and hash is checked against the
 * event that claims it; a mismatch is `E_BAD_MESSAGE` (the object is refused).
 * @module
 */
import { posix } from "node:path";
import { blobId, writeHashed } from "../../crypto/agree.ts";
import { openEnvelope } from "../../events/envelope.ts";
import { parseBatchJson, parseCheckpointJson } from "../../events/parse.ts";
import { unpackBody } from "../../events/body.ts";
import {
  type BatchJson,
  blobName,
  type CheckpointJson,
  type FileChangeEvent,
  type PoolRef,
} from "../../events/types.ts";
import { parseBase64 } from "../../encoding/base64.ts";
import { SyftError } from "../../errors/mod.ts";
import { type ChannelRef, poolOf } from "../../transport/contract.ts";
import type { PeerKeys, SyncContext } from "../context.ts";
import { CHECKPOINT_MAX_ENTRIES } from "../outgoing.ts";

/** The kinds of object a channel carries events in. */
export type ObjectKind = "batch" | "ci" | "cf";

/** One object of a peer's channel, and the folder its contents are staged in. */
export interface ObjectRef {
  ctx: SyncContext;
  keys: PeerKeys;
  channel: ChannelRef;
  name: string;
  seq: number;
  staging: string;
}

/** A parsed object and the sizes of the contents it carried inline (staged by hash). */
export type Fetched<K extends ObjectKind> = (K extends "batch" ? BatchJson : CheckpointJson) & {
  staged: Map<string, number>;
};

/** Fetches one blob into staging (a no-op when it is there already). */
export type BlobFetch = (hash: string, size: number, event: string) => Promise<void>;

/** Open object `ref.name` (a batch, or a checkpoint of `kind`) and stage its contents. */
export async function fetchObject<K extends ObjectKind>(
  ref: ObjectRef,
  kind: K,
): Promise<Fetched<K>> {
  const body = await openObject(ref, kind);
  const { json, sizes } = await stageContents(ref, kind, body);
  const parties = { sender: ref.channel.sender, recipient: ref.channel.recipient };
  const parsed = kind === "batch"
    ? parseBatchJson(json, parties)
    : parseCheckpointJson(json, { ...parties, kind: kind as "ci" | "cf" });
  if (parsed.seq !== ref.seq) {
    throw new SyftError(
      "E_BAD_MESSAGE",
      `object ${ref.name}: its JSON says seq ${parsed.seq}, not ${ref.seq}`,
    );
  }
  checkInlineSizes(ref.name, parsed.events, sizes);
  return { ...parsed, staged: sizes } as unknown as Fetched<K>;
}

/** The object's verified, decrypted body; its header's seq must be the one listed. */
async function openObject(ref: ObjectRef, kind: ObjectKind): Promise<ReadableStream<Uint8Array>> {
  const { ctx, keys, channel, name } = ref;
  const opened = await openEnvelope(
    await ctx.transport.get(channel, name),
    { name, sender: channel.sender, recipient: channel.recipient, kind },
    {
      senderSignPublic: keys.signPublic,
      agreePrivate: ctx.keys.agree.privateKey,
      senderAgreePublic: keys.agreePublic,
    },
  );
  if (opened.header.seq !== ref.seq) {
    throw new SyftError(
      "E_BAD_MESSAGE",
      `object ${name}: header seq ${opened.header.seq} is not ${ref.seq}`,
    );
  }
  return kind === "batch" ? opened.body : withProgress(ctx, name, opened);
}

/** Unpack a body: its JSON, each inline content staged by hash with its size. */
async function stageContents(
  ref: ObjectRef,
  kind: ObjectKind,
  body: ReadableStream<Uint8Array>,
): Promise<{ json: Uint8Array; sizes: Map<string, number> }> {
  const { ctx, staging } = ref;
  await ctx.fs.mkdir(staging, { recursive: true });
  // Staged sizes, so the checks after need no lstat per event.
  const sizes = new Map<string, number>();
  const json = await unpackBody(body, {
    first: kind === "batch" ? "batch.json" : "checkpoint.json",
    ...(kind === "batch" ? {} : { maxEntries: CHECKPOINT_MAX_ENTRIES }),
    onContent: (hash, bytes) => {
      // Synchronous: a small file's asynchronous write costs more in round trips than in writing.
      // createNew: the folder is this batch's own, and the reader refuses duplicate hashes.
      ctx.fs.writeFileSync(posix.join(staging, hash), bytes, { createNew: true });
      sizes.set(hash, bytes.byteLength);
      return Promise.resolve();
    },
  });
  return { json, sizes };
}

/**
 * Every inline content an event names is there, with the size it claims.
 * Blobs are fetched later, only for the events that are applied (see
 * {@linkcode blobFetcher}): a proposal refused from its metadata costs no blob bytes.
 */
function checkInlineSizes(
  name: string,
  events: readonly FileChangeEvent[],
  sizes: Map<string, number>,
): void {
  for (const ev of events) {
    if (ev.new_hash === null) continue;
    const stagedSize = sizes.get(ev.new_hash);
    if (stagedSize === undefined) {
      if (ev.content === "blob" || ev.content === "pool") continue;
      throw new SyftError(
        "E_BAD_MESSAGE",
        `object ${name}: inline content for ${ev.path} is missing`,
      );
    }
    // The hash pins the bytes, not the claimed size, and the size is what the
    // inbox quota counts: a size that lies about its content refuses the batch.
    if (stagedSize !== ev.size) {
      throw new SyftError(
        "E_BAD_MESSAGE",
        `object ${name}: ${ev.path} claims size ${ev.size} but its content is ${stagedSize} bytes`,
      );
    }
  }
}

/** A checkpoint's body, reporting its bytes as they are read (a restore can be large). */
function withProgress(
  ctx: SyncContext,
  name: string,
  opened: { header: { sender: string; size: number }; body: ReadableStream<Uint8Array> },
): ReadableStream<Uint8Array> {
  const progress = ctx.progress;
  if (!progress) return opened.body;
  const label = `restoring ${opened.header.sender} from ${name}`;
  const total = opened.header.size;
  let done = 0;
  progress(label, 0, total);
  return opened.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        done += chunk.length;
        progress(label, Math.min(done, total), total);
        controller.enqueue(chunk);
      },
      flush() {
        if (done < total) progress(label, total, total);
      },
    }),
  );
}

/**
 * Fetches a blob into staging the first time a planned write needs it: bytes
 * are spent only on content that will be written. Its envelope's size is
 * checked against the event's before the body is read, and its hash after.
 */
export function blobFetcher(
  ref: Omit<ObjectRef, "seq">,
  staged: Map<string, number>,
  events: readonly FileChangeEvent[] = [],
): BlobFetch {
  // Pooled contents (protocol v2) by hash: where each is and the key that opens it.
  const pooled = new Map<string, PoolRef>();
  for (const ev of events) {
    if (ev.content === "pool" && ev.pool && ev.new_hash) pooled.set(ev.new_hash, ev.pool);
  }
  return async (hash, size, event) => {
    const known = staged.get(hash);
    if (known !== undefined) {
      if (known !== size) {
        throw new SyftError(
          "E_BAD_MESSAGE",
          `object ${ref.name}: event ${event} claims size ${size} but its content is ${known} bytes`,
        );
      }
      return;
    }
    const pool = pooled.get(hash);
    if (pool) await fetchPooled(ref, pool, { hash, size, event });
    else await fetchBlob(ref, { hash, size, event });
    staged.set(hash, size);
  };
}

/**
 * Fetch, check and stage a pooled content: the object in the sender's pool,
 * signed by the sender for no one in particular (`*`), opened with the key
 * the referencing object carried; size and hash checked as for a blob.
 */
async function fetchPooled(
  ref: Omit<ObjectRef, "seq">,
  pool: PoolRef,
  want: { hash: string; size: number; event: string },
): Promise<void> {
  const { ctx, keys, channel } = ref;
  const contentKey = parseBase64(pool.key);
  if (!contentKey) throw new SyftError("E_BAD_MESSAGE", `event ${want.event}: bad pool key`);
  const opened = await openEnvelope(
    await getPooled(ctx, channel, pool.name, ref.name),
    { name: pool.name, sender: channel.sender, recipient: "*", kind: "blob" },
    { senderSignPublic: keys.signPublic, contentKey },
  );
  await stageChecked(ref, opened, { ...want, what: `pool object ${pool.name}` });
}

/**
 * A pooled content a batch references. It is put before that batch, so one
 * we cannot read while the sender's channel answers is missing or not shared
 * with us: the batch is bad (quarantined, then resynced). When the channel
 * does not answer either, the storage is down and the round stops as usual.
 */
async function getPooled(
  ctx: SyncContext,
  channel: ChannelRef,
  name: string,
  batch: string,
): Promise<ReadableStream<Uint8Array>> {
  const pool = ctx.pool
    ? await ctx.pool.store()
    : poolOf(ctx.transport, await ctx.transport.capabilities());
  if (!pool) {
    throw new SyftError(
      "E_BAD_MESSAGE",
      `object ${batch}: it references pool object ${name}, but our transport has no pool`,
    );
  }
  try {
    return await pool.poolGet(channel.sender, name);
  } catch (err) {
    if (!(err instanceof SyftError) || err.code !== "E_TRANSPORT") throw err;
    await ctx.transport.list(channel, { limit: 1 }); // throws when the storage is down
    throw new SyftError(
      "E_BAD_MESSAGE",
      `object ${batch}: pool object ${name} it references cannot be read from ${channel.sender}'s pool`,
    );
  }
}

/** Write an opened blob's body to staging, checked against the size and hash an event claims. */
async function stageChecked(
  ref: Omit<ObjectRef, "seq">,
  opened: { header: { size: number }; body: ReadableStream<Uint8Array> },
  want: { hash: string; size: number; event: string; what: string },
): Promise<void> {
  const { hash, size, event, what } = want;
  if (opened.header.size !== size) {
    await opened.body.cancel().catch(() => {});
    throw new SyftError(
      "E_BAD_MESSAGE",
      `${what}: ${opened.header.size} bytes, but event ${event} claims ${size}`,
    );
  }
  const target = posix.join(ref.staging, hash);
  const temp = `${target}.part`;
  const written = await writeHashed(opened.body, temp, ref.ctx.fs);
  if (written.hash !== hash || written.size !== size) {
    throw new SyftError("E_BAD_MESSAGE", `${what}: content hash does not match event ${event}`);
  }
  await ref.ctx.fs.rename(temp, target);
}

/** Fetch, check and stage the blob of content `want.hash`. */
async function fetchBlob(
  ref: Omit<ObjectRef, "seq">,
  want: { hash: string; size: number; event: string },
): Promise<void> {
  const { ctx, keys, channel } = ref;
  const { hash, size, event } = want;
  const blob = blobName(await blobId(keys.blobKeyIn, hash));
  const opened = await openEnvelope(
    await getBlob(ctx, channel, blob, ref.name),
    { name: blob, sender: channel.sender, recipient: channel.recipient, kind: "blob" },
    {
      senderSignPublic: keys.signPublic,
      agreePrivate: ctx.keys.agree.privateKey,
      senderAgreePublic: keys.agreePublic,
    },
  );
  await stageChecked(ref, opened, { hash, size, event, what: `blob ${blob}` });
}

/**
 * A blob a batch references. Blobs are uploaded before the batch that needs
 * them (docs/protocol.md §4.3), so one that is not in the channel makes the batch
 * bad (quarantined, then resynced) instead of failing every round forever; any
 * other transport failure still stops the round.
 */
async function getBlob(
  ctx: SyncContext,
  channel: ChannelRef,
  blob: string,
  batch: string,
): Promise<ReadableStream<Uint8Array>> {
  try {
    return await ctx.transport.get(channel, blob);
  } catch (err) {
    if (!(err instanceof SyftError) || err.code !== "E_TRANSPORT") throw err;
    const page = await ctx.transport.list(channel, { prefix: blob, limit: 1 });
    if (page.objects.some((o) => o.name === blob)) throw err;
    throw new SyftError(
      "E_BAD_MESSAGE",
      `object ${batch}: blob ${blob} it references is missing from the channel`,
    );
  }
}
