/**
 * A fake Google Drive for tests and demos: Drive API v3 (`/drive/v3/...`,
 * `/upload/drive/v3/...`) and Google's OAuth endpoints for installed apps
 * (`/o/oauth2/auth`, `/token`, `/revoke`, `/tokeninfo`) on 127.0.0.1, with several users,
 * sharing enforced, and faults on demand.
 *
 * It follows Drive's documented behaviour where a client could otherwise
 * lean on a convenience: 404 (never 403) for what a user cannot see,
 * duplicate names allowed, only the `fields` asked for, `name contains`
 * matching word prefixes, listings that can lag, resumable uploads that keep
 * whole 256 KiB units only.
 *
 * Run on its own: `deno task fake-gdrive [--port N] [--user a@x.org]...`
 * prints its URL on the first line, then a JSON line with the OAuth client
 * file and a token per user.
 *
 * @example
 * ```ts
 * const drive = await startFakeDrive({ users: ["a@x.org", "b@y.org"] });
 * const token = drive.token("a@x.org");
 * const res = await fetch(`${drive.url}/drive/v3/about?fields=user`, {
 *   headers: { authorization: `Bearer ${token}` },
 * });
 * await drive.close();
 * ```
 * @module
 */
import { DriveError } from "./gdrive/_errors.ts";
import { DriveApi } from "./gdrive/_drive.ts";
import {
  type FaultPlan,
  Faults,
  Quota,
  type QuotaPlan,
  type ScriptedFault,
} from "./gdrive/_faults.ts";
import { startFront } from "./gdrive/_front.ts";
import { OAuth, type OAuthClient } from "./gdrive/_oauth.ts";
import { SCOPES, Store } from "./gdrive/_store.ts";

export {
  ALL_FAULT_KINDS,
  type DriveMethod,
  type FaultKind,
  type FaultPlan,
  type QuotaPlan,
  type ScriptedFault,
} from "./gdrive/_faults.ts";
export { FOLDER, SCOPES } from "./gdrive/_store.ts";
export { s256 } from "./gdrive/_oauth.ts";
export { UPLOAD_UNIT } from "./gdrive/_uploads.ts";
export type { OAuthClient } from "./gdrive/_oauth.ts";

/** How to start the fake. */
export interface FakeDriveOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Accounts to create up front. */
  users?: string[];
  /** OAuth clients (default: one, {@linkcode DEFAULT_CLIENT}). */
  clients?: OAuthClient[];
  /** Lifetime of access tokens (default 3599 s, as Google). */
  accessTokenTtlSeconds?: number;
  /** Largest file (default 256 MiB). */
  maxFileBytes?: number;
  /** All content together (default 1 GiB). */
  maxTotalBytes?: number;
  /** Most files (default 200,000). */
  maxFiles?: number;
  /** Random faults from the start. */
  faults?: FaultPlan;
  /** A per-user request quota (default: none); calls beyond it get 403 userRateLimitExceeded. */
  quota?: QuotaPlan;
}

/** Scope names for {@linkcode FakeDrive.token}. */
export type ScopeName = keyof typeof SCOPES;

/** The running fake. */
export interface FakeDrive {
  /** `http://127.0.0.1:<port>`: the API root (what `SYFT_GDRIVE_API` takes) and the OAuth host. */
  readonly url: string;
  /** The default OAuth client. */
  readonly client: OAuthClient;
  /** Google's `client_secret.json` for a client of this fake (`installed.*`). */
  clientFile(client?: OAuthClient): { installed: Record<string, unknown> };
  /** Add an account (idempotent). */
  addUser(email: string, displayName?: string): void;
  /** An access token for `email`, adding the account if new (default scope: full Drive; default client). */
  token(email: string, options?: { scope?: ScopeName | ScopeName[]; clientId?: string }): string;
  /** A refresh token for `email` (account added if new), as the token endpoint would have given. */
  refreshToken(
    email: string,
    options?: { scope?: ScopeName | ScopeName[]; clientId?: string },
  ): string;
  /** Who approves the next sign-ins: an email, `"deny"`, or null (login_hint, else the first user). */
  approveAs(who: string | "deny" | null): void;
  /** Revoke all of `email`'s grants: refresh answers `invalid_grant`, API calls 401. */
  revoke(email: string): void;
  /** Make access tokens expire now (all, or `email`'s). */
  expireAccessTokens(email?: string): void;
  /** Make every resumable upload session expire (their PUTs answer 404). */
  expireUploadSessions(): void;
  /** API calls made by `email`, per method, plus `total`. */
  callCounts(email: string): Record<string, number>;
  /** Forget call counts and injected-fault counts. */
  resetCounts(): void;
  /** Fault injection. */
  readonly faults: {
    /** Replace the random plan (seeded; see {@linkcode FaultPlan}). */
    set(plan: FaultPlan): void;
    /** Queue a scripted fault, which fires before random ones. */
    script(fault: ScriptedFault): void;
    /** No faults from now on. */
    clear(): void;
    /** Faults injected so far, per kind. */
    injected(): Record<string, number>;
  };
  /** Set or lift the per-user request quota. */
  setQuota(plan: QuotaPlan | null): void;
  /** Notification e-mails Drive would have sent. */
  readonly notifications: readonly { from: string; to: string; fileId: string; message: string }[];
  /** Number of stored files (roots included), for leak checks. */
  fileCount(): number;
  /** Stop listening and drop every connection. */
  close(): Promise<void>;
}

/** The client a fake has unless told otherwise. */
export const DEFAULT_CLIENT: OAuthClient = {
  id: "000000000000-fakesyft.apps.googleusercontent.com",
  secret: "GOCSPX-fake-secret",
};

function scopeList(scope: ScopeName | ScopeName[] | undefined): string[] {
  const names = scope === undefined ? ["drive" as const] : Array.isArray(scope) ? scope : [scope];
  return names.map((n) => SCOPES[n]);
}

/** Start a fake Drive on 127.0.0.1. */
export async function startFakeDrive(options: FakeDriveOptions = {}): Promise<FakeDrive> {
  const store = new Store({
    maxFileBytes: options.maxFileBytes ?? 256 * 1024 * 1024,
    maxTotalBytes: options.maxTotalBytes ?? 1024 * 1024 * 1024,
    maxFiles: options.maxFiles ?? 200_000,
  });
  const oauth = new OAuth(store, options.accessTokenTtlSeconds ?? 3599);
  const clients = options.clients ?? [DEFAULT_CLIENT];
  for (const c of clients) oauth.clients.set(c.id, c);
  const faults = new Faults();
  if (options.faults) faults.set(options.faults);
  const quota = new Quota();
  if (options.quota) quota.set(options.quota);
  for (const u of options.users ?? []) store.addUser(u);

  const ready = Promise.withResolvers<void>();
  // Set once the front is up; requests reach the handler only through the front.
  // deno-lint-ignore prefer-const
  let api: DriveApi;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    async (req, info) => {
      const url = new URL(req.url);
      try {
        const path = url.pathname;
        if (req.method === "GET" && (path === "/o/oauth2/auth" || path === "/o/oauth2/v2/auth")) {
          return oauth.authorize(url);
        }
        if (req.method === "POST" && (path === "/token" || path === "/o/oauth2/token")) {
          return await oauth.token(req);
        }
        if (req.method === "POST" && (path === "/revoke" || path === "/o/oauth2/revoke")) {
          return await oauth.revoke(req);
        }
        if (path === "/tokeninfo" || path === "/oauth2/v3/tokeninfo") {
          return await oauth.tokenInfo(req);
        }
        if (path.startsWith("/drive/v3/") || path.startsWith("/upload/drive/v3/")) {
          return await api.handle(req, url, info.remoteAddr.port);
        }
        return new DriveError(404, { reason: "notFound" }, `Not Found: ${path}`).toResponse();
      } catch (err) {
        if (err instanceof DriveError) return err.toResponse();
        const message = err instanceof Error ? err.message : String(err);
        return new DriveError(500, { reason: "backendError" }, `Fake Drive failure: ${message}`)
          .toResponse();
      }
    },
  );
  await ready.promise;
  let front;
  try {
    front = startFront("127.0.0.1", options.port ?? 0, server.addr.port);
  } catch (err) {
    await server.shutdown(); // e.g. the port asked for is taken
    throw err;
  }
  api = new DriveApi({ store, oauth, faults, quota, front });
  const url = `http://127.0.0.1:${front.port}`;

  return {
    url,
    client: clients[0]!,
    clientFile: (client = clients[0]!) => ({
      installed: {
        client_id: client.id,
        project_id: "fake-syft",
        auth_uri: `${url}/o/oauth2/auth`,
        token_uri: `${url}/token`,
        auth_provider_x509_cert_url: `${url}/oauth2/v1/certs`,
        client_secret: client.secret,
        redirect_uris: ["http://localhost"],
      },
    }),
    addUser: (email, displayName) => void store.addUser(email, displayName),
    token: (email, o = {}) => {
      const user = store.addUser(email);
      return oauth.mint(user.email, scopeList(o.scope), o.clientId ?? clients[0]!.id);
    },
    refreshToken: (email, o = {}) => {
      const user = store.addUser(email);
      return oauth.mintRefresh(user.email, scopeList(o.scope), o.clientId ?? clients[0]!.id);
    },
    approveAs: (who) => {
      oauth.approver = who === null ? null : who === "deny" ? "deny" : who.toLowerCase();
    },
    revoke: (email) => oauth.revokeUser(email.toLowerCase()),
    expireAccessTokens: (email) => oauth.expireAccessTokens(email?.toLowerCase()),
    expireUploadSessions: () => api.uploads.expireAll(),
    callCounts: (email) => faults.callCounts(email.toLowerCase()),
    resetCounts: () => faults.resetCounts(),
    faults: {
      set: (plan) => faults.set(plan),
      script: (fault) => faults.script(fault),
      clear: () => faults.clear(),
      injected: () => faults.injected(),
    },
    setQuota: (plan) => quota.set(plan),
    notifications: api.notifications,
    fileCount: () => store.files.size,
    async close() {
      await front.close();
      await server.shutdown();
    },
  };
}

if (import.meta.main) {
  const args = [...Deno.args];
  const users: string[] = [];
  let port = 0;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--port") port = Number(args[++i]);
    else if (args[i] === "--user") users.push(args[++i] ?? "");
    else {
      console.error(`usage: gdrive_server.ts [--port N] [--user EMAIL]...  (unknown "${args[i]}")`);
      Deno.exit(2);
    }
  }
  if (users.length === 0) users.push("alice@example.org", "bob@example.org");
  const drive = await startFakeDrive({ port, users });
  console.log(drive.url);
  console.log(JSON.stringify({
    api: `${drive.url}/`,
    client_file: drive.clientFile(),
    tokens: Object.fromEntries(users.map((u) => [u, drive.token(u)])),
  }));
}
