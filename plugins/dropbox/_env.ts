/**
 * Where the Dropbox transport and its sign-in send requests. Dropbox spreads
 * its API over four hosts (RPC, content, long-poll, and the web host for the
 * browser's consent page); `SYFT_DROPBOX_API=<base URL>` sends all of them to
 * one base, for tests (the fake Dropbox) and proxies:
 * `<base>/api/2/<route>`, `<base>/content/2/<route>`,
 * `<base>/notify/2/files/list_folder/longpoll`, `<base>/oauth2/authorize`,
 * `<base>/oauth2/token`.
 * @module
 */
import { SyftError } from "../../core/errors/mod.ts";

/** The variable that sends every Dropbox host to one base URL. */
export const DROPBOX_API_ENV = "SYFT_DROPBOX_API";

/** Dropbox's endpoints, as {@linkcode dropboxHosts} resolves them. */
export interface DropboxHosts {
  /** RPC routes: append e.g. `files/list_folder`; ends in `/2/`. */
  rpc: string;
  /** Content routes (upload, download): append the route; ends in `/2/`. */
  content: string;
  /** Long-poll routes: append `files/list_folder/longpoll`; ends in `/2/`. */
  notify: string;
  /** The OAuth consent page (opened in the user's browser). */
  authorize: string;
  /** The OAuth token endpoint (code exchange and refresh). */
  token: string;
  /**
   * Hosts (with port when explicit) a process talking to Dropbox needs, as
   * Deno's `--allow-net` spells them: Dropbox's four, or the base's one.
   */
  netHosts: string[];
}

/** Dropbox's own hosts. */
const REAL: DropboxHosts = {
  rpc: "https://api.dropboxapi.com/2/",
  content: "https://content.dropboxapi.com/2/",
  notify: "https://notify.dropboxapi.com/2/",
  authorize: "https://www.dropbox.com/oauth2/authorize",
  token: "https://api.dropboxapi.com/oauth2/token",
  netHosts: [
    "api.dropboxapi.com",
    "content.dropboxapi.com",
    "notify.dropboxapi.com",
    "www.dropbox.com",
  ],
};

/**
 * Dropbox's endpoints, or all of them under one base.
 *
 * @param env The base URL (the value of `SYFT_DROPBOX_API`); `undefined` reads
 *   the variable (when env access is granted), `""` means Dropbox's own hosts.
 * @example
 * ```ts
 * const hosts = dropboxHosts("http://127.0.0.1:8765");
 * hosts.rpc; // "http://127.0.0.1:8765/api/2/"
 * ```
 * @throws {SyftError} `E_INPUT` when the base is not a URL, or is plain http
 *   to anything but loopback (tokens would travel in the clear).
 */
export function dropboxHosts(env?: string): DropboxHosts {
  const raw = env ?? readEnv();
  if (raw === undefined || raw.trim() === "") return { ...REAL, netHosts: [...REAL.netHosts] };
  const base = normaliseDropboxBase(raw.trim());
  return {
    rpc: `${base}api/2/`,
    content: `${base}content/2/`,
    notify: `${base}notify/2/`,
    authorize: `${base}oauth2/authorize`,
    token: `${base}oauth2/token`,
    netHosts: [new URL(base).host],
  };
}

/** An http(s) base ending in `/`; http only for loopback. */
function normaliseDropboxBase(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SyftError("E_INPUT", `${DROPBOX_API_ENV} ${JSON.stringify(raw)} is not a URL`, {
      hint: `unset ${DROPBOX_API_ENV}, or set it to e.g. http://127.0.0.1:8765`,
    });
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new SyftError("E_INPUT", `${DROPBOX_API_ENV} ${JSON.stringify(raw)} is not https`, {
      hint: "plain http is allowed only on 127.0.0.1",
    });
  }
  const href = url.origin + url.pathname;
  return href.endsWith("/") ? href : `${href}/`;
}

function readEnv(): string | undefined {
  try {
    return Deno.env.get(DROPBOX_API_ENV) || undefined;
  } catch {
    return undefined; // no env permission (the Worker): Dropbox's own hosts
  }
}
