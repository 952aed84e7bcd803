/**
 * A mirror the user deleted whole (docs/protocol.md §8: deleting the whole
 * mirror never proposes deletions). Its records are forgotten, so files the
 * owner publishes later cannot make the missing ones look deleted, and the
 * owner is asked for a fresh full checkpoint, which refills the mirror.
 * @module
 */
import { posix } from "node:path";
import type { SyncContext } from "../context.ts";
import type { ChannelState } from "../state.ts";

/** Whether `state` remembers files in a mirror folder that is gone. */
export async function mirrorWasWiped(ctx: SyncContext, state: ChannelState): Promise<boolean> {
  if (Object.keys(state.mirror).length === 0) return false;
  const root = posix.join(ctx.root, state.peer);
  return !await ctx.fs.lstat(root).then((i) => i.isDirectory, () => false);
}

/**
 * `state` with the wiped mirror forgotten and a resync asked: the answer is a
 * full checkpoint past our cursor, restored like a new reader's.
 */
export function forgetWipedMirror(state: ChannelState): ChannelState {
  return {
    ...state,
    mirror: {},
    proposed: {},
    controls: [...state.controls, {
      type: "channel.resync",
      from_seq: state.cursor + 1,
      reason: "the mirror was deleted",
    }],
    want_cf: Math.max(state.want_cf ?? -1, state.cursor),
    ack_needed: true,
  };
}
