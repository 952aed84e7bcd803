/**
 * The Dropbox sign-in as `init` and `doctor` use it: there must be one (init
 * runs it when it can ask), and Dropbox must answer as init's identity.
 * @module
 */
import { parseAppKey } from "../core/auth/dropbox_oauth.ts";
import type { Config } from "../core/config/config.ts";
import { homeLayout } from "../core/config/home.ts";
import type { CheckResult } from "../core/doctor/checks.ts";
import { judgeDropboxSignIn } from "../core/doctor/dropbox_sign_in.ts";
import { describeError, SyftError } from "../core/errors/mod.ts";
import {
  checkStoredDropboxSignIn,
  DROPBOX_SCOPES,
  hasStoredDropboxSignIn,
} from "../plugins/dropbox/sign_in.ts";
import { signInDropbox } from "./auth_dropbox.ts";
import type { Context } from "./context.ts";

/**
 * Make sure a sign-in is stored: at a terminal, ask for the app key and sign
 * in now; otherwise say how to.
 * @throws {SyftError} `E_TRANSPORT` (exit 4) with the sign-in command as hint.
 */
export async function ensureDropboxSignIn(ctx: Context, email: string): Promise<void> {
  const { credentials } = homeLayout(ctx.home);
  if (await hasStoredDropboxSignIn(credentials)) return;
  const how = `syft auth dropbox --app-key <your app key> --email ${email}`;
  if (!ctx.interactive) {
    throw new SyftError("E_TRANSPORT", "not signed in to Dropbox", { hint: how });
  }
  ctx.out.note('Not signed in to Dropbox yet (see README, "Dropbox").');
  const key = prompt("Your Dropbox app's App key:")?.trim();
  if (!key) throw new SyftError("E_TRANSPORT", "not signed in to Dropbox", { hint: how });
  await signInDropbox(ctx, { appKey: parseAppKey(key), email, browser: true });
}

/**
 * Dropbox's `get_current_account` must name `email`.
 * @throws {SyftError} `E_PERMISSION` (exit 3) for another account,
 * `E_TRANSPORT` (exit 4) when the sign-in is revoked or Dropbox unreachable.
 */
export async function requireDropboxAccount(home: string, email: string): Promise<void> {
  const { who } = await checkStoredDropboxSignIn(homeLayout(home).credentials);
  if (who.account.email !== email) {
    throw new SyftError(
      "E_PERMISSION",
      `Dropbox is signed in as ${who.account.email}, not ${email}`,
      { hint: `sign in as ${email}: syft auth dropbox --email ${email}` },
    );
  }
}

/** doctor's `signin`, `scope` and `dropbox` checks for a dropbox config. */
export async function dropboxDoctorChecks(home: string, config: Config): Promise<CheckResult[]> {
  try {
    // A forced refresh: proves the refresh token still works, not just the cached access token.
    const found = await checkStoredDropboxSignIn(homeLayout(home).credentials, { refresh: true });
    return judgeDropboxSignIn({
      identity: config.email,
      scope: found.scope,
      needed: DROPBOX_SCOPES,
      email: found.who.account.email,
      accountId: found.who.account.accountId,
      expiresInS: found.expiresInS,
      serverTime: found.who.serverTime,
      now: Date.now(),
    });
  } catch (err) {
    return [{
      name: "signin",
      status: "fail",
      detail: describeError(err),
      hint: err instanceof SyftError ? err.hint : undefined,
    }];
  }
}
