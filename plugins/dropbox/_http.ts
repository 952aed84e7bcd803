/**
 * The one way this plugin reaches Dropbox: the `fetch` given to the SDK and
 * used for downloads. It sends Dropbox's hosts to the configured ones (all
 * to `SYFT_DROPBOX_API` in tests), counts every request, times out a silent
 * one as a dropped connection, and lets one namespace write at a time go out
 * (Dropbox answers concurrent writes to one account with
 * `too_many_write_operations`).
 * @module
 */
import type { DropboxHosts } from "./_env.ts";
import { DropboxError } from "./_backoff.ts";
import { describe } from "./_errors.ts";

/** See {@linkcode DropboxHttp}'s `timeoutMs`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

/** The URLs the SDK builds for Dropbox's own hosts. */
const SDK_PREFIXES = [
  ["https://api.dropboxapi.com/2/", "rpc"],
  ["https://content.dropboxapi.com/2/", "content"],
  ["https://notify.dropboxapi.com/2/", "notify"],
] as const;

/** Counted, routed, timed requests to Dropbox. */
export class DropboxHttp {
  readonly hosts: DropboxHosts;
  /**
   * How long a request may wait for its answer before it counts as dropped
   * (default 20 s, within the host's 30 s call timeout); long-polls pass
   * their own signal instead.
   */
  readonly timeoutMs: number;
  /** Requests sent (every attempt counts), for tests and benchmarks. */
  calls = 0;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(hosts: DropboxHosts, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    this.hosts = hosts;
    this.timeoutMs = timeoutMs;
  }

  /** `url` with Dropbox's host replaced by the configured one. */
  route(url: string): string {
    for (const [prefix, kind] of SDK_PREFIXES) {
      if (url.startsWith(prefix)) return this.hosts[kind] + url.slice(prefix.length);
    }
    return url;
  }

  /**
   * A fetch for the SDK: routed, counted, and failing with a DropboxError of
   * status 0 when no answer comes (refused, reset, timed out). Arrow, so the
   * SDK may call it unbound.
   */
  fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = this.route(typeof input === "string" ? input : input.toString());
    this.calls++;
    const signal = init.signal ?? AbortSignal.timeout(this.timeoutMs);
    try {
      return await fetch(url, { ...init, signal });
    } catch (err) {
      if (err instanceof Error && err.name === "NotCapable") throw err;
      throw new DropboxError(0, "", describe(err), { cause: err });
    }
  };

  /** Run `fn` when no other namespace write of this account is in flight. */
  serialised<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.#writes.then(fn, fn);
    this.#writes = turn.catch(() => {});
    return turn;
  }
}
