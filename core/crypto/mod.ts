/**
 * Cryptographic helpers of syft: peer key import, X25519 agreement, HKDF-derived
 * object and blob-id keys, and streaming SHA-256.
 * @module
 */
export * from "./agree.ts";
