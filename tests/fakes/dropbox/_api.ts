/**
 * The API front of the fake: finds the route for a host and path, checks
 * the method, the token and its scopes, counts the call, injects its fault,
 * reads the argument and runs the route. Results go out as JSON (RPC and
 * uploads) or as bytes with `Dropbox-API-Result` (downloads).
 * @module
 */
import type { Front } from "../gdrive/_front.ts";
import {
  authError,
  badInput,
  currentRoute,
  DbxError,
  notFoundText,
  rateLimited,
  requestId,
  serverError,
} from "./_errors.ts";
import { type DropboxRoute, type FaultKind, type Faults, WRITE_ROUTES } from "./_faults.ts";
import { fileRoutes } from "./_files.ts";
import { listingRoutes, Listings } from "./_listing.ts";
import type { Caller, OAuth } from "./_oauth.ts";
import { readSome } from "../gdrive/_request.ts";
import { type Arg, contentArg, rpcArg } from "./_request.ts";
import { sessionRoutes, UploadSessions } from "./_sessions.ts";
import { sharingRoutes } from "./_sharing.ts";
import type { Store, User } from "./_store.ts";
import { fullAccount } from "./_views.ts";

/** What the API needs of the rest of the fake. */
export interface ApiContext {
  store: Store;
  oauth: OAuth;
  faults: Faults;
  front: Front;
  longpollSecondMs: number;
}

/** One call, as a route sees it. */
export interface Call {
  user: User;
  caller: Caller;
  arg: Arg;
  req: Request;
  url: URL;
  /** The connection to cut midway through a download's body (a `drop` fault), else null. */
  cut: number | null;
}

/** How a route is served. */
export interface RouteSpec {
  host: "api" | "content" | "notify";
  /** The scope a token needs (null: any valid token). */
  scope: string | null;
  /** False for routes whose argument is void (`null` or no body). */
  takesArg: boolean;
  /** A JSON-able result, or a whole Response (downloads). */
  run(c: Call): Promise<unknown> | unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Dropbox side of the fake. */
export class DropboxApi {
  readonly sessions: UploadSessions;
  readonly listings: Listings;
  readonly #routes: Map<string, RouteSpec>;
  /** Writes in progress per user, for `writeContention`. */
  readonly #writing = new Map<string, number>();

  constructor(private readonly ctx: ApiContext) {
    this.sessions = new UploadSessions(ctx.store);
    this.listings = new Listings(ctx.store, ctx.faults, ctx.longpollSecondMs);
    this.#routes = new Map<string, RouteSpec>(Object.entries(
      {
        "users/get_current_account": {
          host: "api",
          scope: "account_info.read",
          takesArg: false,
          run: (c: Call) => fullAccount(c.user),
        },
        "auth/token/revoke": {
          host: "api",
          scope: null,
          takesArg: false,
          run: (c: Call) => {
            const bearer = /^Bearer\s+(\S+)$/i.exec(
              c.req.headers.get("authorization") ?? c.url.searchParams.get("authorization") ?? "",
            )?.[1];
            if (bearer) ctx.oauth.revokeToken(bearer);
            return null;
          },
        },
        "check/user": {
          host: "api",
          scope: "account_info.read",
          takesArg: true,
          run: (c: Call) => {
            const q = c.arg.query ?? "";
            if (typeof q !== "string") throw badInput("request body: query: expected string");
            return { result: q };
          },
        },
        ...fileRoutes(ctx.store, ctx.front),
        ...sessionRoutes(ctx.store, this.sessions),
        ...listingRoutes(this.listings),
        ...sharingRoutes(ctx.store),
      } satisfies Record<string, RouteSpec>,
    ));
  }

  /** Wake pending long-polls so the server can shut down; how many there were. */
  close(): number {
    return this.listings.close();
  }

  /** Handle one API request; `key` names its connection for faults that cut it. */
  async handle(req: Request, url: URL, key: number): Promise<Response> {
    const [, host, , ...rest] = url.pathname.split("/");
    const name = rest.join("/");
    const spec = this.#routes.get(name);
    const wantHost = host === "api" ? "api" : host === "content" ? "content" : "notify";
    if (!spec || spec.host !== wantHost) throw notFoundText(url.pathname);
    currentRoute.value = name;
    if (req.method === "OPTIONS") return new Response(null, { status: 200 });
    // Content-download routes also answer GET, as Dropbox documents (with `?arg=`).
    const get = req.method === "GET" && name === "files/download";
    if (req.method !== "POST" && !get) {
      throw new DbxError(405, `Error in call to API function "${name}": Expecting POST.`);
    }
    const route = name as DropboxRoute;
    if (spec.host === "notify") {
      // No token here: the cursor says whose call it is.
      const poll = this.listings.pollArg((await rpcArg(req, true))!);
      const fault = await this.#fault(route, poll.user.email, req, key, spec);
      if (fault instanceof Response) return fault;
      return this.#lose(fault, key, Response.json(await this.listings.longpoll(poll)));
    }
    const caller = this.#authenticate(req, url, spec);
    const fault = await this.#fault(route, caller.user.email, req, key, spec);
    if (fault instanceof Response) return fault;
    const arg = spec.host === "content"
      ? contentArg(req, url)
      : (await rpcArg(req, spec.takesArg)) ?? {};
    const cut = fault === "drop" ? key : null;
    const email = caller.user.email;
    const locks = this.ctx.faults.plan.writeContention && WRITE_ROUTES.has(route);
    if (locks && (this.#writing.get(email) ?? 0) > 0) {
      await req.body?.cancel();
      throw rateLimited("too_many_write_operations", this.ctx.faults.plan.retryAfterSeconds ?? 1);
    }
    if (locks) this.#writing.set(email, (this.#writing.get(email) ?? 0) + 1);
    let result: unknown;
    try {
      result = await spec.run({ user: caller.user, caller, arg, req, url, cut });
    } finally {
      if (locks) this.#writing.set(email, this.#writing.get(email)! - 1);
    }
    const response = result instanceof Response ? result : Response.json(result ?? null, {
      headers: { "x-dropbox-request-id": requestId() },
    });
    return await this.#lose(fault, key, response);
  }

  /** With a `lose-response` fault the call is done, but the caller never hears of it. */
  async #lose(fault: FaultKind | null, key: number, response: Response): Promise<Response> {
    if (fault !== "lose-response") return response;
    await response.body?.cancel();
    this.ctx.front.drop(key);
    return new Response(null, { status: 499 });
  }

  /**
   * Count the call and apply its fault: throws the error ones, waits out
   * latency, cuts the connection for `drop` (returning the response nobody
   * reads). Returns the fault still to apply after the call (`drop` of a
   * download, `lose-response`), if any.
   */
  async #fault(
    route: DropboxRoute,
    email: string,
    req: Request,
    key: number,
    spec: RouteSpec,
  ): Promise<Response | FaultKind | null> {
    const { faults, front } = this.ctx;
    const fault = faults.next(route, email);
    const plan = faults.plan;
    switch (fault) {
      case "429":
        throw rateLimited("too_many_requests", plan.retryAfterSeconds ?? 1);
      case "429-write":
        throw rateLimited(
          WRITE_ROUTES.has(route) ? "too_many_write_operations" : "too_many_requests",
          plan.retryAfterSeconds ?? 1,
        );
      case "500":
        throw serverError(500);
      case "503":
        throw serverError(503);
      case "latency":
        await sleep(plan.latencyMs ?? 50);
        return null;
      case "drop":
        if (route === "files/download") return fault;
        if (spec.host === "content") {
          // An upload cut midway: part of the body arrived, nothing was done.
          const length = Number(req.headers.get("content-length") ?? "0");
          await readSome(req, Math.floor(length / 2));
        }
        front.drop(key);
        return new Response(null, { status: 499 });
    }
    return fault;
  }

  #authenticate(req: Request, url: URL, spec: RouteSpec): Caller {
    const header = req.headers.get("authorization") ?? url.searchParams.get("authorization");
    if (header === null) {
      throw badInput(`Must provide HTTP header "Authorization" or URL parameter "authorization".`);
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!bearer) {
      throw badInput(
        `Invalid authorization value in HTTP header/URL parameter "Authorization": "${
          header.slice(0, 40)
        }".  Expecting "Bearer <oauth2-access-token>".`,
      );
    }
    const caller = this.ctx.oauth.caller(bearer);
    if (caller === "invalid") throw authError("invalid_access_token");
    if (caller === "expired") throw authError("expired_access_token");
    if (spec.scope !== null && !caller.scopes.has(spec.scope)) {
      throw authError("missing_scope", { required_scope: spec.scope });
    }
    return caller;
  }
}
