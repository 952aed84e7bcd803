/**
 * What a sync round works with: our identity and keys, the datasite root, the
 * state folder, the transport, the file system, a clock, and the peers' key
 * material. Passed in so tests can drive whole rounds in process, on disk or in
 * memory (core/testing/).
 * @module
 */
import { posix } from "node:path";
import { blobKey, importPeerKeys, sharedSecret } from "../crypto/agree.ts";
import { decodeBase64 } from "../encoding/base64.ts";
import { STAGING_FOLDER } from "../datasite/names.ts";
import type { ContentCache } from "./content_cache.ts";
import type { WrittenFiles } from "./written.ts";
import type { IdentityKeys } from "../identity/keys.ts";
import type { PoolStore, Transport } from "../transport/contract.ts";
import type { PoolRef } from "../events/types.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import type { Clock } from "../time/clock.ts";
import type { CheckpointThresholds } from "../checkpoints/rolling.ts";
import type { StateLayout } from "./state.ts";
import type { TransportRoutes } from "./routed_transport.ts";

/** The round's environment. */
export interface SyncContext {
  me: string;
  /** The datasite root: holds `<me>/` and a mirror folder per peer. */
  root: string;
  layout: StateLayout;
  keys: IdentityKeys;
  transport: Transport;
  /**
   * Set when `transport` routes peers over several transports: one failing
   * then stops only its peers' channels (reported per peer), not the round.
   */
  routes?: TransportRoutes | undefined;
  /** Every file the engine touches: the datasite, the mirrors, state/ (the same as `layout.fs`). */
  fs: LocalFs;
  clock: Clock;
  /** Warnings for the user (skipped symlinks, quarantined objects...). */
  warn(message: string): void;
  /** Refresh the peer list from the transport (hello.json discovery). */
  discover(): Promise<void>;
  allowMassDelete: boolean;
  /** Per-peer inbox quota in bytes (docs/protocol.md §7; default 1 GiB). */
  quotaBytes: number;
  /** Bytes the quarantine folder keeps (config `sync.quarantine_mib`); default 64 MiB. */
  quarantineBytes?: number | undefined;
  /** Proposals judged per peer and round (config `sync.max_proposals`); default 10,000. */
  maxProposals?: number | undefined;
  /** When checkpoints are written; default 50 events, a full one after 10 incrementals. */
  thresholds?: CheckpointThresholds | undefined;
  /** How long a reader waits on a gap before it asks for a resync; default 60 s. */
  gapTimeoutMs?: number | undefined;
  /** Progress of a restore from a checkpoint (a bar on a terminal). */
  progress?: ((label: string, done: number, total: number) => void) | undefined;
  /** Contents this round read and hashed already (set by the round for its own run). */
  contents?: ContentCache | undefined;
  /** Our pool (protocol v2), set by the round for its own run; absent: per-channel blobs only. */
  pool?: OwnPool | undefined;
  /** Mirror files this round's journal wrote (set by the round for its own run). */
  written?: WrittenFiles | undefined;
}

/** A content shared through our pool: the id a channel records and what its event carries. */
export interface Pooled {
  id: string;
  ref: PoolRef;
}

/** A content to share: its file (re-hashed as it is sealed), hash and size. */
export interface PoolSource {
  source: string;
  hash: string;
  size: number;
}

/** What a round's writers and readers ask of our pool (`core/sync/pool.ts` keeps it). */
export interface OwnPool {
  /** The transport's pool, or null when it has none. */
  store(): Promise<PoolStore | null>;
  /** Share content `blob` with `peer` (see `PoolWriter.share`); null without a pool. */
  share(peer: string, blob: PoolSource, held: ReadonlySet<string>): Promise<Pooled | null>;
  /** The pooled id holding content `hash`, if any. */
  idOf(hash: string): Promise<string | undefined>;
  /** A channel is about to drop these ids (pooled ones among them mark the pool dirty). */
  released(ids: readonly string[]): Promise<void>;
}

/** A peer's keys, ready to use. */
export interface PeerKeys {
  peer: string;
  signPublic: CryptoKey;
  agreePublic: CryptoKey;
  /** HMAC key naming blobs in our channel to the peer. */
  blobKeyOut: CryptoKey;
  /** HMAC key naming blobs in the peer's channel to us. */
  blobKeyIn: CryptoKey;
  /**
   * The protocol the peer's hello announced (absent: unknown, taken as 1).
   * Only a peer of protocol 2 or later is sent pool references.
   */
  protocol?: number | undefined;
}

/**
 * Peers' key material already derived, per own identity: an X25519 agreement
 * and two HKDFs per peer in every round were a visible share of an idle
 * round (and of `sync --watch`, which runs many). Keyed by the peer's pinned
 * keys, so a key change derives afresh.
 */
const derived = new WeakMap<object, Map<string, Promise<PeerKeys>>>();
const MAX_DERIVED = 1024;

/** Build a peer's key material from its pinned raw keys (base64). */
export function peerKeys(
  ctx: Pick<SyncContext, "me" | "keys">,
  peer: string,
  signKeyB64: string,
  agreeKeyB64: string,
): Promise<PeerKeys> {
  let mine = derived.get(ctx.keys);
  if (!mine) derived.set(ctx.keys, mine = new Map());
  const key = `${ctx.me}\0${peer}\0${signKeyB64}\0${agreeKeyB64}`;
  let keys = mine.get(key);
  if (!keys) {
    keys = derivePeerKeys(ctx, peer, signKeyB64, agreeKeyB64);
    // A failure is not kept: the next round tries again.
    keys.catch(() => mine!.delete(key));
    if (mine.size >= MAX_DERIVED) mine.clear();
    mine.set(key, keys);
  }
  return keys;
}

async function derivePeerKeys(
  ctx: Pick<SyncContext, "me" | "keys">,
  peer: string,
  signKeyB64: string,
  agreeKeyB64: string,
): Promise<PeerKeys> {
  const imported = await importPeerKeys(decodeBase64(signKeyB64), decodeBase64(agreeKeyB64));
  const secret = await sharedSecret(ctx.keys.agree.privateKey, imported.agree);
  return {
    peer,
    signPublic: imported.sign,
    agreePublic: imported.agree,
    blobKeyOut: await blobKey(secret, ctx.me, peer),
    blobKeyIn: await blobKey(secret, peer, ctx.me),
  };
}

/** The own datasite folder. */
export function ownDatasite(ctx: Pick<SyncContext, "root" | "me">): string {
  return posix.join(ctx.root, ctx.me);
}

/** Where incoming contents are staged: inside the root so renames stay on one file system. */
export function stagingRoot(ctx: Pick<SyncContext, "root">): string {
  return posix.join(ctx.root, STAGING_FOLDER);
}
