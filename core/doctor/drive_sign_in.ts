/**
 * `doctor`'s verdict on a Google Drive sign-in, from what the CLI saw when it
 * refreshed the stored token and called `about.get`: the scope must be
 * Drive's full one, the account init's identity, and Drive's clock close to
 * ours (tokens expire, and refresh times are computed, by our clock).
 * @module
 */
import type { CheckResult } from "./checks.ts";

/** What the sign-in probe found. */
export interface DriveSignInFacts {
  /** init's email. */
  identity: string;
  /** Scopes the stored token holds. */
  scope: string;
  /** The account `about.get` named. */
  email: string;
  /** Seconds the refreshed access token has left. */
  expiresInS: number;
  /** Drive's `Date` header (ms), when it sent one. */
  serverTime: number | null;
  now: number;
}

/** Drive's full scope: `drive.file` cannot see folders peers shared. */
export const DRIVE_FULL_SCOPE = "https://www.googleapis.com/auth/drive";

/** Beyond this difference from Drive's clock, expiry and refresh times go wrong. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The `signin`, `scope` and `drive` checks.
 *
 * @example
 * ```ts
 * judgeDriveSignIn({
 *   identity: "a@x.org", email: "a@x.org", scope: DRIVE_FULL_SCOPE,
 *   expiresInS: 3599, serverTime: Date.now(), now: Date.now(),
 * }).every((c) => c.status === "ok"); // true
 * ```
 */
export function judgeDriveSignIn(f: DriveSignInFacts): CheckResult[] {
  const reauth = `syft auth gdrive --client-file <client_secret.json> --email ${f.identity}`;
  const signin: CheckResult = {
    name: "signin",
    status: "ok",
    detail: `Google token refreshed, valid ${Math.max(0, Math.floor(f.expiresInS / 60))} min`,
  };
  const granted = f.scope.split(/\s+/).filter((s) => s !== "");
  const scope: CheckResult = granted.includes(DRIVE_FULL_SCOPE)
    ? { name: "scope", status: "ok", detail: DRIVE_FULL_SCOPE }
    : {
      name: "scope",
      status: "fail",
      detail: `the sign-in lacks ${DRIVE_FULL_SCOPE} (has: ${granted.join(" ") || "nothing"}); ` +
        "channels peers share would stay invisible",
      hint: `${reauth}, and allow access to all of your Google Drive files`,
    };
  const skew = f.serverTime === null ? 0 : f.now - f.serverTime;
  const drive: CheckResult = f.email !== f.identity
    ? {
      name: "drive",
      status: "fail",
      detail: `Google Drive answers as ${f.email}, but syft is initialised as ${f.identity}`,
      hint: `${reauth}, choosing ${f.identity}`,
    }
    : Math.abs(skew) > MAX_CLOCK_SKEW_MS
    ? {
      name: "drive",
      status: "warn",
      detail: `about.get answers as ${f.email}, but our clock is ${
        Math.round(skew / 1000)
      } s off Drive's`,
      hint: "set the system time (enable NTP)",
    }
    : { name: "drive", status: "ok", detail: `about.get answers as ${f.email}` };
  return [signin, scope, drive];
}
