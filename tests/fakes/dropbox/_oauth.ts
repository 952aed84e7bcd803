/**
 * Dropbox's OAuth 2 endpoints for an app without a secret (PKCE): authorize
 * (auto-approved as a chosen user, redirecting to a loopback `redirect_uri`
 * with `code` and `state`) and token (`authorization_code` with the verifier
 * and redirect checked; `refresh_token`). Access tokens are short-lived;
 * refresh tokens live until revoked. Error bodies as Dropbox sends them.
 * @module
 */
import { s256 } from "../gdrive/_oauth.ts";
import { oauthError } from "./_errors.ts";
import type { Store, User } from "./_store.ts";

/** Every scope a "Full Dropbox" scoped app can hold that the fake knows. */
export const ALL_SCOPES: readonly string[] = [
  "account_info.read",
  "files.metadata.read",
  "files.metadata.write",
  "files.content.read",
  "files.content.write",
  "sharing.read",
  "sharing.write",
];

interface Grant {
  email: string;
  appKey: string;
  scopes: string[];
  revoked: boolean;
}

interface PendingCode {
  grant: Grant;
  redirectUri: string | null;
  challenge: string | null;
  method: "S256" | "plain";
  offline: boolean;
  expiresAt: number;
}

/** Who an access token speaks for. */
export interface Caller {
  user: User;
  appKey: string;
  scopes: ReadonlySet<string>;
}

const CODE_TTL_MS = 10 * 60_000;
const MAX_PENDING = 10_000;
const MAX_TOKENS = 100_000;

function random(prefix: string, bytes = 24): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return prefix + btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

export { s256 };

function isLoopback(uri: string): boolean {
  try {
    const u = new URL(uri);
    return u.protocol === "http:" && u.hash === "" &&
      ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
  } catch {
    return false;
  }
}

/** Dropbox shows an HTML error page, not a redirect, when it cannot trust the redirect. */
function errorPage(status: number, detail: string): Response {
  return new Response(`<html><body><h1>Error (${status})</h1><p>${detail}</p></body></html>`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/** Drop the oldest entries of a map grown past `max` (insertion order is age). */
function bound<K, V>(map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}

/** The OAuth side of the fake. */
export class OAuth {
  /** Who approves the next authorization: an e-mail, `"deny"`, or null for the first user. */
  approver: string | null = null;
  readonly appKeys: Set<string>;
  #codes = new Map<string, PendingCode>();
  #access = new Map<string, { grant: Grant; expiresAt: number }>();
  #refresh = new Map<string, Grant>();

  constructor(
    private readonly store: Store,
    appKeys: readonly string[],
    public accessTtlSeconds: number,
  ) {
    this.appKeys = new Set(appKeys);
  }

  /** GET /oauth2/authorize: validate, then redirect with a code (or an error) at once. */
  authorize(url: URL): Response {
    const p = url.searchParams;
    if (!this.appKeys.has(p.get("client_id") ?? "")) {
      return errorPage(400, "Invalid client_id or redirect_uri");
    }
    const redirectUri = p.get("redirect_uri");
    if (redirectUri !== null && !isLoopback(redirectUri)) {
      return errorPage(
        400,
        "Invalid redirect_uri. It must exactly match one of the redirect URIs you've pre-configured for your app (including the path).",
      );
    }
    const responseType = p.get("response_type");
    if (responseType !== "code") {
      return errorPage(400, `Invalid response_type: "${responseType ?? ""}"`);
    }
    const challenge = p.get("code_challenge");
    const method = p.get("code_challenge_method") ?? "plain";
    if (challenge !== null) {
      if (method !== "S256" && method !== "plain") {
        return errorPage(400, `Invalid code_challenge_method: "${method}"`);
      }
      if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(challenge)) {
        return errorPage(400, "Invalid code_challenge");
      }
    }
    const access = p.get("token_access_type") ?? "legacy";
    if (!["online", "offline", "legacy"].includes(access)) {
      return errorPage(400, `Invalid token_access_type: "${access}"`);
    }
    // Dropbox refuses an empty `scope=` (only a missing one means "all the app's scopes").
    if (p.get("scope") !== null && p.get("scope")!.trim() === "") {
      return errorPage(400, "Invalid scope: empty");
    }
    const asked = (p.get("scope") ?? "").split(/\s+/).filter((s) => s !== "");
    const unknown = asked.find((s) => !ALL_SCOPES.includes(s));
    if (unknown) return errorPage(400, `Invalid scope: "${unknown}"`);
    if (redirectUri === null) {
      return errorPage(400, "The fake Dropbox only serves flows with a redirect_uri");
    }
    const back = (params: Record<string, string>) => {
      const to = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) to.searchParams.set(k, v);
      const state = p.get("state");
      if (state !== null) to.searchParams.set("state", state);
      return new Response(null, { status: 302, headers: { location: to.href } });
    };
    if (this.approver === "deny") {
      return back({
        error: "access_denied",
        error_description: "The user chose not to give your app access to their Dropbox account.",
      });
    }
    const email = this.approver ?? this.store.users.keys().next().value;
    if (!email || !this.store.users.has(email)) {
      return errorPage(400, "The fake Dropbox has no user to approve as");
    }
    bound(this.#codes, MAX_PENDING);
    const code = random("", 32);
    this.#codes.set(code, {
      // Without `scope`, Dropbox grants every scope the app has.
      grant: {
        email,
        appKey: p.get("client_id")!,
        scopes: asked.length > 0 ? asked : [...ALL_SCOPES],
        revoked: false,
      },
      redirectUri,
      challenge,
      method: method as "S256" | "plain",
      offline: access === "offline",
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    return back({ code });
  }

  /** POST /oauth2/token: the two grants, for a PKCE app (no secret). */
  async token(req: Request): Promise<Response> {
    if (req.method !== "POST") return oauthError(405, "invalid_request", "POST required");
    const form = await readForm(req);
    if (!form) return oauthError(400, "invalid_request", "Bad Request");
    let appKey = form.get("client_id");
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.get("authorization") ?? "");
    if (basic) {
      try {
        appKey = atob(basic[1]!).split(":")[0] ?? null;
      } catch {
        return oauthError(400, "invalid_client", "Invalid client credentials");
      }
    }
    if (appKey === null) {
      return oauthError(400, "invalid_request", "No auth function available for given request");
    }
    if (!this.appKeys.has(appKey)) return oauthError(400, "invalid_client", "Invalid client_id");

    const grantType = form.get("grant_type");
    if (grantType === "authorization_code") {
      const code = form.get("code") ?? "";
      const pending = this.#codes.get(code);
      this.#codes.delete(code); // one use, whatever happens
      if (!pending || pending.expiresAt < Date.now() || pending.grant.appKey !== appKey) {
        return oauthError(400, "invalid_grant", "code doesn't exist or has expired");
      }
      if ((form.get("redirect_uri") ?? null) !== pending.redirectUri) {
        return oauthError(400, "invalid_grant", "redirect_uri mismatch");
      }
      const verifier = form.get("code_verifier");
      if (pending.challenge === null) {
        return oauthError(400, "invalid_client", "Invalid client credentials");
      }
      if (verifier === null) {
        return oauthError(400, "invalid_request", "No auth function available for given request");
      }
      const ok = /^[A-Za-z0-9\-._~]{43,128}$/.test(verifier) &&
        (pending.method === "S256" ? s256(verifier) : verifier) === pending.challenge;
      if (!ok) return oauthError(400, "invalid_grant", "invalid code verifier");
      const user = this.store.users.get(pending.grant.email)!;
      const body: Record<string, unknown> = {
        ...this.#issue(pending.grant),
        scope: pending.grant.scopes.join(" "),
        uid: user.uid,
        account_id: user.accountId,
      };
      if (pending.offline) {
        const refresh = random("", 48);
        bound(this.#refresh, MAX_TOKENS);
        this.#refresh.set(refresh, pending.grant);
        body.refresh_token = refresh;
      }
      return Response.json(body, { headers: { "cache-control": "no-store" } });
    }
    if (grantType === "refresh_token") {
      const grant = this.#refresh.get(form.get("refresh_token") ?? "");
      if (!grant || grant.revoked) {
        return oauthError(400, "invalid_grant", "refresh token is invalid or revoked");
      }
      if (grant.appKey !== appKey) {
        return oauthError(400, "invalid_grant", "refresh token is invalid or revoked");
      }
      return Response.json(this.#issue(grant), { headers: { "cache-control": "no-store" } });
    }
    return oauthError(400, "unsupported_grant_type", `Unsupported grant_type: ${grantType ?? ""}`);
  }

  #issue(grant: Grant): { access_token: string; token_type: "bearer"; expires_in: number } {
    const token = random("sl.", 96);
    bound(this.#access, MAX_TOKENS);
    this.#access.set(token, { grant, expiresAt: Date.now() + this.accessTtlSeconds * 1000 });
    return { access_token: token, token_type: "bearer", expires_in: this.accessTtlSeconds };
  }

  /** Mint an access token directly (tests that do not exercise sign-in); null scopes: all. */
  mint(email: string, scopes: readonly string[] | null, appKey: string): string {
    return this.#issue({ email, appKey, scopes: [...(scopes ?? ALL_SCOPES)], revoked: false })
      .access_token;
  }

  /** Mint a refresh token directly. */
  mintRefresh(email: string, scopes: readonly string[] | null, appKey: string): string {
    const refresh = random("", 48);
    bound(this.#refresh, MAX_TOKENS);
    this.#refresh.set(refresh, {
      email,
      appKey,
      scopes: [...(scopes ?? ALL_SCOPES)],
      revoked: false,
    });
    return refresh;
  }

  /** The caller behind an access token, or why there is none. */
  caller(token: string): Caller | "invalid" | "expired" {
    const entry = this.#access.get(token);
    if (!entry || entry.grant.revoked) return "invalid";
    if (entry.expiresAt <= Date.now()) return "expired";
    const user = this.store.users.get(entry.grant.email);
    if (!user) return "invalid";
    return { user, appKey: entry.grant.appKey, scopes: new Set(entry.grant.scopes) };
  }

  /** Revoke every grant of `email` (its refresh tokens answer `invalid_grant`). */
  revokeUser(email: string): void {
    for (const g of this.#refresh.values()) if (g.email === email) g.revoked = true;
    for (const a of this.#access.values()) if (a.grant.email === email) a.grant.revoked = true;
  }

  /**
   * `auth/token/revoke`: the access token, its refresh token and every other
   * access token of that refresh token stop working.
   */
  revokeToken(token: string): void {
    const entry = this.#access.get(token);
    if (entry) entry.grant.revoked = true;
  }

  /** Make every access token (of `email`, or of everyone) expire now. */
  expireAccessTokens(email?: string): void {
    for (const a of this.#access.values()) {
      if (email === undefined || a.grant.email === email) a.expiresAt = 0;
    }
  }
}

/** A form body, at most 64 KiB. */
async function readForm(req: Request): Promise<URLSearchParams | null> {
  const text = await req.text();
  if (text.length > 65536) return null;
  return new URLSearchParams(text);
}
