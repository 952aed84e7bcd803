/**
 * The transport kinds this build carries: the one list help texts, hints,
 * config errors and `init` name. A kind that is planned but not built (Dropbox
 * was, until issue 18) is refused as "not available in this build"; it re-appears
 * everywhere by moving it into {@linkcode BUILT_TRANSPORTS} (with its manifest
 * in registry.ts). Pure data, so core may import it.
 * @module
 */

/** Kinds a spec may name in this build, with the form users write and what it is. */
export const BUILT_TRANSPORTS = [
  {
    kind: "local",
    spec: "local:<folder>",
    about: "a folder both sides can reach (a shared mount or a synced folder)",
  },
  { kind: "gdrive", spec: "gdrive", about: "Google Drive (sign in first: syft auth gdrive)" },
  { kind: "dropbox", spec: "dropbox", about: "Dropbox (sign in first: syft auth dropbox)" },
] as const;

/** A kind of {@linkcode BUILT_TRANSPORTS}. */
export type TransportKind = typeof BUILT_TRANSPORTS[number]["kind"];

/** Kinds that are planned but not in this build. */
export const UNBUILT_TRANSPORTS: readonly string[] = [];

/** The specs users may write, for help texts and hints. */
export const TRANSPORT_SPECS: readonly string[] = BUILT_TRANSPORTS.map((t) => t.spec);

/** Cloud kinds: those `syft auth <kind>` signs in to. */
export const CLOUD_TRANSPORTS: readonly string[] = BUILT_TRANSPORTS
  .filter((t) => t.kind !== "local").map((t) => t.kind);

/** "local:<folder> or gdrive": the choices, for a sentence. */
export function transportChoices(): string {
  const specs = [...TRANSPORT_SPECS];
  const last = specs.pop();
  return specs.length === 0 ? `${last}` : `${specs.join(", ")} or ${last}`;
}

/** Whether `spec` names a kind that is planned but not in this build. */
export function isUnbuiltTransport(spec: string): boolean {
  return UNBUILT_TRANSPORTS.includes(spec.trim());
}
