/**
 * What `syft auth gdrive`, `init` and `doctor` need from the Drive plugin's
 * side, outside its Worker: the API base (`SYFT_GDRIVE_API` honoured), the
 * code exchange at the client file's `token_uri`, and `about.get` with the
 * stored sign-in. The files are the plugin's own (`_tokens.ts`), so what the
 * CLI writes is exactly what the Worker reads.
 * @module
 */
import { type GrantedTokens, grantedTokens } from "../../core/auth/google_oauth.ts";
import { describeError, SyftError } from "../../core/errors/mod.ts";
import { errorBody } from "./_errors.ts";
import { DEFAULT_API_BASE, normaliseBase } from "./manifest.ts";
import {
  CLIENT_FILE,
  DRIVE_SCOPE,
  type OAuthClient,
  parseClientFile,
  parseTokenFile,
  readCredential,
  storeClientFile,
  TOKEN_FILE,
  TokenSource,
  writeTokenFile,
} from "./_tokens.ts";
import { isRecord } from "../../core/encoding/record.ts";

export { CLIENT_FILE, DRIVE_SCOPE, type OAuthClient, parseClientFile, storeClientFile, TOKEN_FILE };

/** No sign-in request needs longer than this to be answered. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The Drive API base: `SYFT_GDRIVE_API` when set, else Google's. */
export function apiBaseFromEnv(): string {
  return normaliseBase(Deno.env.get("SYFT_GDRIVE_API") || DEFAULT_API_BASE);
}

/**
 * Redeem an authorization code (with its PKCE verifier) at the client's
 * `token_uri`.
 * @throws {SyftError} `E_TRANSPORT` when Google refuses or does not answer.
 */
export async function exchangeCode(
  client: OAuthClient,
  code: { code: string; verifier: string; redirectUri: string },
): Promise<GrantedTokens> {
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code: code.code,
    code_verifier: code.verifier,
    redirect_uri: code.redirectUri,
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
  let response: Response;
  try {
    response = await fetch(client.tokenUri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new SyftError("E_TRANSPORT", `${client.tokenUri} did not answer: ${describeError(err)}`, {
      hint: "check the network, then run `syft auth gdrive` again",
      cause: err,
    });
  }
  let data: unknown = null;
  try {
    data = JSON.parse((await response.text()).slice(0, 64 * 1024));
  } catch {
    // reported by grantedTokens from the status
  }
  return grantedTokens(response.status, data, DRIVE_SCOPE, Date.now());
}

/** Who Drive says the token belongs to, and the server's clock. */
export interface DriveAccount {
  /** `about.user.emailAddress`, lower-cased. */
  email: string;
  /** The `Date` header of Drive's answer (ms since the epoch), when it sent one. */
  serverTime: number | null;
}

/**
 * `about.get` (fields=user) with a bearer token.
 * @throws {SyftError} `E_TRANSPORT` with Drive's reason (401: sign in again).
 */
export async function aboutUser(apiBase: string, accessToken: string): Promise<DriveAccount> {
  const response = await aboutResponse(apiBase, accessToken);
  if (!response.ok) throw await aboutFailure(response);
  return await accountOf(response);
}

async function aboutResponse(apiBase: string, accessToken: string): Promise<Response> {
  const url = `${apiBase}drive/v3/about?fields=user`;
  try {
    return await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new SyftError("E_TRANSPORT", `Google Drive did not answer: ${describeError(err)}`, {
      hint: `check the network (and SYFT_GDRIVE_API if set: ${apiBase})`,
      cause: err,
    });
  }
}

async function accountOf(response: Response): Promise<DriveAccount> {
  let data: unknown = null;
  try {
    data = await response.json();
  } catch {
    // reported below
  }
  const user = isRecord(data) && isRecord(data.user) ? data.user : {};
  if (typeof user.emailAddress !== "string" || user.emailAddress === "") {
    throw new SyftError("E_TRANSPORT", "Google Drive's about.get named no user", {
      hint: "check SYFT_GDRIVE_API points at the Drive API",
    });
  }
  const date = Date.parse(response.headers.get("date") ?? "");
  return {
    email: user.emailAddress.toLowerCase(),
    serverTime: Number.isFinite(date) ? date : null,
  };
}

async function aboutFailure(response: Response): Promise<SyftError> {
  let data: unknown = null;
  const text = await response.text().catch(() => "");
  try {
    data = JSON.parse(text);
  } catch {
    // plain text
  }
  const { reason, message } = errorBody(data, text || response.statusText);
  const what = `Google Drive refused about.get: ${response.status} ${reason || ""} ${message}`
    .replace(/\s+/g, " ").trim();
  const hint = response.status === 401
    ? "syft auth gdrive"
    : reason === "accessNotConfigured" || reason === "SERVICE_DISABLED"
    ? "enable the Google Drive API in the Cloud project of your OAuth client"
    : response.status === 403
    ? "check the account may use Drive, then run `syft auth gdrive` again"
    : "try again later";
  return new SyftError("E_TRANSPORT", what, { hint });
}

/** What the stored sign-in is worth, as `init` and `doctor` check it. */
export interface StoredSignIn {
  account: DriveAccount;
  /** Scopes the stored token holds (after the refresh, when one was made). */
  scope: string;
  /** Seconds the access token has left. */
  expiresInS: number;
}

/**
 * Check the stored sign-in against Drive: the tokens load, `refresh` forces a
 * refresh (proving the refresh token still works), and `about.get` answers;
 * a 401 gets one refresh and one more try, as the plugin does.
 * @throws {SyftError} `E_TRANSPORT` with the sign-in hint when there is none,
 * `hint: syft auth gdrive` when Google revoked it (`invalid_grant`).
 */
export async function checkStoredSignIn(
  credentialsDir: string,
  options: { apiBase?: string; refresh?: boolean } = {},
): Promise<StoredSignIn> {
  const apiBase = options.apiBase ?? apiBaseFromEnv();
  const tokens = await TokenSource.load(credentialsDir);
  if (options.refresh) tokens.invalidate();
  let response = await aboutResponse(apiBase, await tokens.accessToken());
  if (response.status === 401) {
    await response.body?.cancel();
    tokens.invalidate();
    response = await aboutResponse(apiBase, await tokens.accessToken());
  }
  if (!response.ok) throw await aboutFailure(response);
  const account = await accountOf(response);
  const stored = parseTokenFile(await readCredential(credentialsDir, TOKEN_FILE));
  return {
    account,
    scope: stored.scope,
    expiresInS: Math.round((stored.expiry_date - Date.now()) / 1000),
  };
}

/** True when a token file is stored (valid or not) in the credentials folder. */
export async function hasStoredSignIn(credentialsDir: string): Promise<boolean> {
  for (const name of [CLIENT_FILE, TOKEN_FILE]) {
    try {
      await Deno.stat(`${credentialsDir}/${name}`);
    } catch {
      return false;
    }
  }
  return true;
}

/** Store a sign-in: Google's client JSON as is, then the tokens (both 0600). */
export async function storeSignIn(
  credentialsDir: string,
  clientText: string,
  tokens: GrantedTokens,
): Promise<void> {
  await storeClientFile(credentialsDir, clientText);
  await writeTokenFile(credentialsDir, tokens);
}
