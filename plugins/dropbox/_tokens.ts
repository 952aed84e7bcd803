/**
 * The Dropbox sign-in stored in `$SYFT_HOME/credentials/dropbox-token.json`
 * (0600): the user's own app key (no secret: PKCE), the short-lived access
 * token, the offline refresh token and who they belong to. `syft auth dropbox`
 * writes it; the plugin reads it, refreshes the access token shortly before it
 * expires and writes it back. One file, so the app key and the tokens it
 * issued can never disagree.
 * @module
 */
import { SyftError } from "../../core/errors/mod.ts";
import { isRecord } from "../../core/encoding/record.ts";
import { writeFileAtomic } from "../../core/fs/atomic.ts";

/** File name of the stored sign-in inside the credentials folder. */
export const DROPBOX_TOKEN_FILE = "dropbox-token.json";

/**
 * The scopes syft asks for (a "scoped access" app with "Full Dropbox"):
 * mounting a folder another user shares needs Full Dropbox and sharing.write.
 */
export const DROPBOX_SCOPES = [
  "account_info.read",
  "files.metadata.read",
  "files.metadata.write",
  "files.content.read",
  "files.content.write",
  "sharing.read",
  "sharing.write",
] as const;

/** Refresh this long before the access token expires. */
export const DROPBOX_REFRESH_MARGIN_MS = 5 * 60_000;

/** The command that mends every broken or missing sign-in. */
export const DROPBOX_SIGN_IN_HINT = "syft auth dropbox";

/** The file is a few hundred bytes; refuse anything that cannot be it. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;
/** No token field of Dropbox's is anywhere near this long. */
const MAX_FIELD_CHARS = 4096;

/** The stored sign-in, in the file's own names. */
export interface DropboxTokens {
  /** The user's Dropbox app key (the OAuth client id). */
  app_key: string;
  access_token: string;
  refresh_token: string;
  /** Milliseconds since the epoch when `access_token` stops working. */
  expires_at: number;
  /** `dbid:…` of the signed-in account. */
  account_id: string;
  /** The account's e-mail, lower-case. */
  email: string;
  /** Space-separated scopes, as the token endpoint returned them. */
  scope: string;
}

/**
 * Parse the token file, bounded.
 *
 * @example
 * ```ts
 * const path = "/home/me/.syft/credentials/dropbox-token.json";
 * const tokens = parseDropboxTokens(await Deno.readTextFile(path));
 * ```
 * @throws {SyftError} `E_TRANSPORT` (exit 4) with `hint: syft auth dropbox`
 * when it is not a complete sign-in.
 */
export function parseDropboxTokens(text: string): DropboxTokens {
  const bad = (detail: string) =>
    new SyftError("E_TRANSPORT", `the stored Dropbox sign-in is unreadable: ${detail}`, {
      hint: DROPBOX_SIGN_IN_HINT,
    });
  if (text.length > MAX_TOKEN_FILE_BYTES) throw bad("too large");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  if (!isRecord(value)) throw bad("not a JSON object");
  const str = (name: string, required: boolean): string => {
    const v = value[name];
    if (v === undefined && !required) return "";
    if (typeof v !== "string" || v.length > MAX_FIELD_CHARS || (required && v === "")) {
      throw bad(`no valid ${name}`);
    }
    return v;
  };
  const expiresAt = value.expires_at;
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) {
    throw bad("no valid expires_at");
  }
  return {
    app_key: str("app_key", true),
    access_token: str("access_token", false),
    refresh_token: str("refresh_token", true),
    expires_at: expiresAt,
    account_id: str("account_id", false),
    email: str("email", false).toLowerCase(),
    scope: str("scope", false),
  };
}

/**
 * Read and parse the stored sign-in from the credentials folder.
 * @throws {SyftError} `E_TRANSPORT` with the sign-in hint when there is none
 * or it is unusable.
 */
export async function readDropboxTokens(credentialsDir: string): Promise<DropboxTokens> {
  const path = `${credentialsDir}/${DROPBOX_TOKEN_FILE}`;
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile || info.size > MAX_TOKEN_FILE_BYTES) {
      throw new SyftError("E_TRANSPORT", `${path} is not a Dropbox sign-in file`, {
        hint: DROPBOX_SIGN_IN_HINT,
      });
    }
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof SyftError) throw err;
    if (err instanceof Deno.errors.NotFound) {
      throw new SyftError("E_TRANSPORT", `not signed in to Dropbox (no ${path})`, {
        hint: `${DROPBOX_SIGN_IN_HINT} --app-key <your app key>`,
      });
    }
    throw new SyftError("E_TRANSPORT", `cannot read ${path}: ${(err as Error).message}`, {
      hint: DROPBOX_SIGN_IN_HINT,
      cause: err,
    });
  }
  return parseDropboxTokens(text);
}

/** Store the sign-in atomically (a reader never sees half of it), readable by the user only. */
export async function writeDropboxTokens(
  credentialsDir: string,
  tokens: DropboxTokens,
): Promise<void> {
  await writeFileAtomic(
    `${credentialsDir}/${DROPBOX_TOKEN_FILE}`,
    JSON.stringify(tokens, null, 2) + "\n",
    { mode: 0o600 },
  );
}

/** Whether the access token needs a refresh now (it expires within the margin). */
export function needsRefresh(tokens: DropboxTokens, now: number): boolean {
  return tokens.access_token === "" || tokens.expires_at - now <= DROPBOX_REFRESH_MARGIN_MS;
}

/** How the refresh reaches the token endpoint (injected in tests and the Worker). */
export type TokenFetch = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Trade the refresh token for a new access token at `tokenUrl` (public
 * client: `client_id` is the app key, no secret). Returns the new tokens; the
 * caller stores them ({@linkcode writeDropboxTokens}).
 *
 * @example
 * ```ts
 * const credentialsDir = "/home/me/.syft/credentials";
 * const tokens = await readDropboxTokens(credentialsDir);
 * const tokenUrl = "https://api.dropboxapi.com/oauth2/token";
 * const fresh = await refreshDropboxTokens(tokens, tokenUrl, fetch, Date.now());
 * await writeDropboxTokens(credentialsDir, fresh);
 * ```
 * @throws {SyftError} `E_TRANSPORT` (exit 4): `hint: syft auth dropbox` when
 * Dropbox revoked the grant (`invalid_grant`) or refuses the app key; a
 * "tries again" hint when the endpoint is down or unreachable.
 */
export async function refreshDropboxTokens(
  tokens: DropboxTokens,
  tokenUrl: string,
  fetchFn: TokenFetch,
  now: number | (() => number) = Date.now,
): Promise<DropboxTokens> {
  const body = new URLSearchParams({
    grant_type: "refresh_token",
    refresh_token: tokens.refresh_token,
    client_id: tokens.app_key,
  });
  let response: Response;
  try {
    response = await fetchFn(tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new SyftError(
      "E_TRANSPORT",
      `dropbox transport failed during sign-in refresh: ${tokenUrl} did not answer`,
      { hint: "check the network; the next round tries again", cause: err },
    );
  }
  const text = (await response.text()).slice(0, MAX_TOKEN_FILE_BYTES);
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) data = parsed;
  } catch {
    // plain text (Dropbox answers bad input that way): reported below
  }
  const accessToken = data.access_token;
  if (!response.ok || typeof accessToken !== "string" || accessToken === "") {
    throw refreshFailure(response.status, data, text);
  }
  const at = typeof now === "function" ? now() : now;
  const expiresIn = typeof data.expires_in === "number" && data.expires_in > 0
    ? data.expires_in
    : 4 * 3600; // Dropbox's short-lived tokens last four hours
  return {
    ...tokens,
    access_token: accessToken.slice(0, MAX_FIELD_CHARS),
    // Dropbox keeps the refresh token; take a new one only if it sends one.
    refresh_token: typeof data.refresh_token === "string" && data.refresh_token !== ""
      ? data.refresh_token.slice(0, MAX_FIELD_CHARS)
      : tokens.refresh_token,
    expires_at: at + expiresIn * 1000,
    scope: typeof data.scope === "string" ? data.scope.slice(0, MAX_FIELD_CHARS) : tokens.scope,
  };
}

function refreshFailure(
  status: number,
  data: Record<string, unknown>,
  text: string,
): SyftError {
  const error = typeof data.error === "string" ? data.error : "";
  const description = typeof data.error_description === "string" ? data.error_description : "";
  const what = (error || `HTTP ${status}`) +
    (description ? ` (${description})` : error ? "" : text ? `: ${text}` : "");
  const prefix = "dropbox transport failed during sign-in refresh";
  if (error === "invalid_grant") {
    return new SyftError(
      "E_TRANSPORT",
      `${prefix}: Dropbox revoked or expired the sign-in (${what})`.slice(0, 300),
      { hint: DROPBOX_SIGN_IN_HINT },
    );
  }
  return new SyftError("E_TRANSPORT", `${prefix}: ${what}`.replace(/\s+/g, " ").slice(0, 300), {
    hint: status >= 500 || status === 429 ? "the next round tries again" : DROPBOX_SIGN_IN_HINT,
  });
}
