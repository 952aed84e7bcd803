/**
 * `hello.json` (docs/protocol.md §2): the one unencrypted object of a channel. It
 * names the channel's two ends and carries the sender's public keys, signed
 * with the sender's own Ed25519 key. The signature proves only that whoever
 * wrote it holds the embedded key; whether that key belongs to the person is
 * what fingerprints compared out of band decide (trust on first use, §1).
 * @module
 */
import { decodeBase64, encodeBase64 } from "../encoding/base64.ts";
import { SyftError } from "../errors/mod.ts";
import { Lru } from "../cache/lru.ts";
import { importVerifyKey, KEY_CACHE_ENTRIES } from "../crypto/agree.ts";
import { fingerprint, type IdentityKeys, publicKeys } from "../identity/keys.ts";
import { isIdentity } from "../paths/identity.ts";
import { PROTOCOL_VERSION } from "../version.ts";
import { isRecord } from "../encoding/record.ts";

/** The object name of a hello in every channel. */
export const HELLO_NAME = "hello.json";

/**
 * Largest hello we read. A real one is under 1 KiB; the cap stops a hostile
 * channel from making us buffer an arbitrary file.
 */
export const MAX_HELLO_BYTES = 16 * 1024;

/** Longest `client_version` accepted (it is shown to people, never interpreted). */
export const MAX_CLIENT_VERSION_LENGTH = 64;

/** Raw length of an Ed25519 or X25519 public key. */
const KEY_BYTES = 32;
/** Raw length of an Ed25519 signature. */
const SIG_BYTES = 64;

/** The body fields of protocol 1, in the order they are written. */
const BODY_KEYS = [
  "protocol",
  "sender",
  "recipient",
  "sign_key",
  "agree_key",
  "client_version",
  "created_at",
] as const;

/** A verified hello. */
export interface Hello {
  /** The protocol the sender speaks; above {@linkcode PROTOCOL_VERSION} means "report and leave alone". */
  protocol: number;
  sender: string;
  recipient: string;
  /** Raw Ed25519 public key (32 bytes). */
  signKey: Uint8Array;
  /** Raw X25519 public key (32 bytes). */
  agreeKey: Uint8Array;
  clientVersion: string;
  /** When the sender wrote it (its clock, ms since the epoch). */
  createdAt: number;
  /** The fingerprint of the two keys (docs/protocol.md §1). */
  fingerprint: string;
}

/** What {@linkcode createHello} needs. */
export interface CreateHelloOptions {
  sender: string;
  recipient: string;
  keys: IdentityKeys;
  clientVersion: string;
  /** ms since the epoch. */
  now: number;
}

/**
 * The bytes of our `hello.json` for the channel `sender → recipient`.
 *
 * @example
 * ```ts
 * import { generateIdentityKeys } from "../identity/keys.ts";
 * import { VERSION } from "../version.ts";
 * const keys = await generateIdentityKeys();
 * const bytes = await createHello({
 *   sender: "alice@example.org",
 *   recipient: "bob@example.org",
 *   keys,
 *   clientVersion: VERSION,
 *   now: Date.now(),
 * });
 * // then: transport.put(channel, HELLO_NAME, bytes)
 * ```
 * @throws {SyftError} `E_INTERNAL` when an identity is invalid (callers parse them first)
 */
export async function createHello(options: CreateHelloOptions): Promise<Uint8Array> {
  for (const who of [options.sender, options.recipient]) {
    if (!isIdentity(who)) {
      throw new SyftError(
        "E_INTERNAL",
        `createHello got an invalid identity ${JSON.stringify(who)}`,
      );
    }
  }
  const pub = await publicKeys(options.keys);
  const body = {
    protocol: PROTOCOL_VERSION,
    sender: options.sender,
    recipient: options.recipient,
    sign_key: encodeBase64(pub.signKey),
    agree_key: encodeBase64(pub.agreeKey),
    client_version: options.clientVersion,
    created_at: options.now,
  };
  const bodyBytes = new TextEncoder().encode(JSON.stringify(body));
  const sig = new Uint8Array(
    await crypto.subtle.sign({ name: "Ed25519" }, options.keys.sign.privateKey, bodyBytes),
  );
  const outer = { body: encodeBase64(bodyBytes), sig: encodeBase64(sig) };
  return new TextEncoder().encode(JSON.stringify(outer) + "\n");
}

/** The channel a hello was found in: its fields must name exactly these ends. */
export interface HelloChannel {
  sender: string;
  recipient: string;
}

function bad(channel: HelloChannel, why: string): SyftError {
  return new SyftError(
    "E_BAD_MESSAGE",
    `hello.json in channel syft1#${channel.sender}#${channel.recipient} is invalid: ${why}`,
    { hint: "the channel is ignored; ask its sender to check their syft installation" },
  );
}

function decodeField(
  channel: HelloChannel,
  name: string,
  value: unknown,
  bytes: number,
): Uint8Array<ArrayBuffer> {
  if (typeof value !== "string") throw bad(channel, `"${name}" must be a base64 string`);
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = decodeBase64(value);
  } catch {
    throw bad(channel, `"${name}" is not standard padded base64`);
  }
  if (raw.length !== bytes) {
    throw bad(channel, `"${name}" must be ${bytes} bytes, found ${raw.length}`);
  }
  return raw;
}

/** Hellos whose signature verified, by their signed text (bounded: see Lru). */
const verifiedHellos = new Lru<string, true>(KEY_CACHE_ENTRIES);

/**
 * Parse and verify the bytes of a `hello.json` found in the channel `expect`.
 * Strict: a size cap, exact field types, valid identities equal to the
 * channel's ends, 32-byte keys, and a valid signature by the embedded sign key.
 * A protocol above ours parses (with the protocol-1 fields present) so callers
 * can report it and leave the channel alone; unknown fields are refused at
 * protocol 1 only, since a later protocol may add some.
 *
 * @throws {SyftError} `E_BAD_MESSAGE` naming the channel and the problem
 */
export async function parseHello(bytes: Uint8Array, expect: HelloChannel): Promise<Hello> {
  if (bytes.length > MAX_HELLO_BYTES) {
    throw bad(expect, `larger than ${MAX_HELLO_BYTES} bytes`);
  }
  let outer: unknown;
  try {
    outer = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw bad(expect, "not UTF-8 JSON");
  }
  if (!isRecord(outer)) throw bad(expect, "not a JSON object");
  if (typeof outer.body !== "string") throw bad(expect, `"body" must be a base64 string`);
  let bodyBytes: Uint8Array<ArrayBuffer>;
  try {
    bodyBytes = decodeBase64(outer.body);
  } catch {
    throw bad(expect, `"body" is not standard padded base64`);
  }
  const sig = decodeField(expect, "sig", outer.sig, SIG_BYTES);

  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bodyBytes));
  } catch {
    throw bad(expect, "the body is not UTF-8 JSON");
  }
  if (!isRecord(body)) throw bad(expect, "the body is not a JSON object");

  const protocol = body.protocol;
  if (typeof protocol !== "number" || !Number.isSafeInteger(protocol) || protocol < 1) {
    throw bad(expect, `"protocol" must be a whole number of at least 1`);
  }
  if (protocol <= PROTOCOL_VERSION) {
    const extra = Object.keys(body).filter((k) => !(BODY_KEYS as readonly string[]).includes(k));
    if (extra.length) throw bad(expect, `unknown body field ${JSON.stringify(extra[0])}`);
    const outerExtra = Object.keys(outer).filter((k) => k !== "body" && k !== "sig");
    if (outerExtra.length) throw bad(expect, `unknown field ${JSON.stringify(outerExtra[0])}`);
  }

  const { sender, recipient, client_version: clientVersion, created_at: createdAt } = body;
  if (typeof sender !== "string" || !isIdentity(sender)) {
    throw bad(expect, `"sender" is not a valid identity`);
  }
  if (typeof recipient !== "string" || !isIdentity(recipient)) {
    throw bad(expect, `"recipient" is not a valid identity`);
  }
  // The names inside must equal the channel's: a hello copied from another
  // channel (or written for someone else) is not an introduction to us.
  if (sender !== expect.sender) {
    throw bad(expect, `it names sender ${sender}, not the channel's ${expect.sender}`);
  }
  if (recipient !== expect.recipient) {
    throw bad(expect, `it names recipient ${recipient}, not the channel's ${expect.recipient}`);
  }
  const signKey = decodeField(expect, "sign_key", body.sign_key, KEY_BYTES);
  const agreeKey = decodeField(expect, "agree_key", body.agree_key, KEY_BYTES);
  if (
    typeof clientVersion !== "string" || clientVersion.length === 0 ||
    clientVersion.length > MAX_CLIENT_VERSION_LENGTH || !/^[ -~]+$/.test(clientVersion)
  ) {
    throw bad(
      expect,
      `"client_version" must be 1 to ${MAX_CLIENT_VERSION_LENGTH} printable ASCII characters`,
    );
  }
  if (typeof createdAt !== "number" || !Number.isSafeInteger(createdAt) || createdAt < 0) {
    throw bad(expect, `"created_at" must be milliseconds since the epoch`);
  }

  // The same hello is read again at every discovery: a signature once verified
  // over these exact texts verifies again (the body holds the sign key too).
  const signed = `${outer.sig}\n${outer.body}`;
  if (verifiedHellos.get(signed) === undefined) {
    let verified = false;
    try {
      const key = await importVerifyKey(signKey);
      verified = await crypto.subtle.verify({ name: "Ed25519" }, key, sig, bodyBytes);
    } catch {
      verified = false;
    }
    if (!verified) throw bad(expect, "the signature does not verify with its sign_key");
    verifiedHellos.set(signed, true);
  }

  return {
    protocol,
    sender,
    recipient,
    signKey,
    agreeKey,
    clientVersion,
    createdAt,
    fingerprint: await fingerprint({ signKey, agreeKey }),
  };
}

/** True when two raw keys are byte-for-byte equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
