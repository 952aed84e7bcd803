/**
 * Dropbox's OAuth 2 code flow for a public client (the user's own app key,
 * PKCE S256, no secret), as pure steps: the authorization URL (loopback
 * redirect, state, offline access, the scopes syft needs), what the redirect
 * brought back, the code exchange's request body and the token endpoint's
 * answer, and `users/get_current_account`'s answer.
 * @module
 */
import { SyftError } from "../errors/mod.ts";
import { sameSecret } from "./pkce.ts";
import { isRecord } from "../encoding/record.ts";

const AGAIN = "run `syft auth dropbox --app-key <your app key>` again";

/** What goes into the authorization request. */
export interface DropboxAuthorizationRequest {
  /** `https://www.dropbox.com/oauth2/authorize`, or the fake's. */
  authorizeUrl: string;
  appKey: string;
  /** `http://127.0.0.1:<port>`: the loopback listener waiting for the answer. */
  redirectUri: string;
  /** Space-separated scopes. */
  scope: string;
  state: string;
  challenge: string;
}

/**
 * The URL the browser opens. `force_reapprove` is left off: a user who already
 * approved the app is sent straight back, as Dropbox's own tools do.
 *
 * @example
 * ```ts
 * dropboxAuthorizationUrl({
 *   authorizeUrl: "https://www.dropbox.com/oauth2/authorize", appKey: "abc123xyz",
 *   redirectUri: "http://127.0.0.1:43111", scope: "account_info.read",
 *   state: "s", challenge: "c",
 * });
 * ```
 */
export function dropboxAuthorizationUrl(req: DropboxAuthorizationRequest): string {
  const url = new URL(req.authorizeUrl);
  const params: [string, string][] = [
    ["client_id", req.appKey],
    ["response_type", "code"],
    ["redirect_uri", req.redirectUri],
    ["state", req.state],
    ["code_challenge", req.challenge],
    ["code_challenge_method", "S256"],
    // A refresh token: access tokens last four hours, syft runs for months.
    ["token_access_type", "offline"],
    ["scope", req.scope],
  ];
  for (const [k, v] of params) url.searchParams.set(k, v);
  return url.href;
}

/**
 * App keys are short base-36 strings (15 characters today). Checked before the
 * browser opens: Dropbox shows a bad key only as an error page there, and
 * never redirects back.
 * @throws {SyftError} `E_USAGE` (exit 2) for something that cannot be one.
 */
export function parseAppKey(raw: string | undefined): string {
  const key = (raw ?? "").trim();
  if (key === "") {
    throw new SyftError("E_USAGE", "missing --app-key", {
      hint: 'create a Dropbox app (see README, "Dropbox") and pass its App key: ' +
        "syft auth dropbox --app-key <key>",
    });
  }
  if (!/^[A-Za-z0-9]{5,64}$/.test(key)) {
    throw new SyftError(
      "E_USAGE",
      `--app-key ${JSON.stringify(key.slice(0, 80))} is not a Dropbox app key`,
      {
        hint: "copy the App key (not the App secret, not a token) from your app's Settings " +
          "page at https://www.dropbox.com/developers/apps",
      },
    );
  }
  return key;
}

/**
 * The code in the redirect Dropbox sent to the loopback address (or that the
 * user pasted), after checking it answers our request.
 * @throws {SyftError} `E_PERMISSION` (exit 3) for a wrong or missing state
 * (a redirect we did not ask for) or a refusal (`error=access_denied`),
 * `E_INPUT` for a redirect without a code.
 */
export function dropboxCodeFromRedirect(params: URLSearchParams, expectedState: string): string {
  const state = params.get("state") ?? "";
  if (!sameSecret(state, expectedState)) {
    throw new SyftError(
      "E_PERMISSION",
      "refused a sign-in answer whose state does not match this sign-in's; nothing was stored",
      { hint: `${AGAIN} and finish it in the browser it opens` },
    );
  }
  const error = params.get("error");
  if (error !== null) {
    const description = params.get("error_description");
    const detail = `${error}${description ? ` (${description})` : ""}`.slice(0, 200);
    throw new SyftError("E_PERMISSION", `Dropbox sign-in did not complete: ${detail}`, {
      hint: error === "access_denied" ? `${AGAIN} and press Allow` : AGAIN,
    });
  }
  const code = params.get("code");
  if (!code) {
    throw new SyftError("E_INPUT", "the sign-in answer has no authorization code", {
      hint: "paste the whole address the browser was sent to (http://127.0.0.1:…/?code=…&state=…)",
    });
  }
  return code;
}

/** The form body of the code exchange (public client: the verifier, no secret). */
export function codeExchangeBody(
  req: { code: string; verifier: string; appKey: string; redirectUri: string },
): URLSearchParams {
  return new URLSearchParams({
    grant_type: "authorization_code",
    code: req.code,
    code_verifier: req.verifier,
    client_id: req.appKey,
    redirect_uri: req.redirectUri,
  });
}

/** What the code exchange granted. */
export interface DropboxGrant {
  access_token: string;
  refresh_token: string;
  /** Milliseconds since the epoch. */
  expires_at: number;
  account_id: string;
  scope: string;
}

/**
 * Read the token endpoint's answer to the code exchange.
 * @throws {SyftError} `E_INPUT` (exit 2) when Dropbox does not know the app
 * key (`invalid_client`), `E_TRANSPORT` (exit 4) for any other refusal or a
 * missing refresh token.
 */
export function dropboxGrant(
  status: number,
  body: unknown,
  requestedScope: string,
  now: number,
): DropboxGrant {
  const data = isRecord(body) ? body : {};
  const accessToken = data.access_token;
  if (status < 200 || status >= 300 || typeof accessToken !== "string" || accessToken === "") {
    const error = typeof data.error === "string" ? data.error : `HTTP ${status}`;
    const description = typeof data.error_description === "string"
      ? ` (${data.error_description})`
      : "";
    const what = `Dropbox refused the sign-in code: ${error}${description}`.slice(0, 300);
    if (error === "invalid_client" || /client_id|app key/i.test(description)) {
      throw new SyftError("E_INPUT", what, {
        hint: "check --app-key is your app's App key (https://www.dropbox.com/developers/apps)",
      });
    }
    throw new SyftError("E_TRANSPORT", what, {
      hint: error === "invalid_grant"
        ? `${AGAIN}; check http://127.0.0.1 is a redirect URI of your app`
        : AGAIN,
    });
  }
  if (typeof data.refresh_token !== "string" || data.refresh_token === "") {
    throw new SyftError("E_TRANSPORT", "Dropbox gave no refresh token for this sign-in", {
      hint: `${AGAIN} (syft asks for offline access; a proxy may have dropped it)`,
    });
  }
  const expiresIn = typeof data.expires_in === "number" && data.expires_in > 0
    ? data.expires_in
    : 4 * 3600;
  return {
    access_token: accessToken,
    refresh_token: data.refresh_token,
    expires_at: now + expiresIn * 1000,
    account_id: typeof data.account_id === "string" ? data.account_id : "",
    // Dropbox lists the scopes granted; absent, they were granted as asked.
    scope: typeof data.scope === "string" ? data.scope.slice(0, 4096) : requestedScope,
  };
}

/** Who `users/get_current_account` says the token belongs to. */
export interface DropboxAccount {
  accountId: string;
  /** Lower-case. */
  email: string;
  emailVerified: boolean;
}

/**
 * Parse `users/get_current_account`'s answer.
 * @throws {SyftError} `E_TRANSPORT` when it names no account.
 */
export function dropboxAccount(body: unknown): DropboxAccount {
  const data = isRecord(body) ? body : {};
  const { account_id: accountId, email } = data;
  if (typeof accountId !== "string" || accountId === "" || typeof email !== "string" || !email) {
    throw new SyftError("E_TRANSPORT", "Dropbox's users/get_current_account named no account", {
      hint: "check SYFT_DROPBOX_API (if set) points at the Dropbox API",
    });
  }
  return {
    accountId: accountId.slice(0, 200),
    email: email.slice(0, 320).toLowerCase(),
    emailVerified: data.email_verified === true,
  };
}

/** The agreed scopes missing from the space-separated `granted` ones. */
export function missingScopes(granted: string, needed: readonly string[]): string[] {
  const have = new Set(granted.split(/\s+/).filter((s) => s !== ""));
  return needed.filter((s) => !have.has(s));
}
