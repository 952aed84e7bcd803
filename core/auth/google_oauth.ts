/**
 * Google's OAuth 2.0 for installed apps, as pure steps: the authorization URL
 * (loopback redirect, PKCE S256, state, offline access with consent so a
 * refresh token comes back every time), what the redirect brought back, and
 * the token endpoint's answer.
 * @module
 */
import { SyftError } from "../errors/mod.ts";
import { sameSecret } from "./pkce.ts";
import { isRecord } from "../encoding/record.ts";

/** What goes into the authorization request. */
export interface AuthorizationRequest {
  /** The client file's `auth_uri`. */
  authUri: string;
  clientId: string;
  /** `http://127.0.0.1:<port>`: the loopback listener waiting for the answer. */
  redirectUri: string;
  scope: string;
  state: string;
  challenge: string;
  /** Pre-selects the account in Google's chooser, when the identity is known. */
  loginHint?: string | undefined;
}

/**
 * The URL the browser opens.
 *
 * @example
 * ```ts
 * authorizationUrl({
 *   authUri: "https://accounts.google.com/o/oauth2/auth",
 *   clientId: "123.apps.googleusercontent.com",
 *   redirectUri: "http://127.0.0.1:43111",
 *   scope: "https://www.googleapis.com/auth/drive",
 *   state: "s", challenge: "c", loginHint: "alice@example.org",
 * });
 * ```
 */
export function authorizationUrl(req: AuthorizationRequest): string {
  const url = new URL(req.authUri);
  const params: [string, string][] = [
    ["client_id", req.clientId],
    ["redirect_uri", req.redirectUri],
    ["response_type", "code"],
    ["scope", req.scope],
    ["state", req.state],
    ["code_challenge", req.challenge],
    ["code_challenge_method", "S256"],
    // A refresh token, and again on every sign-in (Google sends one only on consent).
    ["access_type", "offline"],
    ["prompt", "consent"],
  ];
  if (req.loginHint) params.push(["login_hint", req.loginHint]);
  for (const [k, v] of params) url.searchParams.set(k, v);
  return url.href;
}

/**
 * The code in the redirect Google sent to the loopback address (or that the
 * user pasted), after checking it answers our request.
 * @throws {SyftError} `E_PERMISSION` for a wrong or missing state (a redirect
 * we did not ask for) or a refusal (`error=access_denied`), `E_INPUT` for a
 * redirect without a code.
 */
export function codeFromRedirect(params: URLSearchParams, expectedState: string): string {
  const state = params.get("state") ?? "";
  if (!sameSecret(state, expectedState)) {
    throw new SyftError(
      "E_PERMISSION",
      "refused a sign-in answer whose state does not match this sign-in's",
      { hint: "run `syft auth gdrive` again and finish it in the browser it opens" },
    );
  }
  const error = params.get("error");
  if (error !== null) {
    throw new SyftError("E_PERMISSION", `Google sign-in did not complete: ${error}`, {
      hint: error === "access_denied"
        ? "run `syft auth gdrive` again and allow access to Google Drive"
        : "run `syft auth gdrive` again",
    });
  }
  const code = params.get("code");
  if (!code) {
    throw new SyftError("E_INPUT", "the sign-in answer has no authorization code", {
      hint: "paste the whole address the browser was sent to (http://127.0.0.1:…/?state=…&code=…)",
    });
  }
  return code;
}

/** The query of a redirect URL pasted by the user, or null when the text is not one. */
export function pastedRedirect(text: string): URLSearchParams | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  try {
    const url = new URL(trimmed);
    return url.searchParams.has("state") ? url.searchParams : null;
  } catch {
    return null;
  }
}

/** The tokens a sign-in got, in the plugin's token file names. */
export interface GrantedTokens {
  access_token: string;
  refresh_token: string;
  /** Milliseconds since the epoch. */
  expiry_date: number;
  scope: string;
  token_type: string;
}

/**
 * Read the token endpoint's answer to the code exchange.
 * @throws {SyftError} `E_TRANSPORT` naming Google's `error`, or the missing
 * refresh token (exit 4).
 */
export function grantedTokens(
  status: number,
  body: unknown,
  requestedScope: string,
  now: number,
): GrantedTokens {
  const data = isRecord(body) ? body : {};
  if (status < 200 || status >= 300 || typeof data.access_token !== "string") {
    const error = typeof data.error === "string" ? data.error : `HTTP ${status}`;
    const detail = typeof data.error_description === "string" ? ` (${data.error_description})` : "";
    throw new SyftError(
      "E_TRANSPORT",
      `Google refused the sign-in code: ${error}${detail}`.slice(0, 300),
      { hint: "run `syft auth gdrive` again; check the client file is the one for this project" },
    );
  }
  if (typeof data.refresh_token !== "string" || data.refresh_token === "") {
    throw new SyftError("E_TRANSPORT", "Google gave no refresh token for this sign-in", {
      hint: "remove syft's access at https://myaccount.google.com/permissions, then run " +
        "`syft auth gdrive` again",
    });
  }
  const expiresIn = typeof data.expires_in === "number" && data.expires_in > 0
    ? data.expires_in
    : 3600;
  return {
    access_token: data.access_token,
    refresh_token: data.refresh_token,
    expiry_date: now + expiresIn * 1000,
    // Google lists the scopes granted; absent, the request's scope was granted as asked.
    scope: typeof data.scope === "string" ? data.scope : requestedScope,
    token_type: typeof data.token_type === "string" ? data.token_type : "Bearer",
  };
}

/** True when the space-separated `granted` scopes include `scope`. */
export function hasScope(granted: string, scope: string): boolean {
  return granted.split(/\s+/).includes(scope);
}
