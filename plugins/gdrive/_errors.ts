/**
 * Drive's failures, parsed once: an HTTP answer, an error the Google library
 * threw, or a request the Worker's grant refused, each becomes a
 * {@linkcode DriveError} (status, Drive's reason, Retry-After) or a final
 * SyftError.
 * @module
 */
import { DriveError, parseRetryAfter } from "./_backoff.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { isRecord } from "../../core/encoding/record.ts";

/** An error body never needs more than this to be understood. */
const MAX_ERROR_BYTES = 16 * 1024;

/** Read a JSON answer, or throw the DriveError it stands for. */
export async function jsonOf(response: Response): Promise<unknown> {
  if (!response.ok) await throwFor(response);
  try {
    return await response.json();
  } catch (err) {
    throw new DriveError(0, "", `unreadable answer: ${describe(err)}`, { cause: err });
  }
}

/** Throw the DriveError a failed response stands for (Drive's error JSON parsed). */
export async function throwFor(response: Response): Promise<never> {
  let text = "";
  try {
    text = (await response.text()).slice(0, MAX_ERROR_BYTES);
  } catch {
    // the body broke off: the status alone will do
  }
  let data: unknown = null;
  try {
    data = JSON.parse(text);
  } catch {
    // not JSON
  }
  const { reason, message } = errorBody(data, text || response.statusText);
  throw new DriveError(response.status, reason, message, {
    retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
  });
}

/** Drive's error shape: `{"error":{"code","message","errors":[{"reason","domain","message"}]}}`. */
export function errorBody(data: unknown, fallback: string): { reason: string; message: string } {
  const error = isRecord(data) && isRecord(data.error) ? data.error : null;
  if (!error) {
    // OAuth-style {"error": "invalid_grant"} or plain text
    if (isRecord(data) && typeof data.error === "string") {
      return { reason: data.error, message: String(data.error_description ?? data.error) };
    }
    return { reason: "", message: fallback.slice(0, 200) };
  }
  const first = Array.isArray(error.errors) && isRecord(error.errors[0]) ? error.errors[0] : {};
  const reason = typeof first.reason === "string"
    ? first.reason
    : typeof error.status === "string"
    ? error.status
    : "";
  const message = typeof error.message === "string" ? error.message : fallback;
  return { reason, message: message.slice(0, 500) };
}

/** Turn whatever the library threw (a GaxiosError, mostly) into a DriveError. */
export function fromLibraryError(err: unknown): DriveError {
  if (err instanceof DriveError) return err;
  const e = isRecord(err) ? err : {};
  const response = isRecord(e.response) ? e.response : null;
  const status = response && typeof response.status === "number" ? response.status : 0;
  if (status === 0) return new DriveError(0, "", describe(err), { cause: err });
  let data: unknown = response?.data;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch {
      // keep the text
    }
  }
  const { reason, message } = errorBody(data, typeof data === "string" ? data : describe(err));
  const headers = response?.headers;
  const retryAfter = headers instanceof Headers
    ? headers.get("retry-after")
    : isRecord(headers) && typeof headers["retry-after"] === "string"
    ? headers["retry-after"]
    : null;
  return new DriveError(status, reason, message, {
    retryAfterMs: parseRetryAfter(retryAfter),
    cause: err,
  });
}

/**
 * A request the Worker's grant does not allow (e.g. Drive redirected to a
 * host outside it) is not a network failure to retry: say which host.
 */
export function notCapable(err: unknown, op: string): SyftError | null {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    if (e.name === "NotCapable") {
      return new SyftError(
        "E_TRANSPORT",
        `gdrive transport failed during ${op}: the Worker may not reach that host (${e.message})`,
        {
          hint:
            "the plugin may reach only the Drive API host and the OAuth token host; report this",
          cause: err,
        },
      );
    }
    e = e.cause;
  }
  return null;
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** True for Drive's 404 as our errors carry it: the file is gone, or we may not see it. */
export function isNotFound(err: unknown): boolean {
  return err instanceof SyftError && err.cause instanceof DriveError && err.cause.status === 404;
}
