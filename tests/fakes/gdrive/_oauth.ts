/**
 * Google's OAuth 2.0 endpoints for installed apps, enough for the real flow:
 * authorize (auto-approved as a chosen user, redirecting to a loopback
 * `redirect_uri` with `code` and `state`), token (authorization_code with
 * PKCE checked, refresh_token) and revoke. Error bodies as Google sends them.
 * @module
 */
import { createHash } from "node:crypto";
import { oauthError } from "./_errors.ts";
import { type Caller, SCOPES, type Store } from "./_store.ts";

/** A registered OAuth client ("Desktop app"). */
export interface OAuthClient {
  id: string;
  secret: string;
}

interface Grant {
  email: string;
  clientId: string;
  scopes: string[];
  revoked: boolean;
}

interface PendingCode {
  grant: Grant;
  redirectUri: string;
  challenge: string | null;
  method: "S256" | "plain";
  offline: boolean;
  expiresAt: number;
}

const KNOWN_SCOPES = new Set<string>([
  ...Object.values(SCOPES),
  "openid",
  "email",
  "profile",
  "https://www.googleapis.com/auth/userinfo.email",
  "https://www.googleapis.com/auth/userinfo.profile",
]);

const CODE_TTL_MS = 10 * 60_000;
const MAX_PENDING = 10_000;

function random(prefix: string, bytes = 24): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return prefix + btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** base64url(SHA-256(verifier)), as RFC 7636 S256 defines the challenge. */
export function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

function isLoopback(uri: string): boolean {
  try {
    const u = new URL(uri);
    return u.protocol === "http:" && u.hash === "" &&
      ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
  } catch {
    return false;
  }
}

function errorPage(status: number, error: string, detail: string): Response {
  return new Response(`Error ${status}: ${error}\n${detail}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** The OAuth side of the fake. */
export class OAuth {
  readonly clients = new Map<string, OAuthClient>();
  /** Who approves the next authorization: an email, `"deny"`, or null for login_hint/first user. */
  approver: string | null = null;
  #codes = new Map<string, PendingCode>();
  #access = new Map<string, { grant: Grant; expiresAt: number }>();
  #refresh = new Map<string, Grant>();
  #consented = new Set<string>();

  constructor(private readonly store: Store, public accessTtlSeconds: number) {}

  /** GET /o/oauth2/auth: validate, then redirect with a code (or an error) at once. */
  authorize(url: URL): Response {
    const p = url.searchParams;
    const client = this.clients.get(p.get("client_id") ?? "");
    if (!client) return errorPage(401, "invalid_client", "The OAuth client was not found.");
    const redirectUri = p.get("redirect_uri") ?? "";
    if (!isLoopback(redirectUri)) {
      return errorPage(
        400,
        "redirect_uri_mismatch",
        `A desktop client needs a loopback redirect_uri, got "${redirectUri}"`,
      );
    }
    const back = (params: Record<string, string>) => {
      const to = new URL(redirectUri);
      const state = p.get("state");
      if (state !== null) to.searchParams.set("state", state);
      for (const [k, v] of Object.entries(params)) to.searchParams.set(k, v);
      return new Response(null, { status: 302, headers: { location: to.href } });
    };
    if (p.get("response_type") !== "code") return back({ error: "unsupported_response_type" });
    const scopes = (p.get("scope") ?? "").split(/\s+/).filter((s) => s !== "");
    if (scopes.length === 0) {
      return errorPage(400, "invalid_request", "Missing required parameter: scope");
    }
    const unknown = scopes.find((s) => !KNOWN_SCOPES.has(s));
    if (unknown) {
      return errorPage(400, "invalid_scope", `Some requested scopes were invalid: ${unknown}`);
    }
    const challenge = p.get("code_challenge");
    const method = p.get("code_challenge_method") ?? "plain";
    if (challenge !== null && method !== "S256" && method !== "plain") {
      return back({ error: "invalid_request" });
    }
    if (this.approver === "deny") return back({ error: "access_denied" });
    const hint = p.get("login_hint")?.toLowerCase();
    const email = this.approver ??
      (hint && this.store.users.has(hint) ? hint : this.store.users.keys().next().value);
    if (!email || !this.store.users.has(email)) {
      return errorPage(400, "access_denied", "The fake Drive has no user to approve as");
    }
    if (this.#codes.size >= MAX_PENDING) this.#codes.clear();
    const code = random("4/0A");
    this.#codes.set(code, {
      grant: { email, clientId: client.id, scopes, revoked: false },
      redirectUri,
      challenge,
      method: method as "S256" | "plain",
      offline: p.get("access_type") === "offline",
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    // Google gives a refresh token on the first consent, and again only with prompt=consent.
    const key = `${email}\n${client.id}`;
    const pending = this.#codes.get(code)!;
    const prompts = (p.get("prompt") ?? "").split(/\s+/);
    if (this.#consented.has(key) && !prompts.includes("consent")) pending.offline = false;
    this.#consented.add(key);
    return back({ code, scope: scopes.join(" "), iss: "https://accounts.google.com" });
  }

  /** POST /token: the two grants, with client authentication. */
  async token(req: Request): Promise<Response> {
    const form = await readForm(req);
    if (!form) return oauthError(400, "invalid_request", "Bad Request");
    let clientId = form.get("client_id") ?? "";
    let secret = form.get("client_secret");
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.get("authorization") ?? "");
    if (basic) {
      const [id, sec] = atob(basic[1]!).split(":").map(decodeURIComponent);
      clientId = id ?? "";
      secret = sec ?? null;
    }
    const client = this.clients.get(clientId);
    if (!client) return oauthError(401, "invalid_client", "The OAuth client was not found.");
    if (secret === null) return oauthError(400, "invalid_request", "client_secret is missing.");
    if (secret !== client.secret) return oauthError(401, "invalid_client", "Unauthorized");

    const grantType = form.get("grant_type");
    if (grantType === "authorization_code") {
      const code = form.get("code") ?? "";
      const pending = this.#codes.get(code);
      this.#codes.delete(code); // one use, whatever happens
      if (!pending || pending.expiresAt < Date.now() || pending.grant.clientId !== client.id) {
        return oauthError(400, "invalid_grant", "Malformed auth code.");
      }
      if (form.get("redirect_uri") !== pending.redirectUri) {
        return oauthError(400, "redirect_uri_mismatch", "Bad Request");
      }
      const verifier = form.get("code_verifier");
      if (pending.challenge === null) {
        if (verifier !== null) {
          return oauthError(400, "invalid_request", "code_verifier or verifier is not needed.");
        }
      } else {
        if (verifier === null) return oauthError(400, "invalid_grant", "Missing code verifier.");
        const ok = /^[A-Za-z0-9\-._~]{43,128}$/.test(verifier) &&
          (pending.method === "S256" ? s256(verifier) : verifier) === pending.challenge;
        if (!ok) return oauthError(400, "invalid_grant", "Invalid code verifier.");
      }
      const access = this.#issue(pending.grant);
      const body: Record<string, unknown> = { ...access };
      if (pending.offline) {
        const refresh = random("1//0g", 48);
        this.#refresh.set(refresh, pending.grant);
        body.refresh_token = refresh;
        body.refresh_token_expires_in = 604799;
      }
      return Response.json(body, { headers: { "cache-control": "no-store" } });
    }
    if (grantType === "refresh_token") {
      const grant = this.#refresh.get(form.get("refresh_token") ?? "");
      if (!grant || grant.revoked) {
        return oauthError(400, "invalid_grant", "Token has been expired or revoked.");
      }
      if (grant.clientId !== client.id) {
        return oauthError(400, "unauthorized_client", "Unauthorized");
      }
      return Response.json(this.#issue(grant), { headers: { "cache-control": "no-store" } });
    }
    return oauthError(400, "unsupported_grant_type", `Invalid grant_type: ${grantType ?? ""}`);
  }

  /** POST /revoke: revoking either token ends the whole grant. */
  async revoke(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const form = await readForm(req);
    const token = url.searchParams.get("token") ?? form?.get("token") ?? "";
    const grant = this.#refresh.get(token) ?? this.#access.get(token)?.grant;
    if (!grant || grant.revoked) {
      return oauthError(400, "invalid_token", "Token expired or revoked");
    }
    grant.revoked = true;
    return new Response(null, { status: 200 });
  }

  #issue(grant: Grant): Record<string, unknown> {
    const token = random("ya29.a0", 48);
    this.#access.set(token, { grant, expiresAt: Date.now() + this.accessTtlSeconds * 1000 });
    return {
      access_token: token,
      expires_in: this.accessTtlSeconds,
      scope: grant.scopes.join(" "),
      token_type: "Bearer",
    };
  }

  /**
   * GET/POST /tokeninfo?access_token=…: what Google reports about a live
   * access token (client, scopes, seconds left, user), for checks like `doctor`.
   */
  async tokenInfo(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const form = req.method === "POST" ? await readForm(req) : null;
    const token = url.searchParams.get("access_token") ?? form?.get("access_token") ?? "";
    const entry = this.#access.get(token);
    const left = entry ? Math.floor((entry.expiresAt - Date.now()) / 1000) : 0;
    if (!entry || entry.grant.revoked || left <= 0) {
      return oauthError(400, "invalid_token", "Invalid Value");
    }
    const user = this.store.users.get(entry.grant.email);
    return Response.json({
      azp: entry.grant.clientId,
      aud: entry.grant.clientId,
      sub: user?.permissionId ?? entry.grant.email,
      scope: entry.grant.scopes.join(" "),
      exp: String(Math.floor(entry.expiresAt / 1000)),
      expires_in: String(left),
      email: entry.grant.email,
      email_verified: "true",
      access_type: "offline",
    });
  }

  /** Mint an access token directly (tests that do not exercise sign-in). */
  mint(email: string, scopes: string[], clientId: string): string {
    const grant: Grant = { email, clientId, scopes, revoked: false };
    return this.#issue(grant).access_token as string;
  }

  /** Mint a refresh token directly. */
  mintRefresh(email: string, scopes: string[], clientId: string): string {
    const refresh = random("1//0g", 48);
    this.#refresh.set(refresh, { email, clientId, scopes, revoked: false });
    return refresh;
  }

  /** The caller behind an access token, or why there is none. */
  caller(token: string): Caller | "invalid" {
    const entry = this.#access.get(token);
    if (!entry || entry.grant.revoked || entry.expiresAt <= Date.now()) return "invalid";
    const user = this.store.users.get(entry.grant.email);
    if (!user) return "invalid";
    return { user, clientId: entry.grant.clientId, scopes: new Set(entry.grant.scopes) };
  }

  /** Revoke every grant of `email` (its refresh tokens answer `invalid_grant`). */
  revokeUser(email: string): void {
    for (const g of this.#refresh.values()) if (g.email === email) g.revoked = true;
    for (const a of this.#access.values()) if (a.grant.email === email) a.grant.revoked = true;
  }

  /** Make every access token (of `email`, or of everyone) expire now. */
  expireAccessTokens(email?: string): void {
    for (const a of this.#access.values()) {
      if (email === undefined || a.grant.email === email) a.expiresAt = 0;
    }
  }
}

/** A form body (or JSON, which Google's token endpoint also takes), at most 64 KiB. */
async function readForm(req: Request): Promise<URLSearchParams | null> {
  const text = await req.text();
  if (text.length > 65536) return null;
  if ((req.headers.get("content-type") ?? "").includes("application/json")) {
    try {
      const obj = JSON.parse(text) as Record<string, unknown>;
      return new URLSearchParams(
        Object.entries(obj).filter(([, v]) => typeof v === "string") as [string, string][],
      );
    } catch {
      return null;
    }
  }
  return new URLSearchParams(text);
}
