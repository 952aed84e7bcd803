/**
 * Receiving a peer's channel: the round's entry into {@linkcode ChannelReader},
 * kept with its signature so callers need not change.
 * @module
 */
import type { PeerKeys, SyncContext } from "./context.ts";
import type { ChannelState } from "./state.ts";
import { ChannelReader } from "./channel_reader.ts";
import type { ReceiveOptions, ReceiveResult } from "./reader/types.ts";

export {
  DEFAULT_MAX_PROPOSALS,
  type ReceiveOptions,
  type ReceiveResult,
  type Rejection,
} from "./reader/types.ts";

/** Read every new object of `keys.peer`'s channel to us, in order, applying each. */
export function receiveFrom(
  ctx: SyncContext,
  keys: PeerKeys,
  initial: ChannelState,
  options: ReceiveOptions,
): Promise<ReceiveResult> {
  return new ChannelReader(ctx, keys, initial, options).read();
}
