/**
 * Standard base64 with padding (PROTOCOL.md: binary values in JSON).
 * @module
 */
import { Buffer } from "node:buffer";

/** Encode bytes as standard padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Decode standard base64; throws on characters outside the alphabet. */
export function decodeBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new TypeError("not standard padded base64");
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}
