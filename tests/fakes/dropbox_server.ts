/**
 * A fake Dropbox for tests and demos: API v2 RPC (`/api/2/<route>`), content
 * (`/content/2/<route>`), long-poll (`/notify/2/files/list_folder/longpoll`)
 * and OAuth 2 (`/oauth2/authorize`, `/oauth2/token`) on 127.0.0.1, which is
 * what `SYFT_DROPBOX_API=<url>` points a client at. Several users by token,
 * each with its own namespace; shared folders mounted live; viewers refused
 * on write; faults on demand.
 *
 * It follows Dropbox's documented behaviour where a client could otherwise
 * lean on a convenience: errors as 409 with nested `.tag`s and an
 * `error_summary`, plain-text 400 for malformed arguments, case-insensitive
 * and case-preserving paths, a mount renamed `name (1)` on a clash, short-lived
 * access tokens, content hashes checked.
 *
 * Run on its own: `deno task fake-dropbox [--port N] [--user a@x.org]...`
 * prints its URL on the first line, then a JSON line with the app key and a
 * token per user.
 *
 * @example
 * ```ts
 * const dbx = await startFakeDropbox({ users: ["a@x.org"] });
 * const res = await fetch(`${dbx.url}/api/2/users/get_current_account`, {
 *   method: "POST",
 *   headers: { authorization: `Bearer ${dbx.token("a@x.org")}` },
 * });
 * await dbx.close();
 * ```
 * @module
 */
import { DropboxApi } from "./dropbox/_api.ts";
import { DbxError, internalError, notFoundText } from "./dropbox/_errors.ts";
import { type FaultPlan, Faults } from "./dropbox/_faults.ts";
import { OAuth } from "./dropbox/_oauth.ts";
import { Store } from "./dropbox/_store.ts";
import { startFront } from "./gdrive/_front.ts";

export {
  ALL_FAULT_KINDS,
  type DropboxRoute,
  type FaultKind,
  type FaultPlan,
  type ScriptedFault,
} from "./dropbox/_faults.ts";
export { BLOCK_SIZE, dropboxContentHash } from "./dropbox/_hash.ts";
export { s256 } from "./dropbox/_oauth.ts";
export { ALL_SCOPES } from "./dropbox/_oauth.ts";

/** How to start the fake. */
export interface FakeDropboxOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Accounts to create up front. */
  users?: string[];
  /** App keys the OAuth endpoints accept (default: one, {@linkcode DEFAULT_APP_KEY}). */
  appKeys?: string[];
  /** Lifetime of access tokens (default 14400 s, as Dropbox's short-lived tokens). */
  accessTokenTtlSeconds?: number;
  /**
   * Milliseconds one second of a long-poll `timeout` lasts (default 1000), so
   * a test can watch a 30 s long-poll time out in 30 ms × its own scale.
   */
  longpollSecondMs?: number;
  /** Largest file (default 256 MiB). */
  maxFileBytes?: number;
  /** All content together (default 1 GiB). */
  maxTotalBytes?: number;
  /** Most files and folders (default 200,000). */
  maxEntries?: number;
  /** Random faults from the start. */
  faults?: FaultPlan;
}

/** The running fake. */
export interface FakeDropbox {
  /** `http://127.0.0.1:<port>`: what `SYFT_DROPBOX_API` takes. */
  readonly url: string;
  /** The default app key (OAuth `client_id`). */
  readonly appKey: string;
  /** Add an account (idempotent): an access token for it (all scopes) and its account id. */
  addUser(email: string, displayName?: string): { token: string; accountId: string };
  /** A fresh access token for `email` (account added if new; default: every scope, default app). */
  token(email: string, options?: { scopes?: readonly string[]; appKey?: string }): string;
  /** A refresh token for `email` (account added if new), as the token endpoint would have given. */
  refreshToken(email: string, options?: { scopes?: readonly string[]; appKey?: string }): string;
  /** The `dbid:…` account id of `email` (account added if new). */
  accountId(email: string): string;
  /** Who approves the next sign-ins: an e-mail, `"deny"`, or null (the first user). */
  approveAs(who: string | "deny" | null): void;
  /** Revoke all of `email`'s grants: refresh answers `invalid_grant`, API calls 401. */
  revoke(email: string): void;
  /** Make access tokens expire now (all, or `email`'s): API calls answer 401 `expired_access_token`. */
  expireAccessTokens(email?: string): void;
  /** Make every upload session expire (as after Dropbox's 7 days): appends and finishes answer `not_found`. */
  expireUploadSessions(): void;
  /** Open upload sessions, for leak checks. */
  uploadSessionCount(): number;
  /** API calls made by `email`, per route (`files/upload`, …), plus `total`. */
  callCounts(email: string): Record<string, number>;
  /** Forget call counts and injected-fault counts. */
  resetCounts(): void;
  /** Replace the random fault plan (same as `faults.set`). */
  setFaults(plan: FaultPlan): void;
  /** Fault injection. */
  readonly faults: {
    /** Replace the random plan (seeded; see {@linkcode FaultPlan}). */
    set(plan: FaultPlan): void;
    /** Queue a scripted fault, which fires before random ones. */
    script(fault: import("./dropbox/_faults.ts").ScriptedFault): void;
    /** No faults from now on. */
    clear(): void;
    /** Faults injected so far, per kind. */
    injected(): Record<string, number>;
  };
  /** Number of stored files and folders (roots included), for leak checks. */
  entryCount(): number;
  /** Stop listening and drop every connection (pending long-polls included). */
  close(): Promise<void>;
}

/** The app key a fake accepts unless told otherwise. */
export const DEFAULT_APP_KEY = "fakesyftappkey1";

/** Start a fake Dropbox on 127.0.0.1. */
export async function startFakeDropbox(options: FakeDropboxOptions = {}): Promise<FakeDropbox> {
  const store = new Store({
    maxFileBytes: options.maxFileBytes ?? 256 * 1024 * 1024,
    maxTotalBytes: options.maxTotalBytes ?? 1024 * 1024 * 1024,
    maxEntries: options.maxEntries ?? 200_000,
  });
  const appKeys = options.appKeys ?? [DEFAULT_APP_KEY];
  const oauth = new OAuth(store, appKeys, options.accessTokenTtlSeconds ?? 14400);
  const faults = new Faults();
  if (options.faults) faults.set(options.faults);
  for (const u of options.users ?? []) store.addUser(u);

  const ready = Promise.withResolvers<void>();
  // Set once the front is up; requests reach the handler only through the front.
  // deno-lint-ignore prefer-const
  let api: DropboxApi;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    async (req, info) => {
      const url = new URL(req.url);
      try {
        const path = url.pathname;
        if (path === "/oauth2/authorize" && req.method === "GET") return oauth.authorize(url);
        if (path === "/oauth2/token") return await oauth.token(req);
        if (
          path.startsWith("/api/2/") || path.startsWith("/content/2/") ||
          path.startsWith("/notify/2/")
        ) {
          return await api.handle(req, url, info.remoteAddr.port);
        }
        return notFoundText(path).toResponse();
      } catch (err) {
        if (err instanceof DbxError) return err.toResponse();
        return internalError(err).toResponse();
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
  api = new DropboxApi({
    store,
    oauth,
    faults,
    front,
    longpollSecondMs: options.longpollSecondMs ?? 1000,
  });
  const url = `http://127.0.0.1:${front.port}`;
  const appKey = appKeys[0]!;

  return {
    url,
    appKey,
    addUser: (email, displayName) => {
      const user = store.addUser(email, displayName);
      return { token: oauth.mint(user.email, null, appKey), accountId: user.accountId };
    },
    token: (email, o = {}) => {
      const user = store.addUser(email);
      return oauth.mint(user.email, o.scopes ?? null, o.appKey ?? appKey);
    },
    refreshToken: (email, o = {}) => {
      const user = store.addUser(email);
      return oauth.mintRefresh(user.email, o.scopes ?? null, o.appKey ?? appKey);
    },
    accountId: (email) => store.addUser(email).accountId,
    approveAs: (who) => {
      oauth.approver = who === null ? null : who === "deny" ? "deny" : who.toLowerCase();
    },
    revoke: (email) => oauth.revokeUser(email.toLowerCase()),
    expireAccessTokens: (email) => oauth.expireAccessTokens(email?.toLowerCase()),
    expireUploadSessions: () => api.sessions.expireAll(),
    uploadSessionCount: () => api.sessions.size,
    callCounts: (email) => faults.callCounts(email.toLowerCase()),
    resetCounts: () => faults.resetCounts(),
    setFaults: (plan) => faults.set(plan),
    faults: {
      set: (plan) => faults.set(plan),
      script: (fault) => faults.script(fault),
      clear: () => faults.clear(),
      injected: () => faults.injected(),
    },
    entryCount: () => store.entryCount(),
    async close() {
      // Pending long-polls answer `changes: false` and reach their callers; then the sockets go.
      const polls = api.close();
      await server.shutdown();
      if (polls > 0) await new Promise((r) => setTimeout(r, 50)); // the front forwards the answers
      await front.close();
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
      console.error(
        `usage: dropbox_server.ts [--port N] [--user EMAIL]...  (unknown "${args[i]}")`,
      );
      Deno.exit(2);
    }
  }
  if (users.length === 0) users.push("alice@example.org", "bob@example.org");
  const dbx = await startFakeDropbox({ port, users });
  console.log(dbx.url);
  console.log(JSON.stringify({
    api: dbx.url,
    app_key: dbx.appKey,
    tokens: Object.fromEntries(users.map((u) => [u, dbx.token(u)])),
  }));
}
