/**
 * Transport specs as users type them (`local:<dir>`, `gdrive`), parsed into a
 * typed value with the folder made absolute so equal specs compare equal. The
 * kinds are those of this build (core/transport/kinds.ts).
 * @module
 */
import { SyftError } from "../errors/mod.ts";
import { expandPath, type LocationEnv } from "./home.ts";
import { isUnbuiltTransport, transportChoices } from "../transport/kinds.ts";

/** A parsed transport spec. */
export type TransportSpec =
  | { kind: "local"; dir: string }
  | { kind: "gdrive" }
  | { kind: "dropbox" };

/**
 * Parse a spec; relative and `~` folders become absolute.
 * @throws {SyftError} `E_USAGE` for an unknown kind, one not in this build, or an empty folder
 */
export function parseTransportSpec(raw: string, env: LocationEnv, cwd: string): TransportSpec {
  const spec = raw.trim();
  if (spec === "gdrive" || spec === "dropbox") return { kind: spec };
  if (isUnbuiltTransport(spec)) {
    throw new SyftError("E_USAGE", `the ${spec} transport is not available in this build`, {
      hint: `use ${transportChoices()}`,
    });
  }
  if (spec.startsWith("local:")) {
    const dir = spec.slice("local:".length);
    if (dir.length === 0) {
      throw new SyftError("E_USAGE", `transport "${raw}" names no folder`, {
        hint: "use local:<dir>, e.g. --transport local:/mnt/shared/syft",
      });
    }
    if (dir.includes("\0")) {
      throw new SyftError("E_USAGE", `transport folder in "${raw}" contains a NUL byte`, {
        hint: "use local:<dir> with an ordinary folder path",
      });
    }
    return { kind: "local", dir: expandPath(dir, env, cwd) };
  }
  throw new SyftError("E_USAGE", `unknown transport "${raw}"`, {
    hint: `use ${transportChoices()}`,
  });
}

/** The canonical text of a spec, as stored in config.yaml. */
export function formatTransportSpec(spec: TransportSpec): string {
  return spec.kind === "local" ? `local:${spec.dir}` : spec.kind;
}
