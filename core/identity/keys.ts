/**
 * The installation's key pairs (docs/protocol.md §1): Ed25519 to sign, X25519 to agree
 * on keys. Private keys are kept as JWK; public keys travel as raw 32 bytes.
 * @module
 */
import { SyftError } from "../errors/mod.ts";

/** Both key pairs of an identity. */
export interface IdentityKeys {
  sign: CryptoKeyPair;
  agree: CryptoKeyPair;
}

/** The public halves, as they travel (raw bytes). */
export interface PublicKeys {
  signKey: Uint8Array;
  agreeKey: Uint8Array;
}

/** Make fresh key pairs. */
export async function generateIdentityKeys(): Promise<IdentityKeys> {
  const sign = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const agree = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
  return { sign: sign as CryptoKeyPair, agree: agree as CryptoKeyPair };
}

/** The raw public keys of a key set. */
export async function publicKeys(keys: IdentityKeys): Promise<PublicKeys> {
  const signKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.sign.publicKey));
  const agreeKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.agree.publicKey));
  return { signKey, agreeKey };
}

/**
 * The fingerprint people compare out of band: the first 16 bytes of
 * SHA-256(sign key ‖ agree key), as 8 groups of 4 hex digits.
 *
 * @example
 * ```ts
 * const keys = await publicKeys(await generateIdentityKeys());
 * await fingerprint(keys); // "3f2a 9c01 ... 77de"
 * ```
 */
export async function fingerprint(keys: PublicKeys): Promise<string> {
  const both = new Uint8Array(keys.signKey.length + keys.agreeKey.length);
  both.set(keys.signKey, 0);
  both.set(keys.agreeKey, keys.signKey.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", both)).slice(0, 16);
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{4}/g)!.join(" ");
}

/** The on-disk form of one private key (a JWK with its algorithm name). */
export interface StoredKey {
  alg: "Ed25519" | "X25519";
  jwk: JsonWebKey;
}

/** Export a key pair's private half for storage. */
export async function exportPrivateKey(pair: CryptoKeyPair, alg: StoredKey["alg"]) {
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return { alg, jwk } satisfies StoredKey;
}

/**
 * Rebuild a key pair from its stored private JWK (the JWK carries the public `x`).
 * @throws {SyftError} `E_INPUT` naming `file` when the key is malformed.
 */
export async function importStoredKey(
  text: string,
  expected: StoredKey["alg"],
  file: string,
): Promise<CryptoKeyPair> {
  const bad = (why: string) =>
    new SyftError("E_INPUT", `key file ${file} is unusable: ${why}`, {
      hint: "restore it from a backup; a lost key means a new identity (syft init --force)",
    });
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  if (typeof stored !== "object" || stored === null) throw bad("not a key object");
  const { alg, jwk } = stored as Partial<StoredKey>;
  if (alg !== expected) throw bad(`expected an ${expected} key`);
  if (typeof jwk !== "object" || jwk === null || typeof jwk.x !== "string") {
    throw bad("missing key material");
  }
  const usages: KeyUsage[] = expected === "Ed25519" ? ["sign"] : ["deriveBits"];
  const { d: _d, ...publicJwk } = jwk;
  try {
    const privateKey = await crypto.subtle.importKey("jwk", jwk, { name: expected }, true, usages);
    const publicKey = await crypto.subtle.importKey(
      "jwk",
      { ...publicJwk, key_ops: expected === "Ed25519" ? ["verify"] : [] },
      { name: expected },
      true,
      expected === "Ed25519" ? ["verify"] : [],
    );
    return { privateKey, publicKey };
  } catch (err) {
    throw bad(err instanceof Error ? err.message : String(err));
  }
}
