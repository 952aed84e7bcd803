/**
 * What a peer record says is wrong by itself, in words for `syft peer list`
 * and `syft status`. Apart from the peer service so that `status` loads no
 * crypto (the service pulls in hello verification, and with it node:crypto).
 * @module
 */
import { PROTOCOL_VERSION } from "../version.ts";
import type { PeerRecord } from "./store.ts";

/** A fingerprint as a user pastes it back into a command line. */
export function quoteFp(fp: string): string {
  return `'${fp}'`;
}

/** Problems a record carries by itself (for `syft peer list` and `syft status`). */
export function recordProblems(record: PeerRecord): string[] {
  const problems: string[] = [];
  if (record.key_change) {
    problems.push(
      `${record.email}'s channel carries other keys (fingerprint ${record.key_change.fingerprint}, pinned ${record.fingerprint}); refused until you compare fingerprints and run \`syft peer trust ${record.email} --fingerprint ${
        quoteFp(record.key_change.fingerprint)
      }\``,
    );
  }
  if (record.protocol !== undefined && record.protocol > PROTOCOL_VERSION) {
    problems.push(
      `${record.email} speaks syft protocol ${record.protocol} (this syft speaks ${PROTOCOL_VERSION}); its channel is left untouched until you upgrade syft`,
    );
  }
  return problems;
}
