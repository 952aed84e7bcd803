/**
 * Error responses in the shapes Dropbox sends: route errors as 409 with
 * `{error_summary, error: {".tag": …}}` (nested tags and the summary's
 * trailing `/…` as documented), malformed input as 400 plain text, auth as
 * 401 JSON, rate limits as 429 with `Retry-After`.
 * @module
 */

/** A thrown Dropbox error; the router turns it into a response. */
export class DbxError extends Error {
  constructor(
    readonly status: number,
    /** A JSON body, or plain text (400s and 5xx). */
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === "string" ? body : JSON.stringify(body));
  }

  /** Dropbox's response, with a request id as every real answer has. */
  toResponse(): Response {
    const headers = { "x-dropbox-request-id": requestId(), ...this.headers };
    if (typeof this.body === "string") {
      return new Response(this.body, {
        status: this.status,
        headers: { "content-type": "text/plain; charset=utf-8", ...headers },
      });
    }
    return Response.json(this.body, { status: this.status, headers });
  }
}

/** A random request id, as the `X-Dropbox-Request-Id` header carries. */
export function requestId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** A tagged union value: `{".tag": tag, ...fields}`. */
export type Tagged = { ".tag": string; [k: string]: unknown };

/**
 * The `error_summary` Dropbox derives from a route error: each nested tag
 * followed by `/`, then `..` and a few random characters (clients must match
 * prefixes, never the whole string).
 */
export function summaryOf(error: Tagged): string {
  const parts: string[] = [];
  let at: unknown = error;
  while (at !== null && typeof at === "object" && ".tag" in at) {
    const tag = (at as Tagged)[".tag"];
    parts.push(tag);
    // A union's value sits under its tag; UploadWriteFailed keeps its WriteError in `reason`.
    at = (at as Tagged)[tag] ?? (at as Tagged).reason;
  }
  return `${parts.join("/")}/..${Math.random().toString(36).slice(2, 5)}`;
}

/** 409: a route's own error, `error` being the route's error union. */
export function routeError(error: Tagged, extraHeaders: Record<string, string> = {}): DbxError {
  return new DbxError(409, { error_summary: summaryOf(error), error }, extraHeaders);
}

/** 409 `path/<reason>/` (LookupError or WriteError under a `path` tag). */
export function pathError(reason: Tagged, tag = "path"): DbxError {
  return routeError({ ".tag": tag, [tag]: reason });
}

/** LookupError `not_found`. */
export const NOT_FOUND: Tagged = { ".tag": "not_found" };
/** LookupError `not_file`. */
export const NOT_FILE: Tagged = { ".tag": "not_file" };
/** LookupError `not_folder`. */
export const NOT_FOLDER: Tagged = { ".tag": "not_folder" };
/** WriteError `no_write_permission`. */
export const NO_WRITE_PERMISSION: Tagged = { ".tag": "no_write_permission" };

/** WriteError `conflict/<file|folder|file_ancestor>`. */
export function conflict(kind: "file" | "folder" | "file_ancestor"): Tagged {
  return { ".tag": "conflict", conflict: { ".tag": kind } };
}

/** WriteError `malformed_path` (the documented tag has an optional message). */
export function malformedPath(): Tagged {
  return { ".tag": "malformed_path" };
}

/** 400 plain text, as Dropbox answers an argument it cannot parse or validate. */
export function badInput(message: string): DbxError {
  return new DbxError(400, `Error in call to API function "${currentRoute.value}": ${message}`);
}

/** The route being served, for 400 messages (requests are handled one at a time per call). */
export const currentRoute = { value: "" };

/** 401 with `{"error": {".tag": tag}}`. */
export function authError(
  tag: "invalid_access_token" | "expired_access_token" | "missing_scope" | "user_suspended",
  extra: Record<string, unknown> = {},
): DbxError {
  const error = { ".tag": tag, ...extra };
  return new DbxError(401, { error_summary: `${tag}/`, error });
}

/**
 * 429 with auth.RateLimitError (a struct, so no `.tag` at its top):
 * `{"reason": {".tag": …}, "retry_after": n}`, and `Retry-After`.
 */
export function rateLimited(
  reason: "too_many_requests" | "too_many_write_operations",
  retryAfter: number,
): DbxError {
  return new DbxError(429, {
    error_summary: `${reason}/..`,
    error: { reason: { ".tag": reason }, retry_after: retryAfter },
  }, { "retry-after": String(retryAfter) });
}

/** 500 / 503 plain text, as Dropbox's front ends answer. */
export function serverError(status: 500 | 503): DbxError {
  return new DbxError(status, status === 503 ? "Service Unavailable" : "Internal Server Error", {
    ...(status === 503 ? { "retry-after": "1" } : {}),
  });
}

/** A bug in the fake, as a 500. */
export function internalError(err: unknown): DbxError {
  const message = err instanceof Error ? err.message : String(err);
  return new DbxError(500, `Fake Dropbox failure: ${message}`);
}

/** An unknown endpoint: 404 plain text. */
export function notFoundText(path: string): DbxError {
  return new DbxError(404, `Unknown API function: "${path}"`);
}

/** An OAuth endpoint error: `{"error","error_description"}`. */
export function oauthError(status: number, error: string, description: string): Response {
  return Response.json({ error, error_description: description }, { status });
}
