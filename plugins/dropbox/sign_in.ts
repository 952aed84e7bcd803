/**
 * What `syft auth dropbox`, `init` and `doctor` need from the Dropbox side,
 * outside the plugin's Worker: the code exchange at the token endpoint,
 * `users/get_current_account`, and the stored sign-in checked against
 * Dropbox (refreshed when asked, as the plugin refreshes it). The file is the
 * plugin's own (`_tokens.ts`), so what the CLI writes is exactly what the
 * Worker reads.
 * @module
 */
import {
  codeExchangeBody,
  type DropboxAccount,
  dropboxAccount,
  type DropboxGrant,
  dropboxGrant,
} from "../../core/auth/dropbox_oauth.ts";
import { describeError, SyftError } from "../../core/errors/mod.ts";
import { isRecord } from "../../core/encoding/record.ts";
import { type DropboxHosts, dropboxHosts } from "./_env.ts";
import {
  DROPBOX_SCOPES,
  DROPBOX_SIGN_IN_HINT,
  DROPBOX_TOKEN_FILE,
  type DropboxTokens,
  readDropboxTokens,
  refreshDropboxTokens,
  writeDropboxTokens,
} from "./_tokens.ts";

export { DROPBOX_SCOPES, DROPBOX_TOKEN_FILE, dropboxHosts };

/** No sign-in request needs longer than this to be answered. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Answers of the token endpoint and get_current_account are a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The scopes, as the authorization URL asks for them. */
export const DROPBOX_SCOPE = DROPBOX_SCOPES.join(" ");

/**
 * Redeem an authorization code (with its PKCE verifier) at the token endpoint.
 * @throws {SyftError} `E_INPUT` for an app key Dropbox does not know,
 * `E_TRANSPORT` when Dropbox refuses otherwise or does not answer.
 */
export async function exchangeDropboxCode(
  hosts: DropboxHosts,
  req: { code: string; verifier: string; appKey: string; redirectUri: string },
): Promise<DropboxGrant> {
  let response: Response;
  try {
    response = await fetch(hosts.token, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: codeExchangeBody(req),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new SyftError("E_TRANSPORT", `${hosts.token} did not answer: ${describeError(err)}`, {
      hint: "check the network, then run `syft auth dropbox` again",
      cause: err,
    });
  }
  return dropboxGrant(response.status, await jsonOf(response), DROPBOX_SCOPE, Date.now());
}

/**
 * Ask Dropbox's authorization page (without following a redirect or signing
 * in) whether it accepts the app key and redirect URI: Dropbox shows a refusal
 * only as an error page in the browser and never redirects back, so a wrong
 * key would otherwise wait out the whole sign-in. Anything but a clear
 * refusal (a login page, a redirect, no answer) lets the sign-in go on.
 * @throws {SyftError} `E_INPUT` (exit 2) when Dropbox refuses them.
 */
export async function checkAuthorizationAccepted(
  url: string,
  appKey: string,
  redirectUri: string,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
  } catch {
    return; // no answer here; the user's browser may still get one
  }
  const text = response.status === 400
    ? (await response.text().catch(() => "")).slice(0, MAX_ANSWER_BYTES)
    : "";
  await response.body?.cancel().catch(() => {});
  if (response.status !== 400) return;
  // Dropbox words the two refusals apart: "Invalid client_id or redirect_uri" for an
  // unknown key, "Invalid redirect_uri. It must exactly match…" for an unlisted URI.
  if (/invalid redirect_uri/i.test(text)) {
    const port = new URL(redirectUri).port;
    throw new SyftError(
      "E_INPUT",
      `Dropbox refuses the redirect URI ${redirectUri}: your app does not list it`,
      {
        hint: "add http://127.0.0.1 to the Redirect URIs on your app's Settings page; if Dropbox " +
          `wants the port too, add http://127.0.0.1:53682 and pass --port 53682 (this try: ${port})`,
      },
    );
  }
  if (/client_id/i.test(text)) {
    throw new SyftError(
      "E_INPUT",
      `Dropbox does not accept app key ${appKey} (its authorization page answers 400)`,
      {
        hint: "copy the App key from your app's Settings page " +
          "(https://www.dropbox.com/developers/apps) and add http://127.0.0.1 to its Redirect URIs",
      },
    );
  }
}

/** Who the token belongs to, and Dropbox's clock. */
export interface DropboxWho {
  account: DropboxAccount;
  /** The `Date` header of Dropbox's answer (ms since the epoch), when it sent one. */
  serverTime: number | null;
}

/**
 * `users/get_current_account` with a bearer token (no arguments: no body, as
 * Dropbox documents it).
 * @throws {SyftError} `E_TRANSPORT` with Dropbox's `error_summary` (401: sign in again).
 */
export async function currentAccount(
  hosts: DropboxHosts,
  accessToken: string,
): Promise<DropboxWho> {
  const response = await accountResponse(hosts, accessToken);
  if (!response.ok) throw await accountFailure(response);
  return await whoOf(response);
}

async function accountResponse(hosts: DropboxHosts, accessToken: string): Promise<Response> {
  try {
    return await fetch(`${hosts.rpc}users/get_current_account`, {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new SyftError("E_TRANSPORT", `Dropbox did not answer: ${describeError(err)}`, {
      hint: `check the network (and SYFT_DROPBOX_API if set: ${hosts.rpc})`,
      cause: err,
    });
  }
}

async function whoOf(response: Response): Promise<DropboxWho> {
  const account = dropboxAccount(await jsonOf(response));
  const date = Date.parse(response.headers.get("date") ?? "");
  return { account, serverTime: Number.isFinite(date) ? date : null };
}

async function accountFailure(response: Response): Promise<SyftError> {
  const text = (await response.text().catch(() => "")).slice(0, MAX_ANSWER_BYTES);
  let data: unknown = null;
  try {
    data = JSON.parse(text);
  } catch {
    // plain text (400s are)
  }
  const summary = isRecord(data) && typeof data.error_summary === "string"
    ? data.error_summary
    : text || response.statusText;
  const what = `Dropbox refused users/get_current_account: ${response.status} ${summary}`
    .replace(/\s+/g, " ").trim().slice(0, 300);
  const hint = response.status === 401
    ? DROPBOX_SIGN_IN_HINT
    : response.status === 400 && /scope|permission/i.test(summary)
    ? "tick account_info.read in your app's Permissions tab, then run `syft auth dropbox` again"
    : "try again later";
  return new SyftError("E_TRANSPORT", what, { hint });
}

async function jsonOf(response: Response): Promise<unknown> {
  try {
    return JSON.parse((await response.text()).slice(0, MAX_ANSWER_BYTES));
  } catch {
    return null; // judged by the caller from the status
  }
}

/** What the stored sign-in is worth, as `init` and `doctor` check it. */
export interface StoredDropboxSignIn {
  who: DropboxWho;
  /** Scopes the stored token holds (after the refresh, when one was made). */
  scope: string;
  /** Seconds the access token has left. */
  expiresInS: number;
  /** The account id the sign-in stored (what the plugin trusts as "us"). */
  storedAccountId: string;
}

/**
 * Check the stored sign-in against Dropbox: the file loads, `refresh` forces a
 * refresh (proving the refresh token still works) and stores the new token,
 * and `get_current_account` answers; a 401 gets one refresh and one more try,
 * as the plugin does.
 * @throws {SyftError} `E_TRANSPORT` (exit 4) with `hint: syft auth dropbox`
 * when there is none or Dropbox revoked it.
 */
export async function checkStoredDropboxSignIn(
  credentialsDir: string,
  options: { hosts?: DropboxHosts; refresh?: boolean } = {},
): Promise<StoredDropboxSignIn> {
  const hosts = options.hosts ?? dropboxHosts();
  let tokens = await readDropboxTokens(credentialsDir);
  const refresh = async (): Promise<DropboxTokens> => {
    const fresh = await refreshDropboxTokens(tokens, hosts.token, fetch, Date.now());
    await writeDropboxTokens(credentialsDir, fresh);
    return fresh;
  };
  if (options.refresh || tokens.expires_at - Date.now() < 5 * 60_000) tokens = await refresh();
  let response = await accountResponse(hosts, tokens.access_token);
  if (response.status === 401) {
    await response.body?.cancel();
    tokens = await refresh();
    response = await accountResponse(hosts, tokens.access_token);
  }
  if (!response.ok) throw await accountFailure(response);
  return {
    who: await whoOf(response),
    scope: tokens.scope,
    expiresInS: Math.round((tokens.expires_at - Date.now()) / 1000),
    storedAccountId: tokens.account_id,
  };
}

/** True when a sign-in file is stored (valid or not) in the credentials folder. */
export async function hasStoredDropboxSignIn(credentialsDir: string): Promise<boolean> {
  try {
    await Deno.stat(`${credentialsDir}/${DROPBOX_TOKEN_FILE}`);
    return true;
  } catch {
    return false;
  }
}

/** Store a sign-in (0600), with the account it belongs to. */
export async function storeDropboxSignIn(
  credentialsDir: string,
  appKey: string,
  grant: DropboxGrant,
  account: DropboxAccount,
): Promise<DropboxTokens> {
  const tokens: DropboxTokens = {
    app_key: appKey,
    access_token: grant.access_token,
    refresh_token: grant.refresh_token,
    expires_at: grant.expires_at,
    account_id: account.accountId,
    email: account.email,
    scope: grant.scope,
  };
  await writeDropboxTokens(credentialsDir, tokens);
  return tokens;
}
