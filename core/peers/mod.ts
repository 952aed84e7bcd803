/**
 * Peers (docs/protocol.md §1, §2, §5): the signed `hello.json` that opens a channel,
 * the contact list with pinned keys under `$SYFT_HOME/peers/`, and the
 * request / discover / approve / reject / remove / trust lifecycle.
 *
 * @example
 * ```ts
 * import { homeLayout } from "../config/home.ts";
 * import { generateIdentityKeys } from "../identity/keys.ts";
 * declare const transport: ConstructorParameters<typeof PeerService>[0]["transport"];
 * const keys = await generateIdentityKeys();
 * const store = new PeerStore(homeLayout("/home/alice/.syft").peers);
 * const peers = new PeerService({ transport, store, me: "alice@example.org", keys, now: Date.now });
 * const { newPending, problems } = await peers.discover();
 * ```
 * @module
 */
export {
  createHello,
  type CreateHelloOptions,
  type Hello,
  HELLO_NAME,
  type HelloChannel,
  MAX_HELLO_BYTES,
  parseHello,
} from "./hello.ts";
export {
  emptyRecord,
  type KeyChange,
  parseFingerprint,
  parsePeerRecord,
  PEER_STATES,
  type PeerListing,
  type PeerRecord,
  type PeerState,
  PeerStore,
  type PinnedKeys,
  pinnedKeysOf,
  serializePeerRecord,
} from "./store.ts";
export { canMovePeer, movePeer, PEER_START_STATES } from "./state.ts";
export {
  type ApproveOptions,
  type ApproveResult,
  type DiscoverResult,
  inboxFolder,
  inboxPermissionText,
  PeerService,
  type PeerServiceDeps,
  type RequestResult,
} from "./service.ts";
export { recordProblems } from "./record_problems.ts";
