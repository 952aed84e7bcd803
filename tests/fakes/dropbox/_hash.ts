/**
 * Dropbox's content hash: SHA-256 over the concatenated SHA-256 digests of
 * each 4 MiB block, hex. The fake checks uploads against it and reports it
 * in file metadata, as Dropbox does.
 * @module
 */
import { createHash } from "node:crypto";

/** Dropbox's hashing block, also the unit of concurrent upload-session appends. */
export const BLOCK_SIZE = 4 * 1024 * 1024;

/** The content hash of `bytes`, hex (the hash of no bytes is the hash of no blocks). */
export function dropboxContentHash(bytes: Uint8Array): string {
  const outer = createHash("sha256");
  for (let at = 0; at < bytes.length; at += BLOCK_SIZE) {
    outer.update(createHash("sha256").update(bytes.subarray(at, at + BLOCK_SIZE)).digest());
  }
  return outer.digest("hex");
}
