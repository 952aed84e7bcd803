/**
 * Objects that fail a check are moved aside with their reason (a copy, since a
 * reader never writes into another's channel), logged, and listed by
 * `syft status` under the word "quarantined". They are never applied.
 *
 * The copy is bounded: a hostile peer's object can be gigabytes, so only its
 * first {@linkcode QUARANTINE_HEAD_BYTES} are kept, with the SHA-256 and size of
 * the whole in the record, and the folder as a whole keeps at most the budget
 * (`sync.quarantine_mib`), the oldest entries dropped first.
 * @module
 */
import { createHash } from "node:crypto";
import { posix } from "node:path";
import type { ChannelRef, Transport } from "../transport/contract.ts";
import { channelName } from "../transport/contract.ts";
import { writeFileAtomic } from "../fs/atomic.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import type { StateLayout } from "./state.ts";

/** Bytes of a refused object kept for forensics; the rest is only hashed. */
export const QUARANTINE_HEAD_BYTES = 64 * 1024;

/** The quarantine folder's budget when none is given (config `sync.quarantine_mib`). */
export const DEFAULT_QUARANTINE_BYTES = 64 * 1024 * 1024;

/** An object refused by a reader or a writer, and why. */
export interface RefusedObject {
  channel: ChannelRef;
  /** The object's name in the channel. */
  name: string;
  reason: string;
  now: number;
  /** The quarantine folder's budget (config `sync.quarantine_mib`). */
  budgetBytes?: number | undefined;
}

/** Record (and, where the transport still serves it, copy the head of) a refused object. */
export async function quarantineRefused(
  layout: StateLayout,
  transport: Transport,
  refused: RefusedObject,
): Promise<void> {
  const { channel, name, reason, now } = refused;
  await layout.fs.mkdir(layout.quarantine, { recursive: true, mode: 0o700 });
  const object = `${channelName(channel)}/${name}`;
  const base = `${now}-${channel.sender}-${name}`;
  const record: Record<string, unknown> = { object, reason, at: now };
  try {
    const path = posix.join(layout.quarantine, `${base}.object`);
    Object.assign(record, await copyHead(transport, { channel, name, path, fs: layout.fs }));
  } catch {
    // The record below is what matters; the copy is for forensics only.
  }
  await writeFileAtomic(
    posix.join(layout.quarantine, `${base}.json`),
    JSON.stringify(record) + "\n",
    { mode: 0o600, fs: layout.fs },
  );
  const budget = refused.budgetBytes ?? DEFAULT_QUARANTINE_BYTES;
  await trimQuarantine(layout.fs, layout.quarantine, budget, base);
}

/** Keep the object's first bytes at `path`; hash and count the whole stream. */
async function copyHead(
  transport: Transport,
  at: { channel: ChannelRef; name: string; path: string; fs: LocalFs },
): Promise<{ size: number; sha256: string; kept: number }> {
  const { channel, name, path, fs } = at;
  const stream = await transport.get(channel, name);
  const file = await fs.open(path, { write: true, create: true, truncate: true, mode: 0o600 });
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of stream) {
      hash.update(chunk);
      if (size < QUARANTINE_HEAD_BYTES) {
        const part = chunk.subarray(0, QUARANTINE_HEAD_BYTES - size);
        let done = 0;
        while (done < part.length) done += await file.write(part.subarray(done));
      }
      size += chunk.length;
    }
  } finally {
    file.close();
  }
  return { size, sha256: hash.digest("hex"), kept: Math.min(size, QUARANTINE_HEAD_BYTES) };
}

/**
 * Drop whole entries (record and copy), oldest first, until the folder holds
 * at most `budgetBytes`; the entry just written (`keep`) always stays.
 */
async function trimQuarantine(
  fs: LocalFs,
  dir: string,
  budgetBytes: number,
  keep: string,
): Promise<void> {
  const entries = new Map<string, { at: number; bytes: number; files: string[] }>();
  for await (const e of fs.readDir(dir)) {
    if (!e.isFile) continue;
    const m = /^(\d+)-.*?(?=\.(?:json|object)$)/.exec(e.name);
    if (!m) continue;
    const info = await fs.lstat(posix.join(dir, e.name)).catch(() => null);
    if (!info) continue;
    const entry = entries.get(m[0]) ?? { at: Number(m[1]), bytes: 0, files: [] };
    entry.bytes += info.size;
    entry.files.push(e.name);
    entries.set(m[0], entry);
  }
  let total = 0;
  for (const entry of entries.values()) total += entry.bytes;
  const oldest = [...entries.entries()].sort((a, b) =>
    a[1].at - b[1].at || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
  );
  for (const [base, entry] of oldest) {
    if (total <= budgetBytes) break;
    if (base === keep) continue;
    for (const f of entry.files) await fs.remove(posix.join(dir, f)).catch(() => {});
    total -= entry.bytes;
  }
}
