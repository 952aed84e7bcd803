/**
 * The envelope of every `.syft` object (docs/protocol.md §3): a signed plaintext
 * header, then the body in AES-256-GCM chunks.
 *
 * ```
 * "SYFT1\n" ‖ u32be(header length) ‖ header JSON ‖ Ed25519 signature (64)
 *   ‖ chunk 0 ‖ … ‖ chunk n-1          n = floor(size / chunk) + 1
 * ```
 *
 * - The signature covers magic, length and header, so no header byte can change.
 * - The AES key is HKDF-SHA256(X25519 secret, salt = header salt, info = `"syft1
 *   " + kind + " " + sender + " " + recipient + " " + name`): an object copied
 *   under another name, direction or kind decrypts under another key and fails.
 * - A pooled blob (protocol v2) is sealed for no one in particular (recipient
 *   `*`) under a random content key instead: HKDF(content key, salt, the same
 *   info). Its readers get the key inside their own encrypted batches.
 * - Chunk i has nonce 8 zero bytes ‖ u32be(i) and additional data
 *   SHA-256(magic ‖ length ‖ header) ‖ `"more"`/`"last"`: reordering, splicing
 *   chunks of another object, and cutting the body at a chunk boundary all fail.
 *
 * Both directions stream one chunk at a time (at most `chunk` + 16 bytes in
 * flight, plus one source chunk), so a 2 GiB blob is never held in memory.
 * @module
 */
import { concatBytes } from "../encoding/bytes.ts";
import { SyftError } from "../errors/mod.ts";
import { deriveObjectKey, sha256Bytes, sharedSecret } from "../crypto/mod.ts";
import { ENVELOPE_CHUNK, type EnvelopeHeader, MAX_HEADER_BYTES, type ObjectKind } from "./types.ts";
import { Ahead, ByteReader, own, pullStream, u32be } from "./_chunks.ts";
import { encodeBase64, parseBase64 } from "../encoding/base64.ts";

const encoder = new TextEncoder();

/** The 6 bytes every envelope starts with. */
const MAGIC = encoder.encode("SYFT1\n");
const LENGTH_BYTES = 4;
const SIGNATURE_BYTES = 64;
const TAG_BYTES = 16;
const SALT_BYTES = 16;
/** Largest `chunk` a reader accepts: bounds the memory a hostile header can make us allocate. */
const MAX_CHUNK = 16 * 1024 * 1024;
/** The nonce holds the chunk index in 4 bytes. */
const MAX_CHUNKS = 2 ** 32;
const KINDS: readonly ObjectKind[] = ["batch", "blob", "ci", "cf"];
/** Header fields, in the order they are written. */
const FIELDS = [
  "v",
  "kind",
  "name",
  "sender",
  "recipient",
  "seq",
  "created_at",
  "salt",
  "chunk",
  "size",
] as const;
/**
 * Names and emails in a header: printable ASCII without spaces, so the
 * space-joined HKDF info can be read back only one way.
 */
const TOKEN = /^[\x21-\x7e]{1,1024}$/;
const AD_MORE = encoder.encode("more");
const AD_LAST = encoder.encode("last");

/** What to seal: the header fields a writer chooses. */
export interface SealParams {
  kind: ObjectKind;
  /** The object name it will be stored under, e.g. `b-0000000000000002.syft`. */
  name: string;
  sender: string;
  recipient: string;
  /** For a batch/checkpoint its seq; for a blob the batch that first references it. */
  seq: number;
  created_at: number;
  /** Plaintext bytes the body will deliver, exactly. */
  size: number;
  /** Plaintext chunk size; default {@linkcode ENVELOPE_CHUNK}. Small values are for tests. */
  chunk?: number;
  /** For known-answer tests only; default 16 fresh random bytes. */
  salt?: Uint8Array;
}

/** The writer's keys. */
export type SealKeys =
  & {
    /** Our Ed25519 private key. */
    signPrivate: CryptoKey;
  }
  & ({
    /** Our X25519 private key. */
    agreePrivate: CryptoKey;
    /** The recipient's X25519 public key. */
    peerAgreePublic: CryptoKey;
  } | {
    /** A pooled blob's random content key (32 bytes), in place of the X25519 secret. */
    contentKey: Uint8Array;
  });

/** The reader's keys. */
export type OpenKeys =
  & {
    /** The sender's pinned Ed25519 public key. */
    senderSignPublic: CryptoKey;
  }
  & ({
    /** Our X25519 private key. */
    agreePrivate: CryptoKey;
    /** The sender's pinned X25519 public key (with ours, gives the sender's secret). */
    senderAgreePublic: CryptoKey;
  } | {
    /** A pooled blob's content key (32 bytes), from the batch that references it. */
    contentKey: Uint8Array;
  });

/** Where an object was found: the signed header must say the same. */
export interface Expect {
  /** The object's name in the channel. */
  name: string;
  /** The channel's sender. */
  sender: string;
  /** The channel's recipient (us, when reading). */
  recipient: string;
  /**
   * The kind the caller wants. When absent, a standard name (`b-`, `x-`, `ci-`,
   * `cf-`) still fixes the kind.
   */
  kind?: ObjectKind;
}

/** An envelope whose header verified, with its body still to be read. */
export interface OpenedEnvelope {
  header: EnvelopeHeader;
  /** The plaintext; see {@linkcode openEnvelope} for when it may be trusted. */
  body: ReadableStream<Uint8Array>;
}

/** The kind and (for batches and checkpoints) seq that a standard object name implies. */
function nameImplies(name: string): { kind: ObjectKind; seq: number | null } | null {
  if (/^x-[0-9a-f]{64}\.syft$/.test(name)) return { kind: "blob", seq: null };
  const m = /^(b|ci|cf)-(\d{16})\.syft$/.exec(name);
  if (!m) return null;
  const kind: ObjectKind = m[1] === "b" ? "batch" : m[1] === "ci" ? "ci" : "cf";
  return { kind, seq: Number(m[2]) };
}

function chunkCount(size: number, chunk: number): number {
  return Math.floor(size / chunk) + 1;
}

function objectInfo(h: Pick<EnvelopeHeader, "kind" | "sender" | "recipient" | "name">): string {
  return `syft1 ${h.kind} ${h.sender} ${h.recipient} ${h.name}`;
}

function nonce(index: number): Uint8Array<ArrayBuffer> {
  return concatBytes(new Uint8Array(8), u32be(index));
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Seal `body` into an envelope, as a stream produced one chunk at a time while
 * the consumer reads it (nothing is read from `body` before that).
 *
 * `body` may arrive in chunks of any size. If it is shorter or longer than
 * `params.size`, the stream errors with `E_INTERNAL` before the last chunk is
 * emitted, so the output is never a complete valid envelope: write it to a temp
 * name and publish only when the stream ended without error (a file that changed
 * while it was read surfaces this way; retry it next round).
 *
 * @throws {SyftError} `E_INTERNAL` at once when `params` are malformed.
 *
 * @example
 * ```ts
 * import type { IdentityKeys } from "../identity/keys.ts";
 * declare const me: IdentityKeys;
 * declare const peer: { agree: CryptoKey }; // from importPeerKeys()
 * declare const tarStream: ReadableStream<Uint8Array>; // packBody()'s output
 * declare const size: number; // its exact byte count
 * const [sender, recipient] = ["alice@example.org", "bob@example.org"];
 * const sealed = sealEnvelope(
 *   { kind: "batch", name: "b-0000000000000002.syft", sender, recipient, seq: 2, created_at: Date.now(), size },
 *   tarStream,
 *   { signPrivate: me.sign.privateKey, agreePrivate: me.agree.privateKey, peerAgreePublic: peer.agree },
 * );
 * ```
 */
export function sealEnvelope(
  params: SealParams,
  body: ReadableStream<Uint8Array> | Uint8Array,
  keys: SealKeys,
): ReadableStream<Uint8Array> {
  const fail = (why: string, hint?: string) =>
    new SyftError("E_INTERNAL", `cannot seal object ${params.name}: ${why}`, { hint });
  const chunk = params.chunk ?? ENVELOPE_CHUNK;
  const salt = params.salt ?? crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  if (!KINDS.includes(params.kind)) throw fail(`unknown kind "${params.kind}"`);
  for (const field of ["name", "sender", "recipient"] as const) {
    if (!TOKEN.test(params[field])) throw fail(`${field} "${params[field]}" is not a token`);
  }
  for (const field of ["seq", "created_at", "size"] as const) {
    if (!isCount(params[field])) throw fail(`${field} ${params[field]} is not a count`);
  }
  if (!Number.isSafeInteger(chunk) || chunk < 1 || chunk > MAX_CHUNK) {
    throw fail(`chunk size ${chunk} is outside 1..${MAX_CHUNK}`);
  }
  if (salt.length !== SALT_BYTES) throw fail(`salt has ${salt.length} bytes, not 16`);
  const count = chunkCount(params.size, chunk);
  if (count > MAX_CHUNKS) throw fail(`size ${params.size} needs more than 2^32 chunks`);
  const implied = nameImplies(params.name);
  if (implied && implied.kind !== params.kind) throw fail(`kind ${params.kind} under this name`);
  if (implied && implied.seq !== null && implied.seq !== params.seq) {
    throw fail(`seq ${params.seq} under this name`);
  }

  const header: EnvelopeHeader = {
    v: 1,
    kind: params.kind,
    name: params.name,
    sender: params.sender,
    recipient: params.recipient,
    seq: params.seq,
    created_at: params.created_at,
    salt: encodeBase64(salt),
    chunk,
    size: params.size,
  };
  const headerBytes = encoder.encode(JSON.stringify(header));
  if (headerBytes.length > MAX_HEADER_BYTES) {
    throw fail(`header of ${headerBytes.length} bytes exceeds ${MAX_HEADER_BYTES}`);
  }
  const signed = concatBytes(MAGIC, u32be(headerBytes.length), headerBytes);
  const headerHash = sha256Bytes(signed);
  const adMore = concatBytes(headerHash, AD_MORE);
  const adLast = concatBytes(headerHash, AD_LAST);

  const input = new ByteReader(body);
  let key: CryptoKey | null = null;
  let index = 0;
  const retry = "the content changed while it was read; read it again";
  const chunks = new Ahead<ArrayBuffer>(count, async (i) => {
    const last = i === count - 1;
    const want = last ? params.size - i * chunk : chunk;
    const plain = await input.read(want);
    if (plain.length < want) {
      throw fail(`body has ${i * chunk + plain.length} bytes, size says ${params.size}`, retry);
    }
    // Checked before the last chunk goes out, so an over-long body never yields a
    // complete envelope.
    if (last && !(await input.atEnd())) {
      throw fail(`body is longer than size ${params.size}`, retry);
    }
    const done = crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce(i), additionalData: last ? adLast : adMore },
      key!,
      plain,
    );
    // Once sealed, a chunk the reader had to assemble can take a later one.
    return { done: done.then((sealed) => (input.reuse(plain), sealed)) };
  });
  return pullStream(async () => {
    if (key === null) {
      let signature: ArrayBuffer;
      try {
        signature = await crypto.subtle.sign("Ed25519", keys.signPrivate, signed);
        key = await deriveObjectKey(
          "contentKey" in keys
            ? keys.contentKey
            : await sharedSecret(keys.agreePrivate, keys.peerAgreePublic),
          salt,
          objectInfo(header),
        );
      } catch (err) {
        throw fail(`cannot sign or derive its key: ${message(err)}`);
      }
      return concatBytes(signed, new Uint8Array(signature));
    }
    if (index >= count) return null;
    const sealed = await chunks.take(index);
    index++;
    return new Uint8Array(sealed);
  }, (reason) => input.cancel(reason));
}

/** The verified start of an envelope. */
interface Prefix {
  header: EnvelopeHeader;
  /** SHA-256(magic ‖ length ‖ header), the first half of each chunk's additional data. */
  headerHash: Uint8Array<ArrayBuffer>;
}

type Bad = (why: string) => SyftError;

function badFor(name: string): Bad {
  return (why) => new SyftError("E_BAD_MESSAGE", `object ${name}: ${why}`);
}

/** The one parser of header bytes: anything but a well-formed v1 header is refused. */
function parseHeader(bytes: Uint8Array, bad: Bad): EnvelopeHeader {
  let text: string;
  try {
    // ignoreBOM keeps a BOM in the text, where JSON.parse refuses it.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw bad("header is not UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad("header is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw bad("header is not a JSON object");
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw bad(`header has an unknown field ${JSON.stringify(key)}`);
    }
  }
  for (const key of FIELDS) {
    if (!Object.hasOwn(record, key)) throw bad(`header lacks "${key}"`);
  }
  const { v, kind, name, sender, recipient, seq, created_at, salt, chunk, size } = record;
  if (v !== 1) throw bad(`header version ${JSON.stringify(v)} is not 1`);
  if (typeof kind !== "string" || !(KINDS as readonly string[]).includes(kind)) {
    throw bad(`header kind ${JSON.stringify(kind)} is unknown`);
  }
  for (const [field, text] of [["name", name], ["sender", sender], ["recipient", recipient]]) {
    if (typeof text !== "string" || !TOKEN.test(text)) {
      throw bad(`header ${field} ${JSON.stringify(text)} is malformed`);
    }
  }
  for (const [field, n] of [["seq", seq], ["created_at", created_at], ["size", size]]) {
    if (!isCount(n)) throw bad(`header ${field} ${JSON.stringify(n)} is not a count`);
  }
  if (typeof chunk !== "number" || !Number.isSafeInteger(chunk) || chunk < 1 || chunk > MAX_CHUNK) {
    throw bad(`header chunk ${JSON.stringify(chunk)} is outside 1..${MAX_CHUNK}`);
  }
  if (typeof salt !== "string" || parseBase64(salt)?.length !== SALT_BYTES) {
    throw bad(`header salt ${JSON.stringify(salt)} is not 16 bytes of base64`);
  }
  if (chunkCount(size as number, chunk) > MAX_CHUNKS) {
    throw bad(`header size ${size} needs more than 2^32 chunks`);
  }
  return {
    v: 1,
    kind: kind as ObjectKind,
    name: name as string,
    sender: sender as string,
    recipient: recipient as string,
    seq: seq as number,
    created_at: created_at as number,
    salt,
    chunk,
    size: size as number,
  };
}

/** The header fields must say where the object was found. */
function checkExpect(header: EnvelopeHeader, expect: Expect, bad: Bad): void {
  for (const field of ["name", "sender", "recipient"] as const) {
    if (header[field] !== expect[field]) {
      throw bad(`header ${field} is "${header[field]}", expected "${expect[field]}"`);
    }
  }
  const implied = nameImplies(expect.name);
  const kind = expect.kind ?? implied?.kind;
  if (kind !== undefined && header.kind !== kind) {
    throw bad(`header kind is "${header.kind}", expected "${kind}"`);
  }
  if (implied && implied.kind !== header.kind) {
    throw bad(`header kind "${header.kind}" does not fit the name`);
  }
  if (implied?.seq != null && implied.seq !== header.seq) {
    throw bad(`header seq is ${header.seq}, the name says ${implied.seq}`);
  }
}

/**
 * Read magic, length, header and signature; verify the signature with the
 * sender's pinned key before the header is even parsed; then parse it and
 * check it against `expect`.
 */
async function readPrefix(
  input: ByteReader,
  expect: Expect,
  senderSignPublic: CryptoKey,
): Promise<Prefix> {
  const bad = badFor(expect.name);
  const magic = await input.read(MAGIC.length);
  if (magic.some((b, i) => b !== MAGIC[i])) throw bad("wrong magic (not a syft envelope)");
  if (magic.length < MAGIC.length) {
    throw bad(magic.length === 0 ? "empty" : "truncated inside the magic");
  }
  const lengthBytes = await input.read(LENGTH_BYTES);
  if (lengthBytes.length < LENGTH_BYTES) throw bad("truncated inside the header length");
  const length = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, LENGTH_BYTES)
    .getUint32(0, false);
  if (length > MAX_HEADER_BYTES) {
    throw bad(`header length ${length} exceeds ${MAX_HEADER_BYTES}`);
  }
  const headerBytes = await input.read(length);
  if (headerBytes.length < length) {
    throw bad(`header length ${length} runs past the end of the object`);
  }
  const signature = await input.read(SIGNATURE_BYTES);
  if (signature.length < SIGNATURE_BYTES) throw bad("truncated inside the signature");
  const signed = concatBytes(magic, lengthBytes, headerBytes);
  let valid: boolean;
  try {
    valid = await crypto.subtle.verify("Ed25519", senderSignPublic, signature, signed);
  } catch (err) {
    throw new SyftError(
      "E_INTERNAL",
      `object ${expect.name}: cannot verify the signature: ${message(err)}`,
    );
  }
  if (!valid) throw bad("bad signature");
  const header = parseHeader(headerBytes, bad);
  checkExpect(header, expect, bad);
  return { header, headerHash: sha256Bytes(signed) };
}

/**
 * Open an envelope found at `expect` (name, channel sender and recipient).
 *
 * Resolves once magic, header length, signature (checked with the sender's
 * pinned key before anything in the header is believed), header fields and
 * `expect` have all passed; rejects with `E_BAD_MESSAGE` otherwise, after
 * cancelling `stream`.
 *
 * The returned `body` decrypts one chunk per read and errors with
 * `E_BAD_MESSAGE` on a chunk that fails authentication (an edit, a reordered or
 * foreign chunk), a missing chunk, truncation, or bytes after the last chunk;
 * an error of `stream` itself (say, the transport's) passes through unchanged.
 * Plaintext is released chunk by chunk *before* the whole object is known to be
 * intact, so callers must write the body to a temp file and use it only when the
 * stream ended without error, and otherwise delete it (the object is then
 * quarantined). Cancel `body` to abandon it; it holds `stream` locked until it
 * ends or is cancelled.
 *
 * @example
 * ```ts
 * import type { IdentityKeys } from "../identity/keys.ts";
 * declare const transport: { get(name: string): Promise<ReadableStream<Uint8Array>> };
 * declare const keys: IdentityKeys;
 * declare const pinned: { sign: CryptoKey; agree: CryptoKey }; // the peer's keys from its hello
 * declare const temp: string;
 * const [name, peer, me] = ["b-0000000000000002.syft", "alice@example.org", "bob@example.org"];
 * const { header, body } = await openEnvelope(await transport.get(name), {
 *   name, sender: peer, recipient: me,
 * }, { senderSignPublic: pinned.sign, agreePrivate: keys.agree.privateKey, senderAgreePublic: pinned.agree });
 * await body.pipeTo((await Deno.open(temp, { write: true, createNew: true })).writable);
 * ```
 */
export async function openEnvelope(
  stream: ReadableStream<Uint8Array>,
  expect: Expect,
  keys: OpenKeys,
): Promise<OpenedEnvelope> {
  const input = new ByteReader(stream);
  let header: EnvelopeHeader;
  let key: CryptoKey;
  let headerHash: Uint8Array<ArrayBuffer>;
  try {
    ({ header, headerHash } = await readPrefix(input, expect, keys.senderSignPublic));
    key = await deriveObjectKey(
      "contentKey" in keys
        ? keys.contentKey
        : await sharedSecret(keys.agreePrivate, keys.senderAgreePublic),
      own(parseBase64(header.salt) ?? new Uint8Array(0)),
      objectInfo(header),
    );
  } catch (err) {
    input.cancel(err);
    throw err;
  }
  const bad = badFor(expect.name);
  const adMore = concatBytes(headerHash, AD_MORE);
  const adLast = concatBytes(headerHash, AD_LAST);
  const { chunk, size } = header;
  const count = chunkCount(size, chunk);
  let index = 0;
  const chunks = new Ahead<ArrayBuffer>(count, async (i) => {
    const last = i === count - 1;
    const plainLength = last ? size - i * chunk : chunk;
    const sealed = await input.read(plainLength + TAG_BYTES);
    const which = `chunk ${i + 1} of ${count}`;
    if (sealed.length === 0) throw bad(`truncated: ${which} is missing`);
    if (sealed.length < plainLength + TAG_BYTES) throw bad(`truncated inside ${which}`);
    if (last && !(await input.atEnd())) throw bad("extra bytes after the last chunk");
    const done = crypto.subtle.decrypt(
      { name: "AES-GCM", iv: nonce(i), additionalData: last ? adLast : adMore },
      key,
      sealed,
    ).then((plain) => {
      // WebCrypto is done with the sealed bytes: their buffer can take a later chunk.
      input.reuse(sealed);
      if (plain.byteLength !== plainLength) throw bad(`${which} has the wrong length`);
      return plain;
    }, () => {
      throw bad(`${which} failed authentication`);
    });
    return { done };
  });
  const body = pullStream(async () => {
    if (index >= count) return null;
    const plain = await chunks.take(index);
    index++;
    return new Uint8Array(plain);
  }, (reason) => input.cancel(reason));
  return { header, body };
}

/**
 * Read and verify only an envelope's header (signature, fields, `expect`),
 * without deriving a key or touching the body; `stream` is cancelled afterwards.
 * Used before reusing a blob already in a channel: its header must be ours.
 *
 * @throws {SyftError} `E_BAD_MESSAGE` as {@linkcode openEnvelope} does for the header.
 */
export async function readHeaderOnly(
  stream: ReadableStream<Uint8Array>,
  expect: Expect,
  senderSignPublic: CryptoKey,
): Promise<EnvelopeHeader> {
  const input = new ByteReader(stream);
  try {
    return (await readPrefix(input, expect, senderSignPublic)).header;
  } finally {
    input.cancel();
  }
}
