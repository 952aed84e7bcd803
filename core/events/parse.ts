/**
 * The one parser for `batch.json` and `checkpoint.json` (docs/protocol.md §4): bytes
 * that arrived from a peer become a {@linkcode BatchJson} or
 * {@linkcode CheckpointJson} here, or are refused whole with `E_BAD_MESSAGE`
 * (the caller quarantines the object). Code after a parse trusts the types: every
 * path passed the strict inbound parser, every datasite is the sender's or the
 * recipient's, every hash is 64 lowercase hex digits, every number a safe integer.
 *
 * Unknown keys are ignored and unknown control types skipped, so a newer peer
 * can add fields without being quarantined by an older one; a known field with
 * the wrong type is always a refusal.
 *
 * {@linkcode serializeJson} is the writer's side: the same shapes, keys in the
 * order of `types.ts`, so equal values give equal bytes.
 * @module
 */
import { describeError, SyftError } from "../errors/mod.ts";
import { checkInboundPath, isIdentity } from "../paths/mod.ts";
import { describe } from "./_text.ts";
import { quote } from "../encoding/quote.ts";
import {
  BATCH_LIMITS,
  type BatchJson,
  type CheckpointJson,
  type Control,
  type FileChangeEvent,
  INLINE_LIMIT,
  MAX_REJECT_DETAIL,
  POOL_NAME_RE,
  type PoolRef,
  type RejectReason,
} from "./types.ts";
import { isRecord } from "../encoding/record.ts";
import { parseBase64 } from "../encoding/base64.ts";

/** Largest `batch.json` or `checkpoint.json` a reader accepts, in bytes. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** Longest event id; ids are UUIDs (36 characters), this leaves room and bounds logs. */
export const MAX_EVENT_ID_LENGTH = 64;

/** Most events a reader accepts in one batch: twice the writer's limit (§4.1). */
export const MAX_BATCH_EVENTS = 2 * BATCH_LIMITS.events;

/** Who sent an object and to whom: where it was found, never what it claims. */
export interface ParseContext {
  /** The channel's sender (its owner); the only datasite it may publish. */
  readonly sender: string;
  /** The channel's recipient; the only datasite it may propose changes to. */
  readonly recipient: string;
}

/** {@linkcode ParseContext} for a checkpoint, which also says which kind it is. */
export interface CheckpointParseContext extends ParseContext {
  /**
   * `"cf"` (the default): a full checkpoint, one live file per event, so deletions
   * are refused. `"ci"`: an incremental one, the latest event per path since the
   * previous checkpoint, which may be a deletion.
   */
  readonly kind?: "ci" | "cf" | undefined;
}

/**
 * Parse the bytes of a `batch.json`.
 *
 * @example
 * ```ts
 * declare const bytes: Uint8Array; // batch.json from an opened batch envelope
 * const batch = parseBatchJson(bytes, { sender: "alice@example.org", recipient: "bob@example.org" });
 * batch.events; // FileChangeEvent[], each checked by parseEvent()
 * ```
 * @throws {SyftError} `E_BAD_MESSAGE` naming the first part that is malformed.
 */
export function parseBatchJson(bytes: Uint8Array, ctx: ParseContext): BatchJson {
  const what = "batch.json";
  const obj = asObject(decodeJson(bytes, what), what);
  const seq = integer(obj, "seq", what, 1);
  const sender = senderOf(obj, what, ctx);
  const created_at = integer(obj, "created_at", what, 0);

  const rawEvents = array(obj, "events", what);
  if (rawEvents.length > MAX_BATCH_EVENTS) {
    throw bad(`${what}.events has ${rawEvents.length} events, more than ${MAX_BATCH_EVENTS}`);
  }
  const events = rawEvents.map((raw, i) => parseEvent(raw, ctx, `${what}.events[${i}]`));

  const rawAcks = asObject(field(obj, "acks", what), `${what}.acks`);
  const acks: Record<string, number> = {};
  for (const key of Object.keys(rawAcks)) {
    // Checked before it becomes a key of ours: "__proto__" and friends are not
    // identities, so they never reach the assignment below.
    if (!isIdentity(key)) throw bad(`${what}.acks key ${quote(key)} is not a valid identity`);
    acks[key] = checkInteger(rawAcks[key], `${what}.acks[${quote(key)}]`, 0);
  }

  const control: Control[] = [];
  array(obj, "control", what).forEach((raw, i) => {
    const record = parseControl(raw, `${what}.control[${i}]`);
    if (record !== null) control.push(record);
  });

  return { seq, sender, created_at, events, acks, control };
}

/**
 * Parse the bytes of a `checkpoint.json` (of a `ci` or `cf`).
 *
 * Every event must be the sender's own (a checkpoint never carries proposals)
 * and name a different path; in a `cf` none may be a deletion.
 *
 * @example
 * ```ts
 * declare const bytes: Uint8Array; // checkpoint.json from an opened `cf` envelope
 * const cp = parseCheckpointJson(bytes, {
 *   sender: "alice@example.org",
 *   recipient: "bob@example.org",
 *   kind: "cf",
 * });
 * ```
 * @throws {SyftError} `E_BAD_MESSAGE` naming the first part that is malformed.
 */
export function parseCheckpointJson(
  bytes: Uint8Array,
  ctx: CheckpointParseContext,
): CheckpointJson {
  const what = "checkpoint.json";
  const kind = ctx.kind ?? "cf";
  const obj = asObject(decodeJson(bytes, what), what);
  // cf-0000000000000000 is a newly accepted peer's projection, before any batch.
  const seq = integer(obj, "seq", what, 0);
  const sender = senderOf(obj, what, ctx);
  const created_at = integer(obj, "created_at", what, 0);

  const rawBase = field(obj, "base", what);
  let base: number | null = null;
  if (rawBase !== null) {
    base = integer(obj, "base", what, 0);
    if (base > seq) throw bad(`${what}.base ${base} is after the checkpoint's own seq ${seq}`);
  }

  const seen = new Set<string>();
  const events = array(obj, "events", what).map((raw, i) => {
    const where = `${what}.events[${i}]`;
    const event = parseEvent(raw, ctx, where);
    if (event.datasite !== ctx.sender) {
      throw bad(
        `${where}.datasite ${quote(event.datasite)} is not the sender ${
          quote(ctx.sender)
        }; a checkpoint lists only the sender's own files`,
      );
    }
    if (event.deleted && kind === "cf") {
      throw bad(`${where} is a deletion; a full checkpoint lists only existing files`);
    }
    if (seen.has(event.path)) {
      throw bad(`${where}.path ${quote(event.path)} appears twice in the checkpoint`);
    }
    seen.add(event.path);
    return event;
  });

  return { seq, sender, created_at, base, events };
}

/**
 * Parse one {@linkcode FileChangeEvent} from an already-decoded JSON value.
 *
 * `where` names the event in messages (e.g. `batch.json.events[3]`).
 *
 * @example
 * ```ts
 * declare const text: string; // one element of a batch's `events`
 * parseEvent(JSON.parse(text), { sender: "alice@example.org", recipient: "bob@example.org" }); // FileChangeEvent
 * ```
 * @throws {SyftError} `E_BAD_MESSAGE` naming the field that is malformed; a
 * datasite other than the sender's or the recipient's is one of them.
 */
export function parseEvent(raw: unknown, ctx: ParseContext, where = "event"): FileChangeEvent {
  const obj = asObject(raw, where);
  const id = eventId(obj, "id", where);

  const datasite = string(obj, "datasite", where);
  if (datasite !== ctx.sender && datasite !== ctx.recipient) {
    throw bad(
      `${where}.datasite ${quote(datasite)} is neither the sender ${
        quote(ctx.sender)
      } nor the recipient ${quote(ctx.recipient)}`,
    );
  }

  const rawPath = string(obj, "path", where);
  const check = checkInboundPath(rawPath);
  if (!check.ok) {
    throw bad(`${where}.path ${quote(rawPath)} is not a valid datasite path: ${check.reason}`);
  }

  const old_hash = hashOrNull(obj, "old_hash", where);
  const new_hash = hashOrNull(obj, "new_hash", where);
  const size = integer(obj, "size", where, 0);
  const deleted = boolean(obj, "deleted", where);
  const mode = oneOf(obj, "mode", where, ["file", "exec"] as const);
  const submitted_at = integer(obj, "submitted_at", where, 0);
  const ts = integer(obj, "ts", where, 0);
  const content = oneOf(obj, "content", where, ["inline", "blob", "pool", null] as const);
  const pool = content === "pool" ? poolRef(obj, where) : undefined;
  if (content !== "pool" && obj.pool !== undefined) {
    throw bad(`${where}.pool is set but its content is ${quote(String(content))}`);
  }

  // The consistency rules keep "is it deleted?" a single question downstream:
  // a deletion carries nothing, a live file carries a hash and says where its
  // bytes are.
  if (deleted) {
    if (new_hash !== null) throw bad(`${where} is a deletion but has a new_hash`);
    if (content !== null) throw bad(`${where} is a deletion but has content ${quote(content)}`);
  } else {
    if (new_hash === null) throw bad(`${where} is not a deletion but its new_hash is null`);
    if (content === null) throw bad(`${where} is not a deletion but its content is null`);
    // An inline content larger than this is refused by the body reader anyway;
    // refusing it here says why in terms of the event.
    if (content === "inline" && size > INLINE_LIMIT) {
      throw bad(
        `${where}.size ${size} is over the inline limit of ${INLINE_LIMIT} bytes but its content is "inline"`,
      );
    }
  }

  return {
    id,
    datasite,
    path: check.path,
    old_hash,
    new_hash,
    size,
    deleted,
    mode,
    submitted_at,
    ts,
    content,
    ...(pool ? { pool } : {}),
  };
}

/** The `pool` of a pooled content: its pool object's name and a 32-byte key. */
function poolRef(obj: JsonObject, where: string): PoolRef {
  const raw = asObject(field(obj, "pool", where), `${where}.pool`);
  const name = string(raw, "name", `${where}.pool`);
  if (!POOL_NAME_RE.test(name)) throw bad(`${where}.pool.name ${quote(name)} is not a pool name`);
  const key = string(raw, "key", `${where}.pool`);
  const bytes = key.length === 44 ? parseBase64(key) : null;
  if (bytes === null || bytes.length !== 32) {
    throw bad(`${where}.pool.key is not 32 bytes of standard base64`);
  }
  return { name, key };
}

/**
 * Serialize a `batch.json` or `checkpoint.json` to UTF-8 JSON bytes.
 *
 * Keys come out in the order of `types.ts` whatever order the value was built
 * in, and `acks` sorted by email, so equal values always give equal bytes.
 * Keys that are not part of the format are left out.
 *
 * @example
 * ```ts
 * const sender = "alice@example.org";
 * const bytes = serializeJson({ seq: 1, sender, created_at: 0, events: [], acks: {}, control: [] });
 * ```
 * @throws {SyftError} `E_INTERNAL` when a number is NaN or infinite, which JSON
 * would silently turn into `null` and every reader would then refuse.
 */
export function serializeJson(value: BatchJson | CheckpointJson): Uint8Array {
  const ordered = "acks" in value ? orderBatch(value) : orderCheckpoint(value);
  const text = JSON.stringify(ordered, (key, v: unknown) => {
    if (typeof v === "number" && !Number.isFinite(v)) {
      throw new SyftError("E_INTERNAL", `cannot serialize ${key || "value"}: it is ${v}`);
    }
    return v;
  });
  return new TextEncoder().encode(text);
}

// ---------------------------------------------------------------------------
// Control records

/** The reasons of `proposal.rejected`. */
const REJECT_REASONS = ["permission", "conflict", "invalid", "quota"] as const satisfies readonly (
  RejectReason
)[];

/** One control record, or null for a type this version does not know (skipped). */
function parseControl(raw: unknown, where: string): Control | null {
  const obj = asObject(raw, where);
  const type = string(obj, "type", where);
  switch (type) {
    case "peer.accept":
      return { type };
    case "peer.reject":
      return { type, reason: string(obj, "reason", where) };
    case "peer.remove":
      return { type };
    case "proposal.rejected": {
      const event_id = eventId(obj, "event_id", where);
      const rawPath = string(obj, "path", where);
      // The watcher renames `<mirror>/<path>` on this record, so it passes the
      // same gate as an event path.
      const check = checkInboundPath(rawPath);
      if (!check.ok) {
        throw bad(`${where}.path ${quote(rawPath)} is not a valid datasite path: ${check.reason}`);
      }
      const reason = oneOf(obj, "reason", where, REJECT_REASONS);
      const current_hash = hashOrNull(obj, "current_hash", where);
      const detail = rejectDetail(obj, where);
      return detail === undefined
        ? { type, event_id, path: check.path, reason, current_hash }
        : { type, event_id, path: check.path, reason, current_hash, detail };
    }
    case "channel.resync":
      return {
        type,
        from_seq: integer(obj, "from_seq", where, 0),
        reason: string(obj, "reason", where),
      };
    default:
      // Forward compatibility: a newer peer's record is not ours to refuse.
      return null;
  }
}

/**
 * The optional `detail` of a `proposal.rejected` (added after the first
 * version: absent from older owners). Peer text: one line, cut to
 * MAX_REJECT_DETAIL characters here, escaped wherever it is printed.
 */
function rejectDetail(obj: JsonObject, where: string): string | undefined {
  if (!Object.hasOwn(obj, "detail")) return undefined;
  const raw = string(obj, "detail", where);
  const line = raw.replace(/[\r\n\t]+/g, " ").trim();
  return line === "" ? undefined : [...line].slice(0, MAX_REJECT_DETAIL).join("");
}

// ---------------------------------------------------------------------------
// Serialization order

function orderBatch(b: BatchJson): BatchJson {
  const acks: Record<string, number> = {};
  for (const key of Object.keys(b.acks).sort()) acks[key] = b.acks[key] ?? 0;
  return {
    seq: b.seq,
    sender: b.sender,
    created_at: b.created_at,
    events: b.events.map(orderEvent),
    acks,
    control: b.control.map(orderControl),
  };
}

function orderCheckpoint(c: CheckpointJson): CheckpointJson {
  return {
    seq: c.seq,
    sender: c.sender,
    created_at: c.created_at,
    base: c.base,
    events: c.events.map(orderEvent),
  };
}

function orderEvent(e: FileChangeEvent): FileChangeEvent {
  return {
    id: e.id,
    datasite: e.datasite,
    path: e.path,
    old_hash: e.old_hash,
    new_hash: e.new_hash,
    size: e.size,
    deleted: e.deleted,
    mode: e.mode,
    submitted_at: e.submitted_at,
    ts: e.ts,
    content: e.content,
    ...(e.pool ? { pool: { name: e.pool.name, key: e.pool.key } } : {}),
  };
}

function orderControl(c: Control): Control {
  switch (c.type) {
    case "peer.accept":
    case "peer.remove":
      return { type: c.type };
    case "peer.reject":
      return { type: c.type, reason: c.reason };
    case "proposal.rejected":
      return {
        type: c.type,
        event_id: c.event_id,
        path: c.path,
        reason: c.reason,
        current_hash: c.current_hash,
        ...(c.detail === undefined ? {} : { detail: c.detail }),
      };
    case "channel.resync":
      return { type: c.type, from_seq: c.from_seq, reason: c.reason };
  }
}

// ---------------------------------------------------------------------------
// Field readers: each returns the typed value or throws E_BAD_MESSAGE naming it.

type JsonObject = Record<string, unknown>;

const HEX64 = /^[0-9a-f]{64}$/;

/** Printable ASCII without spaces: ids land in logs and control records. */
const EVENT_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_EVENT_ID_LENGTH}}$`);

function bad(message: string): SyftError {
  return new SyftError("E_BAD_MESSAGE", message);
}

/** Strict UTF-8 (no BOM, no invalid sequences), then JSON. */
function decodeJson(bytes: Uint8Array, what: string): unknown {
  if (bytes.byteLength > MAX_JSON_BYTES) {
    throw bad(`${what} is ${bytes.byteLength} bytes, more than ${MAX_JSON_BYTES}`);
  }
  let text: string;
  try {
    // ignoreBOM keeps a BOM in the text, where JSON.parse refuses it: the
    // writer never emits one, so it is a sign of a foreign producer.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw bad(`${what} is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8 quotes a piece of the input in its message; keep it printable and short.
    const detail = describeError(err).replace(/[^\x20-\x7e]/g, "?").slice(0, 120);
    throw bad(`${what} is not valid JSON: ${detail}`);
  }
}

function asObject(value: unknown, where: string): JsonObject {
  if (!isRecord(value)) throw bad(`${where} must be an object, got ${describe(value)}`);
  return value;
}

function field(obj: JsonObject, key: string, where: string): unknown {
  // Own properties only: JSON.parse never sets a prototype, but a lookup through
  // one ("constructor", "toString") must not find anything either.
  if (!Object.hasOwn(obj, key)) throw bad(`${where} has no ${key}`);
  return obj[key];
}

function string(obj: JsonObject, key: string, where: string): string {
  const value = field(obj, key, where);
  if (typeof value !== "string") {
    throw bad(`${where}.${key} must be a string, got ${describe(value)}`);
  }
  return value;
}

function array(obj: JsonObject, key: string, where: string): unknown[] {
  const value = field(obj, key, where);
  if (!Array.isArray(value)) throw bad(`${where}.${key} must be an array, got ${describe(value)}`);
  return value;
}

function boolean(obj: JsonObject, key: string, where: string): boolean {
  const value = field(obj, key, where);
  if (typeof value !== "boolean") {
    throw bad(`${where}.${key} must be true or false, got ${describe(value)}`);
  }
  return value;
}

/** The field `key`: a safe integer of at least `min` (0 or 1). */
function integer(obj: JsonObject, key: string, where: string, min: 0 | 1): number {
  return checkInteger(field(obj, key, where), `${where}.${key}`, min);
}

/** `value`, named `label` in messages: a safe integer of at least `min` (0 or 1). */
function checkInteger(value: unknown, label: string, min: 0 | 1): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    const want = min === 1 ? "a positive integer" : "a non-negative integer";
    throw bad(`${label} must be ${want}, got ${describe(value)}`);
  }
  return value === 0 ? 0 : value; // -0 parses as an integer; keep the bytes canonical
}

function hashOrNull(obj: JsonObject, key: string, where: string): string | null {
  const value = field(obj, key, where);
  if (value === null) return null;
  if (typeof value !== "string" || !HEX64.test(value)) {
    throw bad(`${where}.${key} must be 64 lowercase hex digits or null, got ${describe(value)}`);
  }
  return value;
}

function eventId(obj: JsonObject, key: string, where: string): string {
  const value = string(obj, key, where);
  if (!EVENT_ID.test(value)) {
    throw bad(
      `${where}.${key} must be 1 to ${MAX_EVENT_ID_LENGTH} printable ASCII characters, got ${
        describe(value)
      }`,
    );
  }
  return value;
}

function oneOf<const T extends string | null>(
  obj: JsonObject,
  key: string,
  where: string,
  allowed: readonly T[],
): T {
  const value = field(obj, key, where);
  const found = allowed.find((a) => a === value);
  if (found === undefined) {
    const list = allowed.map((a) => (a === null ? "null" : `"${a}"`)).join(", ");
    throw bad(`${where}.${key} must be one of ${list}, got ${describe(value)}`);
  }
  return found;
}

function senderOf(obj: JsonObject, what: string, ctx: ParseContext): string {
  const sender = string(obj, "sender", what);
  if (sender !== ctx.sender) {
    throw bad(
      `${what}.sender ${quote(sender)} is not the channel's sender ${quote(ctx.sender)}`,
    );
  }
  return sender;
}
