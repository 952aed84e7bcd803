/**
 * The Google Drive sign-in as `init` and `doctor` use it: there must be one
 * (init runs it when it can ask), and Drive must answer as init's identity.
 * @module
 */
import type { Config } from "../core/config/config.ts";
import { expandPath, homeLayout } from "../core/config/home.ts";
import type { CheckResult } from "../core/doctor/checks.ts";
import { judgeDriveSignIn } from "../core/doctor/drive_sign_in.ts";
import { describeError, SyftError } from "../core/errors/mod.ts";
import { checkStoredSignIn, hasStoredSignIn } from "../plugins/gdrive/sign_in.ts";
import { signInGdrive } from "./auth.ts";
import type { Context } from "./context.ts";

/**
 * Make sure a sign-in is stored: at a terminal, ask for the client file and
 * sign in now; otherwise say how to.
 * @throws {SyftError} `E_TRANSPORT` (exit 4) with the sign-in command as hint.
 */
export async function ensureGdriveSignIn(ctx: Context, email: string): Promise<void> {
  const { credentials } = homeLayout(ctx.home);
  if (await hasStoredSignIn(credentials)) return;
  const how = `syft auth gdrive --client-file <client_secret.json> --email ${email}`;
  if (!ctx.interactive) {
    throw new SyftError("E_TRANSPORT", "not signed in to Google Drive", { hint: how });
  }
  ctx.out.note('Not signed in to Google Drive yet (see README, "Google Drive").');
  const path = prompt("Your OAuth client file (client_secret*.json):")?.trim();
  if (!path) throw new SyftError("E_TRANSPORT", "not signed in to Google Drive", { hint: how });
  await signInGdrive(ctx, { clientFile: expandPath(path, ctx.env, ctx.cwd), email, browser: true });
}

/**
 * Drive's `about.get` must name `email`.
 * @throws {SyftError} `E_PERMISSION` (exit 3) for another account,
 * `E_TRANSPORT` (exit 4) when the sign-in is revoked or Drive unreachable.
 */
export async function requireDriveAccount(home: string, email: string): Promise<void> {
  const { account } = await checkStoredSignIn(homeLayout(home).credentials);
  if (account.email !== email) {
    throw new SyftError(
      "E_PERMISSION",
      `Google Drive is signed in as ${account.email}, not ${email}`,
      {
        hint: `sign in as ${email}: syft auth gdrive --client-file <client_secret.json> ` +
          `--email ${email}`,
      },
    );
  }
}

/** doctor's `signin`, `scope` and `drive` checks for a gdrive config. */
export async function driveDoctorChecks(home: string, config: Config): Promise<CheckResult[]> {
  try {
    // A forced refresh: proves the refresh token still works, not just the cached access token.
    const found = await checkStoredSignIn(homeLayout(home).credentials, { refresh: true });
    return judgeDriveSignIn({
      identity: config.email,
      scope: found.scope,
      email: found.account.email,
      expiresInS: found.expiresInS,
      serverTime: found.account.serverTime,
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
