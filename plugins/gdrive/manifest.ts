/**
 * How the host starts the Google Drive transport: its Worker entry, its grants
 * (network: the Drive API host and the OAuth client's token host; files: the
 * credentials folder, read and write, nothing else) and its init options.
 * @module
 */
import type { PluginManifest } from "../manifest.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { CLIENT_FILE, type OAuthClient, parseClientFile } from "./_tokens.ts";

/**
 * Default for `gdrive.full_list_every`: list channels in full every this many
 * rounds. Here, not in transport.ts, so the host that builds a manifest for
 * every command never loads the Drive library (start-up time).
 */
export const DEFAULT_FULL_LIST_EVERY = 60;

/** Drive's own API base, used unless `SYFT_GDRIVE_API` says otherwise. */
export const DEFAULT_API_BASE = "https://www.googleapis.com/";

/** Options for {@linkcode gdriveManifest}. */
export interface GdriveManifestOptions {
  /** Our identity (a valid, lower-case email). */
  identity: string;
  /** `$SYFT_HOME/credentials` (absolute). */
  credentialsDir: string;
  /** API base; default `SYFT_GDRIVE_API`, else https://www.googleapis.com/. */
  apiBase?: string | undefined;
  /** The OAuth client; default: read from `<credentialsDir>/gdrive-client.json`. */
  client?: OAuthClient | undefined;
  /** `gdrive.full_list_every` (default 60). */
  fullListEvery?: number | undefined;
  /** Request rate; default 10/s with a burst of 100. */
  rate?: { perSecond: number; burst: number } | undefined;
  /** Retry schedule; default 1 s base, 32 s cap, 8 tries. */
  backoff?: { baseMs: number; capMs: number; tries: number } | undefined;
  /** When a silent request counts as dropped; default 20 s. */
  requestTimeoutMs?: number | undefined;
}

/**
 * The manifest of the Drive transport. Reads the (small) client file when
 * `client` is not given, because the token host it names is part of the
 * Worker's grants.
 *
 * @example
 * ```ts
 * import { startPlugin } from "../host.ts";
 * const transport = await startPlugin(gdriveManifest({
 *   identity: "alice@example.org",
 *   credentialsDir: "/home/alice/.syft/credentials",
 * }));
 * ```
 * @throws {SyftError} `E_TRANSPORT` (with the sign-in hint) when there is no
 * client file, `E_INPUT` when it or the API base is malformed.
 */
export function gdriveManifest(options: GdriveManifestOptions): PluginManifest {
  const apiBase = normaliseBase(options.apiBase ?? envApiBase() ?? DEFAULT_API_BASE);
  const client = options.client ?? readClientSync(options.credentialsDir);
  const net = [...new Set([hostOf(apiBase), hostOf(client.tokenUri)])];
  const init: Record<string, unknown> = {
    identity: options.identity,
    credentialsDir: options.credentialsDir,
    apiBase,
    fullListEvery: options.fullListEvery ?? DEFAULT_FULL_LIST_EVERY,
  };
  if (options.rate) init.rate = { ...options.rate };
  if (options.backoff) init.backoff = { ...options.backoff };
  if (options.requestTimeoutMs !== undefined) init.requestTimeoutMs = options.requestTimeoutMs;
  return {
    name: "gdrive",
    entry: new URL("./worker.ts", import.meta.url),
    permissions: { net, read: [options.credentialsDir], write: [options.credentialsDir] },
    init,
  };
}

/** `SYFT_GDRIVE_API`, when set and readable. */
function envApiBase(): string | undefined {
  try {
    return Deno.env.get("SYFT_GDRIVE_API") || undefined;
  } catch {
    return undefined; // no env permission: the default applies
  }
}

/** An http(s) URL ending in `/`; http only for loopback (tests, local proxies). */
export function normaliseBase(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SyftError("E_INPUT", `the Drive API base ${JSON.stringify(raw)} is not a URL`, {
      hint: "set SYFT_GDRIVE_API to e.g. https://www.googleapis.com/",
    });
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new SyftError("E_INPUT", `the Drive API base ${JSON.stringify(raw)} is not https`, {
      hint: "plain http is allowed only on 127.0.0.1",
    });
  }
  const href = url.origin + url.pathname;
  return href.endsWith("/") ? href : `${href}/`;
}

/** The host (with its port when explicit) as Deno's net grant spells it. */
export function hostOf(url: string): string {
  return new URL(url).host;
}

function readClientSync(dir: string): OAuthClient {
  const path = `${dir}/${CLIENT_FILE}`;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    throw new SyftError("E_TRANSPORT", `not signed in to Google Drive (cannot read ${path})`, {
      hint: "sign in with: syft auth gdrive --client-file <client_secret.json>",
      cause: err,
    });
  }
  return parseClientFile(text);
}
