/**
 * Dropbox's failures, parsed once: an HTTP answer, an error the SDK threw, or
 * a request the Worker's grant refused, each becomes a {@linkcode DropboxError}
 * (status, summary, Retry-After) or a final SyftError. Dropbox answers 409
 * with `{"error_summary": "path/not_found/..", "error": {".tag": …}}`, 401 and
 * 429 with an `error` whose tag (or `reason` tag) says why, and 400/5xx often
 * with plain text.
 * @module
 */
import { DropboxError } from "./_backoff.ts";
import { parseRetryAfter } from "../_backoff_policy.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { isRecord } from "../../core/encoding/record.ts";

/** An error body never needs more than this to be understood. */
const MAX_ERROR_BYTES = 16 * 1024;

/** Throw the DropboxError a failed response stands for. */
export async function throwFor(response: Response): Promise<never> {
  let text = "";
  try {
    text = (await response.text()).slice(0, MAX_ERROR_BYTES);
  } catch {
    // the body broke off: the status alone will do
  }
  throw errorFrom(response.status, response.headers.get("retry-after"), text);
}

/** A DropboxError from a status, a `Retry-After` header and a body (JSON or text). */
export function errorFrom(status: number, retryAfter: string | null, body: unknown): DropboxError {
  let data: unknown = body;
  if (typeof body === "string") {
    try {
      data = JSON.parse(body);
    } catch {
      // plain text
    }
  }
  const { summary, error, retryAfterSeconds } = errorBody(data);
  const message = summary !== ""
    ? summary
    : typeof data === "string"
    ? data.replace(/\s+/g, " ").trim().slice(0, 300)
    : "";
  return new DropboxError(status, summary, message, {
    error,
    retryAfterMs: parseRetryAfter(retryAfter) ??
      (retryAfterSeconds === undefined ? undefined : retryAfterSeconds * 1000),
  });
}

/**
 * The summary of Dropbox's error JSON: `error_summary` when present, else the
 * tag of `error` or of `error.reason` (401 and 429 answers), else "".
 */
export function errorBody(
  data: unknown,
): { summary: string; error: unknown; retryAfterSeconds: number | undefined } {
  if (!isRecord(data)) return { summary: "", error: undefined, retryAfterSeconds: undefined };
  const error = data.error;
  let summary = typeof data.error_summary === "string" ? data.error_summary.slice(0, 300) : "";
  if (summary === "" && isRecord(error)) {
    const tag = tagOf(error) ?? (isRecord(error.reason) ? tagOf(error.reason) : undefined);
    if (tag !== undefined) summary = tag;
  }
  if (summary === "" && typeof error === "string") summary = error.slice(0, 100); // OAuth style
  const retry = isRecord(error) ? error.retry_after : undefined;
  const retryAfterSeconds = typeof retry === "number" && retry >= 0 ? retry : undefined;
  return { summary, error, retryAfterSeconds };
}

/** The `.tag` of a Dropbox union value, if it has one. */
export function tagOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value[".tag"] === "string" ? value[".tag"] : undefined;
}

/** Turn whatever the SDK threw (a DropboxResponseError, mostly) into a DropboxError. */
export function fromSdkError(err: unknown): DropboxError {
  if (err instanceof DropboxError) return err;
  const e = isRecord(err) ? err : {};
  if (e.name === "DropboxResponseError" && typeof e.status === "number") {
    const headers = e.headers;
    const retryAfter = headers instanceof Headers ? headers.get("retry-after") : null;
    return errorFrom(e.status, retryAfter, e.error);
  }
  return new DropboxError(0, "", describe(err), { cause: err });
}

/**
 * A request the Worker's grant does not allow (e.g. a redirect to a host
 * outside it) is no network failure to retry: say which host.
 */
export function notCapable(err: unknown, op: string): SyftError | null {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    if (e.name === "NotCapable") {
      return new SyftError(
        "E_TRANSPORT",
        `dropbox transport failed during ${op}: the Worker may not reach that host (${e.message})`,
        { hint: "the plugin may reach only Dropbox's API hosts; report this", cause: err },
      );
    }
    e = e.cause;
  }
  return null;
}

/** `Name: message` of a thrown value. */
export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
