/**
 * Batches written by hand into a real `local:` channel, sealed with the
 * sender's real keys: what a modified or hostile client could put there,
 * beyond what the CLI itself would ever write.
 * @module
 */
import { posix } from "node:path";
import { readKeys } from "../../core/config/keystore.ts";
import { homeLayout } from "../../core/config/home.ts";
import { sealEnvelope } from "../../core/events/envelope.ts";
import { type BodyContent, packBody } from "../../core/events/body.ts";
import { serializeJson } from "../../core/events/parse.ts";
import { type BatchJson, batchName, type FileChangeEvent } from "../../core/events/types.ts";
import type { Site, World } from "../e2e/_rig.ts";

/** The highest `b-` seq in `from`'s channel to `to` (0 when none). */
export async function lastSeq(w: World, from: Site, to: Site): Promise<number> {
  let highest = 0;
  const dir = posix.join(w.shared, `syft1#${from.email}#${to.email}`);
  for await (const e of Deno.readDir(dir)) {
    const m = /^b-(\d{16})\.syft$/.exec(e.name);
    if (m) highest = Math.max(highest, Number(m[1]));
  }
  return highest;
}

/** Seal `events` (with their inline `contents`) as batch `seq` from `from` to `to`, into the channel folder. */
export async function forgeBatch(
  w: World,
  from: Site,
  to: Site,
  seq: number,
  events: FileChangeEvent[],
  contents: BodyContent[],
): Promise<void> {
  const fromKeys = await readKeys(homeLayout(from.home).keys);
  const toKeys = await readKeys(homeLayout(to.home).keys);
  const batch: BatchJson = {
    seq,
    sender: from.email,
    created_at: Date.now(),
    events,
    acks: {},
    control: [],
  };
  const body = new Uint8Array(
    await new Response(packBody({ name: "batch.json", bytes: serializeJson(batch) }, contents))
      .arrayBuffer(),
  );
  const name = batchName(seq);
  const sealed = sealEnvelope(
    {
      kind: "batch",
      name,
      sender: from.email,
      recipient: to.email,
      seq,
      created_at: Date.now(),
      size: body.byteLength,
    },
    body,
    {
      signPrivate: fromKeys.sign.privateKey,
      agreePrivate: fromKeys.agree.privateKey,
      peerAgreePublic: toKeys.agree.publicKey,
    },
  );
  const dir = posix.join(w.shared, `syft1#${from.email}#${to.email}`);
  const temp = posix.join(dir, `.tmp-forge-${crypto.randomUUID()}`);
  await Deno.writeFile(temp, sealed);
  await Deno.rename(temp, posix.join(dir, name));
}
