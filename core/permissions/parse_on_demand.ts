/**
 * Whether the YAML parser for permission files loads up front (the default)
 * or only when a text needs it. Loading it (the yaml package, through
 * node:module) was a third of `syft status`'s start-up, and the files syft
 * writes never need it (parse_written.ts). On demand, a parse that needs it
 * throws {@linkcode PermissionParserNeeded}, so only a caller that handles
 * that (with `withPermissionParser` from parse.ts) may ask for it: `syft
 * status`, before it imports anything that parses.
 *
 * A module of its own because the choice must be made before parse.ts is
 * evaluated: parse.ts reads it once, from its top-level await.
 * @module
 */

let onDemand = false;

/**
 * Load the YAML parser only when a permission file needs it (or, with
 * false, up front again); takes effect for a parse.ts evaluated after it.
 */
export function loadYamlParserOnDemand(on = true): void {
  onDemand = on;
}

/** True when {@linkcode loadYamlParserOnDemand} was called. */
export function yamlParserOnDemand(): boolean {
  return onDemand;
}

/** A permission file needed the YAML parser, which was left to load on demand. */
export class PermissionParserNeeded extends Error {
  constructor() {
    super("a permission file needs the YAML parser, which is not loaded yet");
    this.name = "PermissionParserNeeded";
  }
}
