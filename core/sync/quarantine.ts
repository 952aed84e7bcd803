/**
 * Objects that fail a check are moved aside with their reason (a copy, since a
 * reader never writes into another's channel), logged, and listed by
 * `syft status` under the word "quarantined". They are never applied.
 * @module
 */
import { posix } from "node:path";
import type { ChannelRef, Transport } from "../../plugins/contract.ts";
import { channelName } from "../../plugins/contract.ts";
import { writeFileAtomic } from "../fs/atomic.ts";
import type { StateLayout } from "./state.ts";

/** Record (and, where the transport still serves it, copy) a refused object. */
export async function quarantineObject(
  layout: StateLayout,
  transport: Transport,
  channel: ChannelRef,
  name: string,
  reason: string,
  now: number,
): Promise<void> {
  await Deno.mkdir(layout.quarantine, { recursive: true, mode: 0o700 });
  const object = `${channelName(channel)}/${name}`;
  const base = `${now}-${channel.sender}-${name}`;
  try {
    const stream = await transport.get(channel, name);
    const file = await Deno.open(posix.join(layout.quarantine, `${base}.object`), {
      write: true,
      create: true,
      truncate: true,
      mode: 0o600,
    });
    await stream.pipeTo(file.writable);
  } catch {
    // The record below is what matters; the copy is for forensics only.
  }
  await writeFileAtomic(
    posix.join(layout.quarantine, `${base}.json`),
    JSON.stringify({ object, reason, at: now }) + "\n",
    { mode: 0o600 },
  );
}
