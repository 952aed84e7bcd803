/**
 * How the host starts the Dropbox transport: its Worker entry, its grants
 * (network: Dropbox's four hosts, or the one `SYFT_DROPBOX_API` host; files:
 * the credentials folder, read and write, nothing else) and its init options.
 * Does no I/O, so building it for every command costs nothing.
 * @module
 */
import type { PluginManifest } from "../manifest.ts";
import { DROPBOX_API_ENV, dropboxHosts } from "./_env.ts";

/** Options for {@linkcode dropboxManifest}. */
export interface DropboxManifestOptions {
  /** Our identity (a valid, lower-case email). */
  identity: string;
  /** `$SYFT_HOME/credentials` (absolute). */
  credentialsDir: string;
  /** All hosts under one base; default `SYFT_DROPBOX_API`, else Dropbox's own hosts. */
  apiBase?: string | undefined;
  /** Retry schedule; default 1 s base, 32 s cap, 8 tries. */
  backoff?: { baseMs: number; capMs: number; tries: number } | undefined;
  /** When a silent request counts as dropped; default 20 s. */
  requestTimeoutMs?: number | undefined;
  /** How often rounds look for new channels; default 2 min, 0 every round. */
  invitesEveryMs?: number | undefined;
}

/**
 * The manifest of the Dropbox transport.
 *
 * @example
 * ```ts
 * import { startPlugin } from "../host.ts";
 * const transport = await startPlugin(dropboxManifest({
 *   identity: "alice@example.org",
 *   credentialsDir: "/home/alice/.syft/credentials",
 * }));
 * ```
 * @throws {SyftError} `E_INPUT` when the API base is malformed.
 */
export function dropboxManifest(options: DropboxManifestOptions): PluginManifest {
  const apiBase = options.apiBase ?? envApiBase() ?? "";
  const hosts = dropboxHosts(apiBase); // validates the base
  const init: Record<string, unknown> = {
    identity: options.identity,
    credentialsDir: options.credentialsDir,
    apiBase,
  };
  if (options.backoff) init.backoff = { ...options.backoff };
  if (options.requestTimeoutMs !== undefined) init.requestTimeoutMs = options.requestTimeoutMs;
  if (options.invitesEveryMs !== undefined) init.invitesEveryMs = options.invitesEveryMs;
  return {
    name: "dropbox",
    entry: new URL("./worker.ts", import.meta.url),
    permissions: {
      net: hosts.netHosts,
      read: [options.credentialsDir],
      write: [options.credentialsDir],
    },
    init,
  };
}

/** `SYFT_DROPBOX_API`, when set and readable. */
function envApiBase(): string | undefined {
  try {
    return Deno.env.get(DROPBOX_API_ENV) || undefined;
  } catch {
    return undefined; // no env permission: Dropbox's own hosts
  }
}
