/**
 * Error responses in the shapes Google sends, so a client's error parsing is
 * exercised as it will be against the real service.
 * @module
 */

/** One entry of Drive's `error.errors` list. */
export interface DriveErrorDetail {
  reason: string;
  domain?: string;
  location?: string;
  locationType?: string;
}

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  413: "OUT_OF_RANGE",
  416: "OUT_OF_RANGE",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** A thrown Drive error; the router turns it into a response. */
export class DriveError extends Error {
  constructor(
    readonly status: number,
    readonly detail: DriveErrorDetail,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** `{"error":{"code","message","errors":[{message,domain,reason,...}],"status"}}`. */
  toResponse(): Response {
    const body = {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: this.detail.domain ?? "global", ...this.detail }],
        ...(STATUS_NAMES[this.status] ? { status: STATUS_NAMES[this.status] } : {}),
      },
    };
    return Response.json(body, { status: this.status, headers: this.headers });
  }
}

/** 404 `notFound`: Drive's answer both for a missing file and one the caller may not see. */
export function notFound(fileId: string): DriveError {
  return new DriveError(404, {
    reason: "notFound",
    location: "fileId",
    locationType: "parameter",
  }, `File not found: ${fileId}.`);
}

/** 400 `invalid` on a named query parameter. */
export function invalidParameter(location: string, message = "Invalid Value"): DriveError {
  return new DriveError(400, { reason: "invalid", location, locationType: "parameter" }, message);
}

/** 400 `badRequest` for a malformed body or header. */
export function badRequest(message: string): DriveError {
  return new DriveError(400, { reason: "badRequest" }, message);
}

/** 403 `insufficientFilePermissions`: visible, but not writable by the caller. */
export function insufficientFilePermissions(): DriveError {
  return new DriveError(
    403,
    { reason: "insufficientFilePermissions" },
    "The user does not have sufficient permissions for this file.",
  );
}

/** 401 as Google sends it, with the `WWW-Authenticate` header. */
export function unauthenticated(missing: boolean): DriveError {
  return missing
    ? new DriveError(
      401,
      {
        reason: "required",
        location: "Authorization",
        locationType: "header",
      },
      "Login Required.",
      { "www-authenticate": 'Bearer realm="https://accounts.google.com/"' },
    )
    : new DriveError(
      401,
      {
        reason: "authError",
        location: "Authorization",
        locationType: "header",
      },
      "Invalid Credentials",
      {
        "www-authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"',
      },
    );
}

/** 403 for a token whose scopes do not cover the call. */
export function insufficientScopes(): DriveError {
  return new DriveError(
    403,
    { reason: "insufficientPermissions" },
    "Request had insufficient authentication scopes.",
    {
      "www-authenticate":
        'Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="https://www.googleapis.com/auth/drive"',
    },
  );
}

/** An OAuth endpoint error: `{"error","error_description"}`. */
export function oauthError(status: number, error: string, description: string): Response {
  return Response.json({ error, error_description: description }, { status });
}

/** 403 `storageQuotaExceeded`: the fake's memory bounds, as Drive's quota. */
export function quotaExceeded(): DriveError {
  return new DriveError(
    403,
    { reason: "storageQuotaExceeded" },
    "The user's Drive storage quota has been exceeded.",
  );
}
