/**
 * Transport specs (`--transport` and `config.yaml`) to plugin manifests. The
 * manifest for `gdrive` reads the small client file in `$SYFT_HOME/credentials/`
 * (its token host is part of the Worker's grants); nothing else does I/O.
 * @module
 */
import type { PluginManifest } from "./manifest.ts";
import { localManifest } from "./local/manifest.ts";
import { gdriveManifest } from "./gdrive/manifest.ts";
import { dropboxManifest } from "./dropbox/manifest.ts";
import { homeLayout } from "../core/config/home.ts";
import { SyftError } from "../core/errors/mod.ts";
import { isIdentity } from "../core/paths/identity.ts";
import { isUnbuiltTransport, TRANSPORT_SPECS, transportChoices } from "../core/transport/kinds.ts";

export { TRANSPORT_SPECS } from "../core/transport/kinds.ts";

/** What a manifest may depend on besides the spec. */
export interface RegistryContext {
  /** Our identity (a valid, lower-case email). */
  identity: string;
  /** `$SYFT_HOME`, where cloud plugins will find their credential files. */
  home: string;
  /** config.yaml's `gdrive` section, when the caller has read it. */
  gdrive?: { full_list_every: number } | undefined;
}

const VALID_SPECS_HINT = `valid transports: ${TRANSPORT_SPECS.join(", ")}`;

/**
 * The manifest for a transport spec. Does no I/O: the folder checks of
 * `local:` run as the manifest's preflight when the plugin starts.
 *
 * @example
 * ```ts
 * const manifest = manifestFor("local:/srv/shared", {
 *   identity: "alice@example.org",
 *   home: "/home/alice/.syft",
 * });
 * ```
 * @throws {SyftError} `E_INPUT` for a `local:` folder that is missing or not
 * absolute, `E_TRANSPORT` for `gdrive` before `syft auth gdrive` (no client
 * file), `E_USAGE` for a kind not in this build (`dropbox`) and anything else.
 */
export function manifestFor(spec: string, ctx: RegistryContext): PluginManifest {
  if (!isIdentity(ctx.identity)) {
    throw new SyftError("E_INPUT", `${JSON.stringify(ctx.identity)} is not a valid identity`, {
      hint: "use the form name@example.org",
    });
  }
  const trimmed = spec.trim();
  if (trimmed === "local" || trimmed.startsWith("local:")) {
    return localManifest(resolveLocalFolder(trimmed.slice("local:".length)), ctx.identity);
  }
  if (trimmed === "gdrive") {
    // The sign-in `syft auth gdrive` stored; the API base honours SYFT_GDRIVE_API.
    return gdriveManifest({
      identity: ctx.identity,
      credentialsDir: homeLayout(ctx.home).credentials,
      fullListEvery: ctx.gdrive?.full_list_every,
    });
  }
  if (trimmed === "dropbox") {
    // The sign-in `syft auth dropbox` stored; the hosts honour SYFT_DROPBOX_API.
    return dropboxManifest({
      identity: ctx.identity,
      credentialsDir: homeLayout(ctx.home).credentials,
    });
  }
  if (isUnbuiltTransport(trimmed)) {
    throw new SyftError("E_USAGE", `the ${trimmed} transport is not available in this build`, {
      hint: `use ${transportChoices()}`,
    });
  }
  throw new SyftError("E_USAGE", `unknown transport ${JSON.stringify(spec)}`, {
    hint: VALID_SPECS_HINT,
  });
}

/**
 * The folder of a `local:` spec as an absolute, normalised path. A leading `~`
 * is expanded (shells do not expand it after `local:`); a relative path is
 * refused, because it would mean a different folder from another directory.
 */
export function resolveLocalFolder(raw: string): string {
  let path = raw.trim();
  if (path === "") {
    throw new SyftError("E_INPUT", "the local transport needs a folder", {
      hint: "pass --transport local:<absolute folder>, e.g. local:/srv/syft-shared",
    });
  }
  if (path === "~" || path.startsWith("~/")) {
    const home = homeDir();
    if (home) path = home + path.slice(1);
  }
  if (!path.startsWith("/")) {
    throw new SyftError(
      "E_INPUT",
      `local transport folder ${JSON.stringify(raw)} is not an absolute path`,
      { hint: "pass --transport local:<absolute folder>, e.g. local:/srv/syft-shared" },
    );
  }
  if (path.includes("\0")) {
    throw new SyftError("E_INPUT", `local transport folder ${JSON.stringify(raw)} is not valid`, {
      hint: "the folder name contains a NUL character",
    });
  }
  return normalize(path);
}

function homeDir(): string | undefined {
  try {
    return Deno.env.get("HOME") || undefined;
  } catch {
    return undefined; // no env permission: leave ~ alone, it is then refused as relative
  }
}

/** Collapse `//`, `.` and `..` of an absolute POSIX path; no trailing slash but for `/`. */
function normalize(path: string): string {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return "/" + out.join("/");
}
