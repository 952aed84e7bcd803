/** The client version, carried in `hello.json` and printed by `syft --version`. */
export const VERSION = "0.1.0";

/** The protocol version this client speaks (docs/protocol.md §9). */
export const PROTOCOL_VERSION = 2;
