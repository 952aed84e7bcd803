/**
 * Standard base64 with padding (docs/protocol.md: binary values in JSON), the one
 * codec of the project. Decoding is strict: only the canonical spelling of
 * some bytes is accepted, so no two texts stand for the same key or salt.
 * @module
 */
import { Buffer } from "node:buffer";

const CANONICAL_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Encode bytes as standard padded base64.
 *
 * @example
 * ```ts
 * encodeBase64(new Uint8Array([1, 2, 3])); // "AQID"
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * base64url without padding (RFC 4648 §5), as RFC 7636 and Google spell it.
 *
 * @example
 * ```ts
 * encodeBase64Url(new Uint8Array([251, 255])); // "-_8"
 * ```
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/**
 * The bytes of canonical standard base64, or null for anything else: a
 * character outside the alphabet, missing or extra padding, or non-zero
 * unused bits (a second spelling of the same bytes).
 *
 * @example
 * ```ts
 * parseBase64("AQID"); // Uint8Array [1, 2, 3]
 * parseBase64("AQI="); // Uint8Array [1, 2]
 * parseBase64("AQJ="); // null: the same bytes spelt another way
 * ```
 */
export function parseBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!CANONICAL_SHAPE.test(text)) return null;
  const bytes = new Uint8Array(Buffer.from(text, "base64"));
  return encodeBase64(bytes) === text ? bytes : null;
}

/**
 * Like {@linkcode parseBase64}, for callers that want a throw.
 * @throws {TypeError} when `text` is not canonical standard padded base64
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const bytes = parseBase64(text);
  if (bytes === null) throw new TypeError("not standard padded base64");
  return bytes;
}
