/**
 * The contact list: one JSON record per peer in `$SYFT_HOME/peers/<email>.json`
 * (folder 0700, files 0600, atomic writes), holding the peer's state and its
 * pinned keys (docs/protocol.md §1). `syft status` counts peers by the `state` field
 * of these files, so the layout is shared with `core/status/report.ts`.
 *
 * Both the CLI and a running `syft sync --watch` change records, so every
 * read-modify-write goes through {@linkcode PeerStore.update}, which holds an
 * exclusive lock on `peers/.lock` (released by the kernel if the process dies).
 * @module
 */
import { posix } from "node:path";
import { Lru } from "../cache/lru.ts";
import { decodeBase64 } from "../encoding/base64.ts";
import { PEER_STATES, type PeerState } from "./state.ts";
import { describeError, SyftError } from "../errors/mod.ts";
import { writeFileAtomic } from "../fs/atomic.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { fingerprint } from "../identity/keys.ts";
import { isIdentity } from "../paths/identity.ts";
import { TRANSPORT_NAME_RE } from "../config/config.ts";
import { isRecord } from "../encoding/record.ts";

// The states and their moves live in state.ts; re-exported for the callers of the record.
export { PEER_STATES, type PeerState } from "./state.ts";

/** A later hello with other keys than the pinned ones: refused until `syft peer trust`. */
export interface KeyChange {
  /** Base64 raw Ed25519 public key. */
  sign_key: string;
  /** Base64 raw X25519 public key. */
  agree_key: string;
  fingerprint: string;
  /** When we first saw it (ms). */
  seen_at: number;
}

/** What we know about one peer. Field names are the on-disk JSON keys. */
export interface PeerRecord {
  /** The peer's identity; also the file name (`<email>.json`). */
  email: string;
  state: PeerState;
  /** Fingerprint of the pinned keys, null until the peer's hello was seen. */
  fingerprint: string | null;
  /** Pinned base64 raw Ed25519 public key. */
  sign_key: string | null;
  /** Pinned base64 raw X25519 public key. */
  agree_key: string | null;
  pinned_at: number | null;
  /** When we asked (state `requested`) or learnt of their request (`pending`). */
  requested_at: number | null;
  accepted_at: number | null;
  /** Last time a discovery saw the peer's channel with the pinned keys. */
  last_seen: number | null;
  /** Why we rejected the peer (ours, shown to them with `peer.reject`). */
  reason?: string | null;
  /** The protocol the peer's hello announced (absent: not seen yet). */
  protocol?: number;
  key_change?: KeyChange | null;
  /** Whether we created our channel to the peer (with our hello). */
  channel_open?: boolean;
  /** False until the sync engine has published `b-1` with `peer.accept`. */
  accept_sent?: boolean;
  /** False until the sync engine has sent `peer.reject`. */
  reject_sent?: boolean;
  /** False until the sync engine has sent `peer.remove`. */
  remove_sent?: boolean;
  /**
   * The named transport (config `transports:`) the peer's channels go
   * through: set by `peer add --via`, or by discovery to the transport its
   * request arrived on. Absent: the default transport.
   */
  via?: string;
  /**
   * The highest seq of the peer's channel to us whose `peer.*` controls we
   * acted on (a checkpoint we restored from counts as its seq). It lives here,
   * not in `state/`, because it must outlive a lost `state/`: a reader that
   * reads the channel from `b-1` again would otherwise act again on a
   * `peer.remove` both sides moved past (seed 90003). Cleared when the
   * peer's keys are trusted anew: another installation starts its own channel.
   */
  controls_read?: number;
  /**
   * The highest seq of the peer's channel to us whose proposals we judged
   * (applied or refused) to the end. Kept here for the reason
   * `controls_read` is: a round that applied a proposal and died before its
   * ack went out, followed by a lost `state/`, judged the proposal again
   * over our own later edit (simulation seed 10007229). Cleared with it.
   */
  proposals_read?: number;
  /**
   * True while the record is `removed` by the peer's `peer.remove`, read when
   * we held it accepted or requested: we never withdrew, so its later
   * `peer.accept` (it added and approved us again, perhaps before we read the
   * remove) makes it accepted again. Our own add, reject or remove clears it.
   */
  removed_by_peer?: boolean;
}

/** The pinned keys of a peer, raw. */
export interface PinnedKeys {
  signKey: Uint8Array;
  agreeKey: Uint8Array;
}

/** What {@linkcode PeerStore.list} found: valid records, and one line per unusable file. */
export interface PeerListing {
  records: PeerRecord[];
  problems: string[];
}

/** Largest record file we read; a real one is well under 2 KiB. */
export const MAX_RECORD_BYTES = 64 * 1024;

/** Longest rejection reason kept. */
export const MAX_REASON_LENGTH = 1000;

const FINGERPRINT_RE = /^[0-9a-f]{4}( [0-9a-f]{4}){7}$/;

const RECORD_KEYS = [
  "email",
  "state",
  "fingerprint",
  "sign_key",
  "agree_key",
  "pinned_at",
  "requested_at",
  "accepted_at",
  "last_seen",
  "reason",
  "protocol",
  "key_change",
  "channel_open",
  "accept_sent",
  "reject_sent",
  "remove_sent",
  "via",
  "controls_read",
  "proposals_read",
  "removed_by_peer",
] as const;

/** The record's true-or-false fields. */
const FLAG_KEYS = [
  "channel_open",
  "accept_sent",
  "reject_sent",
  "remove_sent",
  "removed_by_peer",
] as const;

const KEY_CHANGE_KEYS = ["sign_key", "agree_key", "fingerprint", "seen_at"] as const;

/**
 * A fingerprint as people type it (any case; spaces, colons or nothing
 * between groups) in the canonical form `xxxx xxxx … xxxx`.
 *
 * @example
 * ```ts
 * parseFingerprint("3F2A9C01...") // "3f2a 9c01 ..."
 * ```
 * @throws {SyftError} `E_INPUT` when it is not 32 hex digits
 */
export function parseFingerprint(raw: string): string {
  const hex = raw.trim().toLowerCase().replace(/[\s:]+/g, "");
  if (!/^[0-9a-f]{32}$/.test(hex)) {
    throw new SyftError("E_INPUT", `fingerprint ${JSON.stringify(raw)} is not 32 hex digits`, {
      hint: "copy it as `syft status` or `syft peer list` prints it, e.g. '3f2a 9c01 … 77de'",
    });
  }
  return hex.match(/.{4}/g)!.join(" ");
}

function isTime(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function isKey(v: unknown): v is string {
  if (typeof v !== "string") return false;
  try {
    return decodeBase64(v).length === 32;
  } catch {
    return false;
  }
}

/**
 * Parse the text of a peer record. `expectedEmail` is the email its file name
 * stands for: a record under another name is refused, so a copied file cannot
 * pin one peer's keys for another.
 *
 * @throws {Error} a one-line reason (callers wrap it with the file name)
 */
export async function parsePeerRecord(text: string, expectedEmail: string): Promise<PeerRecord> {
  if (text.length > MAX_RECORD_BYTES) throw new Error(`larger than ${MAX_RECORD_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error("not JSON");
  }
  if (!isRecord(v)) throw new Error("not a JSON object");
  const unknown = Object.keys(v).filter((k) => !(RECORD_KEYS as readonly string[]).includes(k));
  if (unknown.length) throw new Error(`unknown field ${JSON.stringify(unknown[0])}`);

  const fail = (field: string, problem: string): never => {
    throw new Error(`"${field}" ${problem}`);
  };
  if (typeof v.email !== "string" || !isIdentity(v.email)) fail("email", "is not an identity");
  if (v.email !== expectedEmail) fail("email", `is ${JSON.stringify(v.email)}, not the file's`);
  if (typeof v.state !== "string" || !(PEER_STATES as readonly string[]).includes(v.state)) {
    fail("state", `must be one of ${PEER_STATES.join(", ")}`);
  }
  if (
    v.fingerprint !== null &&
    (typeof v.fingerprint !== "string" || !FINGERPRINT_RE.test(v.fingerprint))
  ) {
    fail("fingerprint", "must be null or 8 groups of 4 hex digits");
  }
  for (const key of ["sign_key", "agree_key"] as const) {
    if (v[key] !== null && !isKey(v[key])) fail(key, "must be null or 32 bytes of base64");
  }
  for (const key of ["pinned_at", "requested_at", "accepted_at", "last_seen"] as const) {
    if (v[key] !== null && !isTime(v[key])) fail(key, "must be null or milliseconds");
  }
  if (
    v.reason !== undefined && v.reason !== null &&
    (typeof v.reason !== "string" || v.reason.length > MAX_REASON_LENGTH)
  ) {
    fail("reason", `must be null or a string of at most ${MAX_REASON_LENGTH} characters`);
  }
  if (
    v.protocol !== undefined &&
    (typeof v.protocol !== "number" || !Number.isSafeInteger(v.protocol) || v.protocol < 1)
  ) {
    fail("protocol", "must be a whole number of at least 1");
  }
  for (const key of FLAG_KEYS) {
    if (v[key] !== undefined && typeof v[key] !== "boolean") fail(key, "must be true or false");
  }

  if (v.via !== undefined && (typeof v.via !== "string" || !TRANSPORT_NAME_RE.test(v.via))) {
    fail("via", "must be a transport name");
  }
  for (const key of ["controls_read", "proposals_read"] as const) {
    const n = v[key];
    if (n !== undefined && (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0)) {
      fail(key, "must be a whole number of at least 0");
    }
  }

  const pinned = v.sign_key !== null || v.agree_key !== null || v.fingerprint !== null;
  if (pinned && (v.sign_key === null || v.agree_key === null || v.fingerprint === null)) {
    throw new Error(`"sign_key", "agree_key" and "fingerprint" must be all set or all null`);
  }
  if (!pinned && (v.state === "pending" || v.state === "accepted")) {
    throw new Error(`a ${v.state} peer must have pinned keys`);
  }

  let keyChange: KeyChange | null | undefined;
  if (v.key_change !== undefined && v.key_change !== null) {
    const k = v.key_change;
    if (!isRecord(k)) fail("key_change", "must be null or an object");
    const kc = k as Record<string, unknown>;
    const extra = Object.keys(kc).filter((x) =>
      !(KEY_CHANGE_KEYS as readonly string[]).includes(x)
    );
    if (extra.length) fail("key_change", `has unknown field ${JSON.stringify(extra[0])}`);
    if (!isKey(kc.sign_key) || !isKey(kc.agree_key)) fail("key_change", "needs two 32-byte keys");
    if (typeof kc.fingerprint !== "string" || !FINGERPRINT_RE.test(kc.fingerprint)) {
      fail("key_change", "needs a fingerprint");
    }
    if (!isTime(kc.seen_at)) fail("key_change", "needs seen_at in milliseconds");
    keyChange = {
      sign_key: kc.sign_key as string,
      agree_key: kc.agree_key as string,
      fingerprint: kc.fingerprint as string,
      seen_at: kc.seen_at as number,
    };
    await checkFingerprint(keyChange, "key_change.fingerprint");
  } else if (v.key_change === null) keyChange = null;

  const record: PeerRecord = {
    email: v.email as string,
    state: v.state as PeerState,
    fingerprint: v.fingerprint as string | null,
    sign_key: v.sign_key as string | null,
    agree_key: v.agree_key as string | null,
    pinned_at: v.pinned_at as number | null,
    requested_at: v.requested_at as number | null,
    accepted_at: v.accepted_at as number | null,
    last_seen: v.last_seen as number | null,
  };
  if (v.reason !== undefined) record.reason = v.reason as string | null;
  if (v.protocol !== undefined) record.protocol = v.protocol as number;
  if (keyChange !== undefined) record.key_change = keyChange;
  for (const key of FLAG_KEYS) {
    if (v[key] !== undefined) record[key] = v[key] as boolean;
  }
  if (v.via !== undefined) record.via = v.via as string;
  if (v.controls_read !== undefined) record.controls_read = v.controls_read as number;
  if (v.proposals_read !== undefined) record.proposals_read = v.proposals_read as number;
  if (pinned) {
    await checkFingerprint(
      {
        sign_key: record.sign_key!,
        agree_key: record.agree_key!,
        fingerprint: record.fingerprint!,
      },
      "fingerprint",
    );
  }
  return record;
}

/**
 * Key and fingerprint triples found to match: a round reads every peer record
 * several times, and recomputing each SHA-256 was a sixth of an in-memory
 * round's time. The check is a pure function of the three strings.
 */
const matching = new Set<string>();
const MAX_MATCHING = 4096;

/** A hand-edited key under an old fingerprint would defeat the fingerprint check: refuse it. */
async function checkFingerprint(
  k: { sign_key: string; agree_key: string; fingerprint: string },
  field: string,
): Promise<void> {
  const triple = `${k.sign_key}|${k.agree_key}|${k.fingerprint}`;
  if (matching.has(triple)) return;
  const actual = await fingerprint({
    signKey: decodeBase64(k.sign_key),
    agreeKey: decodeBase64(k.agree_key),
  });
  if (actual !== k.fingerprint) throw new Error(`"${field}" does not match the keys`);
  if (matching.size >= MAX_MATCHING) matching.clear();
  matching.add(triple);
}

/** The text of a record file: fixed key order, absent optional fields left out. */
export function serializePeerRecord(record: PeerRecord): string {
  const out: Record<string, unknown> = {};
  for (const key of RECORD_KEYS) {
    const value = record[key];
    if (value !== undefined) out[key] = value;
  }
  return JSON.stringify(out, null, 2) + "\n";
}

/** A fresh record for a peer we know nothing about yet. */
export function emptyRecord(email: string, state: PeerState): PeerRecord {
  return {
    email,
    state,
    fingerprint: null,
    sign_key: null,
    agree_key: null,
    pinned_at: null,
    requested_at: null,
    accepted_at: null,
    last_seen: null,
  };
}

/**
 * Records already parsed, by email and the file's whole text: a round reads
 * every record several times, and parsing and checking each again was a few
 * per cent of an in-memory round. Keyed by content (the file is still read
 * each time), so an edit by hand or by another process is never missed; a
 * record that does not parse is never kept.
 */
const parsedRecords = new Lru<string, PeerRecord>(512);

async function parsedRecord(text: string, email: string): Promise<PeerRecord> {
  const key = `${email}\0${text}`;
  let record = parsedRecords.get(key);
  if (record === undefined) {
    record = await parsePeerRecord(text, email);
    parsedRecords.set(key, record);
  }
  // Callers may change what they get: each gets its own copy (the one nested object too).
  const copy = { ...record };
  if (record.key_change) copy.key_change = { ...record.key_change };
  return copy;
}

/**
 * Serialises updates within this process, per peers folder (of one file
 * system); the file lock covers other processes. Stores of other folders
 * (the datasites of one test world) never wait for each other.
 */
const inProcess = new WeakMap<LocalFs, Map<string, Promise<unknown>>>();

/** The peer records under one `$SYFT_HOME/peers/` folder. */
export class PeerStore {
  /** The folder (`homeLayout(home).peers`). */
  readonly dir: string;
  /** Where the records live; the disk unless a test runs in memory. */
  readonly fs: LocalFs;

  constructor(dir: string, fs: LocalFs = denoFs) {
    this.dir = dir;
    this.fs = fs;
  }

  /** The record file of `email`. */
  fileOf(email: string): string {
    if (!isIdentity(email)) {
      throw new SyftError(
        "E_INTERNAL",
        `peer store got an invalid identity ${JSON.stringify(email)}`,
      );
    }
    return posix.join(this.dir, `${email}.json`);
  }

  /**
   * Every record, sorted by email. A file that does not parse is reported in
   * `problems` (naming the file) and left as it is, never a crash.
   */
  async list(): Promise<PeerListing> {
    const records: PeerRecord[] = [];
    const problems: string[] = [];
    const names: string[] = [];
    try {
      for await (const entry of this.fs.readDir(this.dir)) {
        // Dotfiles are the lock and temp files of atomic writes.
        if (entry.name.startsWith(".") || !entry.name.endsWith(".json")) continue;
        names.push(entry.name);
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { records, problems };
      throw new SyftError(
        "E_INPUT",
        `cannot read the peers folder ${this.dir}: ${describeError(err)}`,
        {
          hint: `make it readable by this user (chmod 700 ${this.dir})`,
        },
      );
    }
    names.sort();
    for (const name of names) {
      const email = name.slice(0, -".json".length);
      const file = posix.join(this.dir, name);
      if (!isIdentity(email)) {
        problems.push(`peer record ${file} is not named <email>.json; it is ignored`);
        continue;
      }
      try {
        const record = await this.#read(email);
        if (record) records.push(record);
      } catch (err) {
        problems.push(describeError(err));
      }
    }
    return { records, problems };
  }

  /**
   * The record of `email`, or null when there is none.
   * @throws {SyftError} `E_INPUT` naming the file when it is corrupt
   */
  async get(email: string): Promise<PeerRecord | null> {
    return await this.#read(email);
  }

  /** Write a record (atomically, 0600), creating the folder (0700) if needed. */
  async put(record: PeerRecord): Promise<void> {
    const file = this.fileOf(record.email);
    await this.#ensureDir();
    await writeFileAtomic(file, serializePeerRecord(record), { mode: 0o600, fs: this.fs });
  }

  /**
   * Read-modify-write one record under the store's lock, so a CLI command and a
   * sync round never lose each other's changes. `change` gets the current
   * record (null if none) and returns the record to write, or null to write
   * nothing; `update` returns what is stored afterwards.
   * @throws {SyftError} `E_INPUT` when the current record is corrupt
   */
  async update(
    email: string,
    change: (current: PeerRecord | null) => PeerRecord | null | Promise<PeerRecord | null>,
  ): Promise<PeerRecord | null> {
    return await this.#locked(async () => {
      const current = await this.#read(email);
      const next = await change(current === null ? null : structuredClone(current));
      if (next === null) return current;
      if (next.email !== email) {
        throw new SyftError("E_INTERNAL", `peer update of ${email} returned ${next.email}`);
      }
      await this.put(next);
      return next;
    });
  }

  /**
   * The pinned keys of `email`, whatever its state, or null when none are pinned
   * (or there is no record). Callers decide what a state allows.
   * @throws {SyftError} `E_INPUT` when the record is corrupt
   */
  async pinnedKeys(email: string): Promise<PinnedKeys | null> {
    const record = await this.get(email);
    return record ? pinnedKeysOf(record) : null;
  }

  async #read(email: string): Promise<PeerRecord | null> {
    const file = this.fileOf(email);
    let text: string;
    try {
      const info = await this.fs.lstat(file);
      if (!info.isFile) throw new Error("not a regular file");
      if (info.size > MAX_RECORD_BYTES) throw new Error(`larger than ${MAX_RECORD_BYTES} bytes`);
      text = await this.fs.readTextFile(file);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw corrupt(file, describeError(err));
    }
    try {
      return await parsedRecord(text, email);
    } catch (err) {
      throw corrupt(file, describeError(err));
    }
  }

  async #ensureDir(): Promise<void> {
    try {
      await this.fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
  }

  async #locked<T>(body: () => Promise<T>): Promise<T> {
    let queues = inProcess.get(this.fs);
    if (!queues) inProcess.set(this.fs, queues = new Map());
    const run = (queues.get(this.dir) ?? Promise.resolve()).then(async () => {
      await this.#ensureDir();
      const lock = await this.fs.open(posix.join(this.dir, ".lock"), {
        read: true,
        write: true,
        create: true,
        mode: 0o600,
      });
      try {
        await lock.lock(true);
        return await body();
      } finally {
        lock.close(); // closing releases the lock
      }
    });
    // The next update waits for this one, whether it succeeded or not.
    const settled = run.catch(() => {});
    queues.set(this.dir, settled);
    // The last in line clears the queue, so a folder used once holds nothing.
    settled.then(() => {
      if (queues.get(this.dir) === settled) queues.delete(this.dir);
    });
    return await run;
  }
}

function corrupt(file: string, why: string): SyftError {
  return new SyftError("E_INPUT", `peer record ${file} is unusable: ${why}`, {
    hint: "fix or delete that file (a pending request is found again at the next `syft peer list`)",
  });
}

/** The raw pinned keys of a record, or null. */
export function pinnedKeysOf(record: PeerRecord): PinnedKeys | null {
  if (record.sign_key === null || record.agree_key === null) return null;
  return { signKey: decodeBase64(record.sign_key), agreeKey: decodeBase64(record.agree_key) };
}
