/**
 * `doctor`'s verdict on a Dropbox sign-in, from what the CLI saw when it
 * refreshed the stored token and called `users/get_current_account`: the
 * token must hold every scope syft uses (an app whose Permissions tab lacks
 * one fails later, mid-round, on the first call that needs it), the account
 * must be init's identity, and Dropbox's clock close to ours (refresh times
 * are computed by our clock).
 * @module
 */
import type { CheckResult } from "./checks.ts";
import { MAX_CLOCK_SKEW_MS } from "./drive_sign_in.ts";

/** What the sign-in probe found. */
export interface DropboxSignInFacts {
  /** init's email. */
  identity: string;
  /** Scopes the stored token holds. */
  scope: string;
  /** The scopes syft needs. */
  needed: readonly string[];
  /** The account `get_current_account` named. */
  email: string;
  accountId: string;
  /** Seconds the refreshed access token has left. */
  expiresInS: number;
  /** Dropbox's `Date` header (ms), when it sent one. */
  serverTime: number | null;
  now: number;
}

/**
 * The `signin`, `scope` and `dropbox` checks.
 *
 * @example
 * ```ts
 * judgeDropboxSignIn({
 *   identity: "a@x.org", email: "a@x.org", accountId: "dbid:A", scope: "s", needed: ["s"],
 *   expiresInS: 14399, serverTime: Date.now(), now: Date.now(),
 * }).every((c) => c.status === "ok"); // true
 * ```
 */
export function judgeDropboxSignIn(f: DropboxSignInFacts): CheckResult[] {
  const reauth = `syft auth dropbox --email ${f.identity}`;
  const signin: CheckResult = {
    name: "signin",
    status: "ok",
    detail: `Dropbox token refreshed, valid ${Math.max(0, Math.floor(f.expiresInS / 60))} min`,
  };
  const granted = new Set(f.scope.split(/\s+/).filter((s) => s !== ""));
  const missing = f.needed.filter((s) => !granted.has(s));
  const scope: CheckResult = missing.length === 0
    ? { name: "scope", status: "ok", detail: f.needed.join(" ") }
    : {
      name: "scope",
      status: "fail",
      detail: `the Dropbox sign-in lacks ${missing.join(", ")}; rounds would fail on the ` +
        "first call that needs it",
      hint: `tick ${missing.join(", ")} in your app's Permissions tab ` +
        `(https://www.dropbox.com/developers/apps), then ${reauth}`,
    };
  const skew = f.serverTime === null ? 0 : f.now - f.serverTime;
  const dropbox: CheckResult = f.email !== f.identity
    ? {
      name: "dropbox",
      status: "fail",
      detail: `Dropbox answers as ${f.email}, but syft is initialised as ${f.identity}`,
      hint: `${reauth}, signed in to dropbox.com as ${f.identity}`,
    }
    : Math.abs(skew) > MAX_CLOCK_SKEW_MS
    ? {
      name: "dropbox",
      status: "warn",
      detail: `get_current_account answers as ${f.email}, but our clock is ${
        Math.round(skew / 1000)
      } s off Dropbox's`,
      hint: "set the system time (enable NTP)",
    }
    : {
      name: "dropbox",
      status: "ok",
      detail: `get_current_account answers as ${f.email} (${f.accountId})`,
    };
  return [signin, scope, dropbox];
}
