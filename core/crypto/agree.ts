/**
 * Key agreement and key derivation (docs/protocol.md §1–§3): importing a peer's
 * pinned public keys, the X25519 shared secret of two identities, the per-object
 * AES-256-GCM key of an envelope, and the blob-id key that hides content hashes
 * from anyone listing a channel.
 *
 * Every secret is derived from the X25519 shared secret of the ordered pair
 * (sender, recipient) with HKDF-SHA256; the `info` strings name the purpose and
 * both parties, so a key made for one use or one direction is useless for any other.
 * @module
 */
import { Lru } from "../cache/lru.ts";
import { SyftError } from "../errors/mod.ts";

export {
  hashedFileStream,
  hashFile,
  hashFileSync,
  type HashResult,
  hashStream,
  sha256Bytes,
  sha256Hex,
  writeHashed,
} from "./hash.ts";

/** Bytes of a raw Ed25519 or X25519 public key. */
const RAW_KEY_BYTES = 32;

/** WebCrypto wants bytes backed by a plain ArrayBuffer; copy only when they are not. */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes);
}

/** A peer's public keys, ready for WebCrypto. */
export interface PeerKeys {
  /** Ed25519 public key, usage `verify`. */
  sign: CryptoKey;
  /** X25519 public key, for {@linkcode sharedSecret}. */
  agree: CryptoKey;
}

/**
 * Entries each key cache keeps: a datasite with a few hundred peers stays
 * fully cached; more only costs a WebCrypto call again.
 */
export const KEY_CACHE_ENTRIES = 512;

/**
 * Imported public keys by their raw bytes (a CryptoKey never changes, so one
 * import serves every caller): every round and every `hello.json` imported the
 * same peers' keys again, a thread-pool call each.
 */
const verifyKeys = new Lru<string, Promise<CryptoKey>>(KEY_CACHE_ENTRIES);
const agreeKeys = new Lru<string, Promise<CryptoKey>>(KEY_CACHE_ENTRIES);

/**
 * X25519 shared secrets per (our private key, their public key): the same
 * static pair agreed again for every object sealed or opened. Keyed by the
 * CryptoKey objects, which are immutable (their bytes can never change under a
 * key), and their public ones come from the import cache, so a peer's key is
 * one object; a changed key is another object, another entry.
 */
const secrets = new WeakMap<CryptoKey, Lru<CryptoKey, Promise<Uint8Array<ArrayBuffer>>>>();

/** HKDF base keys by the secret's bytes (each object's key is one `deriveKey` from it). */
const hkdfBases = new Lru<string, Promise<CryptoKey>>(KEY_CACHE_ENTRIES);

/** Bytes as a string key (one char per byte): content, not identity, keys the caches. */
function keyOf(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/**
 * An Ed25519 public key from its raw 32 bytes, for `verify` (cached by the bytes).
 *
 * @throws {SyftError} `E_BAD_MESSAGE` when it is not a valid raw key.
 */
export async function importVerifyKey(raw: Uint8Array): Promise<CryptoKey> {
  const bad = (why: string) =>
    new SyftError("E_BAD_MESSAGE", `peer signing key is unusable: ${why}`);
  if (raw.length !== RAW_KEY_BYTES) throw bad(`${raw.length} bytes, not 32`);
  // The copy is the cache's: a caller reusing its buffer cannot change a cached import.
  const bytes = new Uint8Array(raw);
  return await verifyKeys.remember(keyOf(bytes), async () => {
    try {
      return await crypto.subtle.importKey("raw", bytes, { name: "Ed25519" }, true, ["verify"]);
    } catch (err) {
      throw bad(err instanceof Error ? err.message : String(err));
    }
  });
}

/**
 * Import a peer's public keys from their raw 32-byte forms (as `hello.json`
 * and `$SYFT_HOME/peers/` carry them). The same bytes give the same CryptoKey
 * objects (see {@linkcode KEY_CACHE_ENTRIES}).
 *
 * @throws {SyftError} `E_BAD_MESSAGE` when either key is not a valid raw key.
 *
 * @example
 * ```ts
 * declare const hello: { signKey: Uint8Array; agreeKey: Uint8Array }; // a parsed hello.json
 * const peer = await importPeerKeys(hello.signKey, hello.agreeKey);
 * ```
 */
export async function importPeerKeys(
  signRaw: Uint8Array,
  agreeRaw: Uint8Array,
): Promise<PeerKeys> {
  const bad = (why: string) =>
    new SyftError("E_BAD_MESSAGE", `peer agreement key is unusable: ${why}`);
  const sign = await importVerifyKey(signRaw);
  if (agreeRaw.length !== RAW_KEY_BYTES) throw bad(`${agreeRaw.length} bytes, not 32`);
  const bytes = new Uint8Array(agreeRaw);
  const agree = await agreeKeys.remember(keyOf(bytes), async () => {
    try {
      return await crypto.subtle.importKey("raw", bytes, { name: "X25519" }, true, []);
    } catch (err) {
      throw bad(err instanceof Error ? err.message : String(err));
    }
  });
  return { sign, agree };
}

/**
 * The X25519 shared secret (32 bytes) of our private agreement key and a peer's
 * public one. Both directions of a pair compute the same secret; the HKDF `info`
 * of each derived key is what separates directions and uses. Computed once per
 * pair of keys (and checked then); each caller gets its own copy.
 *
 * @throws {SyftError} `E_BAD_MESSAGE` when the peer key is a low-order point
 *   (the secret would be all zeros, known to anyone).
 */
export async function sharedSecret(
  agreePrivate: CryptoKey,
  peerAgreePublic: CryptoKey,
): Promise<Uint8Array<ArrayBuffer>> {
  let mine = secrets.get(agreePrivate);
  if (!mine) secrets.set(agreePrivate, mine = new Lru(KEY_CACHE_ENTRIES));
  const secret = await mine.remember(peerAgreePublic, () => agree(agreePrivate, peerAgreePublic));
  return secret.slice();
}

async function agree(
  agreePrivate: CryptoKey,
  peerAgreePublic: CryptoKey,
): Promise<Uint8Array<ArrayBuffer>> {
  let bits: ArrayBuffer;
  try {
    bits = await crypto.subtle.deriveBits(
      { name: "X25519", public: peerAgreePublic },
      agreePrivate,
      256,
    );
  } catch (err) {
    throw new SyftError(
      "E_BAD_MESSAGE",
      `cannot agree on a key with the peer: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const secret = new Uint8Array(bits);
  // WebCrypto already refuses an all-zero result; check again so no runtime can slip.
  if (secret.every((b) => b === 0)) {
    throw new SyftError("E_BAD_MESSAGE", "cannot agree on a key with the peer: low-order key");
  }
  return secret;
}

async function hkdfBase(secret: Uint8Array): Promise<CryptoKey> {
  const bytes = new Uint8Array(secret);
  return await hkdfBases.remember(
    keyOf(bytes),
    () => crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveKey"]),
  );
}

/**
 * HKDF-SHA256(ikm = `secret`, salt, info) → a non-extractable AES-256-GCM key
 * (docs/protocol.md §3, the fresh key of one envelope).
 *
 * @example
 * ```ts
 * declare const secret: Uint8Array; // sharedSecret(ours, theirs)
 * const salt = crypto.getRandomValues(new Uint8Array(16)); // the envelope header's salt
 * const name = "b-0000000000000002.syft";
 * const key = await deriveObjectKey(
 *   secret,
 *   salt,
 *   `syft1 batch alice@example.org bob@example.org ${name}`,
 * );
 * ```
 */
export async function deriveObjectKey(
  secret: Uint8Array,
  salt: Uint8Array,
  info: string,
): Promise<CryptoKey> {
  return await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: own(salt), info: new TextEncoder().encode(info) },
    await hkdfBase(secret),
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * The blob-id key of the channel `sender` → `recipient`: HKDF-SHA256(ikm = shared
 * secret, empty salt, info `"syft1 blob-id " + sender + " " + recipient`) → an
 * HMAC-SHA256 key (256-bit). Deterministic per pair, so the same content gets the
 * same blob name in a channel and is uploaded once.
 */
export async function blobKey(
  secret: Uint8Array,
  sender: string,
  recipient: string,
): Promise<CryptoKey> {
  return await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: new TextEncoder().encode(`syft1 blob-id ${sender} ${recipient}`),
    },
    await hkdfBase(secret),
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
}

/**
 * A blob's id (the `<id>` of `x-<id>.syft`): HMAC-SHA256(blob key, content hash),
 * 64 lowercase hex digits. The HMAC input is the content hash's 64-character
 * lowercase hex text as ASCII bytes — not the 32 raw digest bytes — because that
 * text is the one form of the hash the protocol writes everywhere (events, tar
 * entry names), so no implementation can pick the other form by accident.
 *
 * @throws {SyftError} `E_INTERNAL` when `contentHash` is not 64 lowercase hex digits.
 */
export async function blobId(key: CryptoKey, contentHash: string): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(contentHash)) {
    throw new SyftError("E_INTERNAL", `blob id asked for "${contentHash}", not a content hash`);
  }
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(contentHash));
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
}
