/**
 * Imported first by the Worker entry, before any npm module. The Worker runs
 * without env access (its manifest grants none), yet the Google libraries
 * read `process.env` while loading (logging switches, proxy settings) and
 * would crash the Worker with NotCapable. They get an empty environment
 * instead: the plugin's settings come from its init options, never from
 * variables.
 * @module
 */
import process from "node:process";

Object.defineProperty(process, "env", { value: {}, configurable: true, writable: true });
