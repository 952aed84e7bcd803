/**
 * Retries for Dropbox calls (issue 18 item 5): 429 (`too_many_requests`,
 * `too_many_write_operations`), 5xx and dropped connections are retried with
 * full jitter (1 s base, 32 s cap, 8 tries in all), waiting at least what
 * `Retry-After` asks; every other failure is final at once, with Dropbox's
 * `error_summary` in the message. Clock and randomness are injected so tests
 * prove the schedule without waiting for it.
 * @module
 */
import { SyftError } from "../../core/errors/mod.ts";
import { type BackoffPolicy, DEFAULT_BACKOFF, delayMs } from "../_backoff_policy.ts";

export {
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  delayMs,
  parseRetryAfter,
} from "../_backoff_policy.ts";
import { DROPBOX_SIGN_IN_HINT } from "./_tokens.ts";

/** A failed exchange with Dropbox, parsed once from whatever raised it. */
export class DropboxError extends Error {
  /** HTTP status, or 0 when no answer came (connection dropped, refused, reset, timed out). */
  readonly status: number;
  /**
   * Dropbox's `error_summary` (e.g. `path/not_found/..`), the 401/429 error
   * tag (`expired_access_token`, `too_many_write_operations`), or "".
   */
  readonly summary: string;
  /** The parsed `error` member of Dropbox's JSON answer, for callers that look inside. */
  readonly error: unknown;
  /** How long Dropbox asked us to wait (`Retry-After` or `retry_after`), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    status: number,
    summary: string,
    message: string,
    options: { error?: unknown; retryAfterMs?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DropboxError";
    this.status = status;
    this.summary = summary;
    this.error = options.error;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Whether the summary starts with `prefix` (Dropbox's summaries are `/`-separated tags). */
  is(prefix: string): boolean {
    return this.summary === prefix || this.summary.startsWith(`${prefix}/`) ||
      this.summary.startsWith(`${prefix}.`);
  }

  /**
   * Whether `tag` appears anywhere in the error's nested unions (e.g.
   * `conflict` inside an upload's `path.reason`), where a summary may not
   * spell it out.
   */
  hasTag(tag: string): boolean {
    if (this.summary.split("/").includes(tag)) return true;
    const seen = (value: unknown, depth: number): boolean => {
      if (depth > 6 || typeof value !== "object" || value === null) return false;
      const record = value as Record<string, unknown>;
      if (record[".tag"] === tag) return true;
      return Object.values(record).some((v) => seen(v, depth + 1));
    };
    return seen(this.error, 0);
  }
}

/** True when sending the same request again later may succeed. */
export function isRetryable(err: DropboxError): boolean {
  return err.status === 0 || err.status === 429 || err.status >= 500;
}

/** What {@linkcode withBackoff} tells its caller between attempts. */
export interface RetryHooks {
  /**
   * Runs before each retry. A create uses it to see whether the failed
   * attempt happened after all; a value ends the retries with that value.
   */
  beforeRetry?: ((err: DropboxError) => Promise<unknown>) | undefined;
}

/**
 * Run `attempt` until it succeeds, fails for good, or the tries run out.
 * `attempt` throws DropboxError for HTTP failures (anything else is final);
 * final failures become `E_TRANSPORT` naming `op` and Dropbox's summary.
 */
export async function withBackoff<T>(
  op: string,
  attempt: (n: number) => Promise<T>,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  hooks: RetryHooks = {},
): Promise<T> {
  for (let n = 0;; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof DropboxError)) throw err;
      if (!isRetryable(err) || n + 1 >= policy.tries) throw transportError(op, err, n + 1);
      await policy.sleep(delayMs(policy, n, err.retryAfterMs));
      if (hooks.beforeRetry) {
        const found = await hooks.beforeRetry(err);
        if (found !== undefined) return found as T;
      }
    }
  }
}

/** The user-facing error for a Dropbox failure during `op`. */
export function transportError(op: string, err: DropboxError, tries = 1): SyftError {
  const what = err.status === 0 ? "no answer" : `HTTP ${err.status}`;
  const summary = err.summary ? ` ${err.summary}` : "";
  const after = tries > 1 ? ` after ${tries} tries` : "";
  const detail = err.message && err.message !== err.summary ? `: ${err.message}` : "";
  return new SyftError(
    "E_TRANSPORT",
    `dropbox transport failed during ${op}: ${what}${summary}${after}${detail}`.slice(0, 600),
    {
      hint: isRetryable(err)
        ? "Dropbox is busy or unreachable; the next round tries again"
        : err.status === 401
        ? DROPBOX_SIGN_IN_HINT
        : undefined,
      cause: err,
    },
  );
}
