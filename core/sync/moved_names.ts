/**
 * How many paths a round's summary names per peer and direction. A module of
 * its own so `syft sync` can word its summary without loading the engine.
 * @module
 */

/** Paths a summary names per peer and direction; more are only counted. */
export const MOVED_NAMES = 5;
