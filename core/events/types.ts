/**
 * The typed shapes of what travels in a channel (docs/protocol.md §2–§4). Parsers in
 * this folder turn bytes into these types once; code after a parse trusts them.
 * @module
 */

/** Kinds of `.syft` objects. */
export type ObjectKind = "batch" | "blob" | "ci" | "cf";

/** Plaintext chunk size of the envelope body. */
export const ENVELOPE_CHUNK = 1_048_576;

/** Largest header of an envelope. */
export const MAX_HEADER_BYTES = 65_536;

/** Contents up to this size travel inline in a batch; larger ones as blobs. */
export const INLINE_LIMIT = 256 * 1024;

/** A writer keeps each batch within these; a reader refuses twice these. */
export const BATCH_LIMITS = { inflatedBytes: 256 * 1024 * 1024, events: 10_000 } as const;

/** The signed, unencrypted header of every `.syft` object (§3), keys in this order. */
export interface EnvelopeHeader {
  v: 1;
  kind: ObjectKind;
  name: string;
  sender: string;
  recipient: string;
  seq: number;
  created_at: number;
  /** 16 random bytes, base64. */
  salt: string;
  chunk: number;
  /** Plaintext bytes. */
  size: number;
}

/** One file change (§4.2). */
export interface FileChangeEvent {
  id: string;
  /** Whose datasite: the sender's (publication) or the recipient's (proposal). */
  datasite: string;
  /** Datasite-relative, checked by the strict inbound parser. */
  path: string;
  old_hash: string | null;
  new_hash: string | null;
  size: number;
  deleted: boolean;
  mode: "file" | "exec";
  submitted_at: number;
  ts: number;
  content: "inline" | "blob" | "pool" | null;
  /**
   * Protocol v2, with `content: "pool"` only: where the content is in the
   * sender's pool and the content key it is sealed under (docs/protocol.md §4.5).
   */
  pool?: PoolRef | undefined;
}

/** A content stored once in the sender's pool (protocol v2). */
export interface PoolRef {
  /** The object's name in the sender's pool, `p-<32 hex>.syft` (random, reveals nothing). */
  name: string;
  /** The 32-byte content key, base64. */
  key: string;
}

/** Syntax of a pool object's name. */
export const POOL_NAME_RE = /^p-[0-9a-f]{32}\.syft$/;

/** Reasons a proposal is refused (§4.4). */
export type RejectReason = "permission" | "conflict" | "invalid" | "quota";

/** Longest `detail` of a `proposal.rejected` a reader keeps (longer is cut). */
export const MAX_REJECT_DETAIL = 200;

/** Control records (§4.4), tagged by `type`. */
export type Control =
  | { type: "peer.accept" }
  | { type: "peer.reject"; reason: string }
  | { type: "peer.remove" }
  | {
    type: "proposal.rejected";
    event_id: string;
    path: string;
    reason: RejectReason;
    current_hash: string | null;
    /**
     * The owner's words for the proposer (`you may not write public/`): optional,
     * older owners send none; at most {@linkcode MAX_REJECT_DETAIL} characters, one line.
     */
    detail?: string;
  }
  | { type: "channel.resync"; from_seq: number; reason: string };

/** `batch.json` (§4.1). */
export interface BatchJson {
  seq: number;
  sender: string;
  created_at: number;
  events: FileChangeEvent[];
  /** Per peer email: highest seq applied from that peer. */
  acks: Record<string, number>;
  control: Control[];
}

/** `checkpoint.json` of a `ci`/`cf` (§4.1). */
export interface CheckpointJson {
  seq: number;
  sender: string;
  created_at: number;
  base: number | null;
  events: FileChangeEvent[];
}

/** `b-<seq:016>.syft` */
export function batchName(seq: number): string {
  return `b-${String(seq).padStart(16, "0")}.syft`;
}

/** `x-<id>.syft` */
export function blobName(id: string): string {
  return `x-${id}.syft`;
}

/** `ci-<seq:016>.syft` or `cf-<seq:016>.syft` */
export function checkpointName(kind: "ci" | "cf", seq: number): string {
  return `${kind}-${String(seq).padStart(16, "0")}.syft`;
}

/** The kind and seq of a batch or checkpoint name, or null for any other name. */
export function parseSeqName(name: string): { kind: "batch" | "ci" | "cf"; seq: number } | null {
  const m = /^(b|ci|cf)-(\d{16})\.syft$/.exec(name);
  if (!m) return null;
  return { kind: m[1] === "b" ? "batch" : m[1] as "ci" | "cf", seq: Number(m[2]) };
}

/** The seq of a batch name, or null for any other name. */
export function parseBatchName(name: string): number | null {
  const m = /^b-(\d{16})\.syft$/.exec(name);
  return m ? Number(m[1]) : null;
}
