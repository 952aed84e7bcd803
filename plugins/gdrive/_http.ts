/**
 * The one way this plugin talks to Drive: every request waits for the rate
 * limiter, carries a fresh access token, and times out as a dropped
 * connection when no answer comes; a 401 refreshes the token and tries once
 * more. The metadata client, uploads and downloads all go through it.
 * @module
 */
import { DriveError } from "./_backoff.ts";
import { describe, notCapable } from "./_errors.ts";
import type { TokenBucket } from "./_rate.ts";
import type { TokenSource } from "./_tokens.ts";

/** See {@linkcode DriveHttp}'s `timeoutMs`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

/** Authorised, rate-limited requests to Drive. */
export class DriveHttp {
  readonly tokens: TokenSource;
  readonly #rate: TokenBucket;
  /**
   * How long a request may wait for its answer, and a download for its next
   * bytes, before it counts as dropped (default 20 s, within the host's 30 s
   * call timeout).
   */
  readonly timeoutMs: number;
  /** Requests sent (every attempt counts), for tests and benchmarks. */
  calls = 0;

  constructor(tokens: TokenSource, rate: TokenBucket, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    this.tokens = tokens;
    this.#rate = rate;
    this.timeoutMs = timeoutMs;
  }

  /** Wait for the rate limiter, count the request, and return the token to send. */
  async admit(): Promise<string> {
    await this.#rate.take();
    this.calls++;
    return await this.tokens.accessToken();
  }

  /**
   * A raw request: rate-limited and authorised (a 401 refreshes the token and
   * tries once more; every body we send can be sent twice); a dropped
   * connection is a DriveError with status 0.
   */
  async fetch(op: string, url: string, init: RequestInit): Promise<Response> {
    const once = async (): Promise<Response> => {
      const token = await this.admit();
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${token}`);
      // A request that hangs (a half-open connection) counts as dropped; the
      // timer runs until the answer's headers arrive, bodies have their own.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), this.timeoutMs);
      try {
        return await fetch(url, { ...init, headers, signal: abort.signal });
      } catch (err) {
        throw notCapable(err, op) ?? new DriveError(0, "", describe(err), { cause: err });
      } finally {
        clearTimeout(timer);
      }
    };
    const response = await once();
    if (response.status !== 401) return response;
    await response.body?.cancel();
    this.tokens.invalidate();
    return await once();
  }
}
