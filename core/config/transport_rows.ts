/**
 * `transport list`: the transports of a config with the peers bound to each,
 * and the peers bound to a transport the config no longer names (they do not
 * sync until it is added back).
 * @module
 */
import { type Config, DEFAULT_TRANSPORT } from "./config.ts";

/** One row of `transport list` (its `--json` shape). */
export interface TransportRow {
  name: string;
  spec: string;
  /** True for init's transport, which peers without `--via` use. */
  default: boolean;
  /** The peers whose channels go through it (a removed one until it was told), sorted. */
  peers: string[];
}

/** A peer and the transport it is bound to. */
export interface PeerVia {
  email: string;
  via: string;
}

/** The transports of a config with the peers on each. */
export function transportRows(
  config: Pick<Config, "transport" | "transports">,
  peers: readonly PeerVia[],
): TransportRow[] {
  const on = (name: string) => peers.filter((p) => p.via === name).map((p) => p.email);
  return [
    {
      name: DEFAULT_TRANSPORT,
      spec: config.transport,
      default: true,
      peers: on(DEFAULT_TRANSPORT),
    },
    ...Object.entries(config.transports).map(([name, spec]) => ({
      name,
      spec,
      default: false,
      peers: on(name),
    })),
  ];
}

/** Peers bound to a transport none of `rows` names. */
export function unboundPeers(rows: readonly TransportRow[], peers: readonly PeerVia[]): PeerVia[] {
  return peers.filter((p) => !rows.some((r) => r.name === p.via));
}
