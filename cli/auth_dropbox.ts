/**
 * `syft auth dropbox --app-key <key> [--no-browser] [--email <e>]`: Dropbox's
 * OAuth code flow for the user's own app (PKCE S256, no secret, loopback
 * redirect, state, offline access). Works before `init`. Nothing is stored
 * unless the whole sign-in succeeds: the agreed scopes granted, the right
 * account. Without `--app-key`, the app key of the stored sign-in is reused,
 * so the hint `syft auth dropbox` mends a revoked grant as it says.
 * @module
 */
import type { Command } from "commander";
import {
  dropboxAuthorizationUrl,
  dropboxCodeFromRedirect,
  missingScopes,
  parseAppKey,
} from "../core/auth/dropbox_oauth.ts";
import { newState, newVerifier, s256Challenge } from "../core/auth/pkce.ts";
import { homeLayout } from "../core/config/home.ts";
import { readConfigIfAny } from "../core/config/load.ts";
import { SyftError } from "../core/errors/mod.ts";
import { parseIdentity } from "../core/paths/identity.ts";
import { readDropboxTokens } from "../plugins/dropbox/_tokens.ts";
import {
  checkAuthorizationAccepted,
  currentAccount,
  DROPBOX_SCOPE,
  DROPBOX_SCOPES,
  dropboxHosts,
  exchangeDropboxCode,
  storeDropboxSignIn,
} from "../plugins/dropbox/sign_in.ts";
import { listenForRedirect, openBrowser } from "./auth_redirect.ts";
import { ensureCredentialsDir } from "./credentials_dir.ts";
import { type Context, withContext } from "./context.ts";

interface AuthDropboxFlags {
  appKey?: string;
  browser?: boolean;
  email?: string;
  port?: string;
}

/** How long the sign-in waits for the browser (Dropbox's codes live about as long). */
const SIGN_IN_TIMEOUT_MS = 10 * 60_000;

/** Register `syft auth dropbox` under `auth`. */
export function registerAuthDropbox(auth: Command): void {
  auth
    .command("dropbox")
    .summary("sign in to Dropbox with your own app key")
    .description(
      [
        "Sign in to Dropbox with your own Dropbox app (https://www.dropbox.com/developers/apps:",
        'Scoped access, Full Dropbox, redirect URI http://127.0.0.1; see README, "Dropbox").',
        "syft asks for account_info.read, files.metadata.read/write, files.content.read/write",
        "and sharing.read/write: peers' channels arrive as folders they share with you, which",
        "only a Full Dropbox app may mount. The app key and the tokens are stored in",
        "$SYFT_HOME/credentials/dropbox-token.json (0600); no app secret is needed (PKCE).",
        "Without --app-key, the app key of the stored sign-in is used again. The answer comes",
        "back to 127.0.0.1 on a random port; if your app's Redirect URIs name a port",
        "(http://127.0.0.1:53682), pass it with --port. Without a browser",
        "here (--no-browser, or none found), the address to open is printed alone on one line;",
        "sign in anywhere, then paste the address the browser ends on (http://127.0.0.1:…) here",
        "if that browser is on another machine.",
      ].join(" "),
    )
    .option("--app-key <key>", "the App key of your Dropbox app (its Settings page)")
    .option("--no-browser", "print the address to open instead of opening a browser")
    .option("--email <email>", "the Dropbox account to sign in as (default: init's email)")
    .option("--port <port>", "listen for Dropbox's answer on this 127.0.0.1 port (default: random)")
    .action(withContext(runAuthDropbox));
}

async function runAuthDropbox(ctx: Context, flags: AuthDropboxFlags): Promise<void> {
  const appKey = parseAppKey(flags.appKey ?? await storedAppKey(ctx.home));
  const expected = flags.email !== undefined
    ? parseIdentity(flags.email, "--email")
    : await configEmail(ctx.home);
  const result = await signInDropbox(ctx, {
    appKey,
    email: expected,
    browser: flags.browser ?? true,
    port: parsePort(flags.port),
  });
  ctx.out.result(result, (r) => {
    ctx.out.line(`Signed in to Dropbox as ${r.email}`);
    ctx.out.fields([["account", r.account_id], ["scope", r.scope], [
      "credentials",
      r.credentials,
    ]]);
  });
}

/** What a sign-in stored (`syft auth dropbox --json`). */
export interface DropboxSignInResult {
  email: string;
  account_id: string;
  scope: string;
  credentials: string;
}

/**
 * The whole sign-in.
 * @throws {SyftError} `E_PERMISSION` (exit 3) for a forged or refused answer,
 * missing scopes or another account than `email`; `E_INPUT` (exit 2) for an
 * app key Dropbox does not know or no answer in time; `E_TRANSPORT` (exit 4)
 * when Dropbox cannot be reached or refuses the code.
 */
export async function signInDropbox(
  ctx: Context,
  options: {
    appKey: string;
    email: string | undefined;
    browser: boolean;
    port?: number | undefined;
  },
): Promise<DropboxSignInResult> {
  const hosts = dropboxHosts(); // a bad SYFT_DROPBOX_API fails before the browser opens
  const verifier = newVerifier();
  const state = newState();
  const listener = listenOn(state, options.port ?? 0);
  let params: URLSearchParams;
  try {
    const url = dropboxAuthorizationUrl({
      authorizeUrl: hosts.authorize,
      appKey: options.appKey,
      redirectUri: listener.redirectUri,
      scope: DROPBOX_SCOPE,
      state,
      challenge: await s256Challenge(verifier),
    });
    await checkAuthorizationAccepted(url, options.appKey, listener.redirectUri);
    const opened = options.browser && await openBrowser(url);
    const as = options.email ? ` as ${options.email}` : "";
    if (opened) {
      ctx.out.note(`Sign in${as} in the browser window that opened; waiting for it…`);
      ctx.out.note(`If no window opened, visit: ${url}`);
    } else {
      ctx.out.note(`Open the address below in a browser, sign in${as} and press Allow.`);
      ctx.out.note(
        "If that browser is on another machine, paste here the address it ends on " +
          "(http://127.0.0.1:…, it may show an error page).",
      );
      ctx.out.essential(url);
    }
    params = (await waitForAnswer(listener, !opened)).params;
  } finally {
    await listener.close();
  }

  const code = dropboxCodeFromRedirect(params, state);
  const grant = await exchangeDropboxCode(hosts, {
    code,
    verifier,
    appKey: options.appKey,
    redirectUri: listener.redirectUri,
  });
  const missing = missingScopes(grant.scope, DROPBOX_SCOPES);
  if (missing.length > 0) {
    throw new SyftError(
      "E_PERMISSION",
      `the Dropbox app lacks ${missing.join(", ")}; nothing was stored`,
      {
        hint:
          "tick them in your app's Permissions tab (https://www.dropbox.com/developers/apps), " +
          "press Submit, then run `syft auth dropbox` again",
      },
    );
  }
  const { account } = await currentAccount(hosts, grant.access_token);
  if (options.email && account.email !== options.email) {
    throw new SyftError(
      "E_PERMISSION",
      `signed in to Dropbox as ${account.email}, not ${options.email}; nothing was stored`,
      {
        hint: `sign out of dropbox.com in that browser, then run \`syft auth dropbox\` again and ` +
          `sign in as ${options.email} (or pass --email with the account you mean)`,
      },
    );
  }
  const credentials = await ensureCredentialsDir(ctx.home);
  await storeDropboxSignIn(credentials, options.appKey, grant, account);
  return { email: account.email, account_id: account.accountId, scope: grant.scope, credentials };
}

/** The listener's answer; its timeout re-worded for Dropbox (a bad app key never redirects). */
async function waitForAnswer(
  listener: ReturnType<typeof listenForRedirect>,
  readStdin: boolean,
) {
  try {
    return await listener.answer({ readStdin, timeoutMs: SIGN_IN_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof SyftError && err.code === "E_INPUT") {
      throw new SyftError("E_INPUT", err.message, {
        hint: "check --app-key and that http://127.0.0.1 is a redirect URI of your app, then " +
          "run `syft auth dropbox` again and finish the sign-in in the browser",
      });
    }
    throw err;
  }
}

/** `--port`: a port number, or nothing (random). */
function parsePort(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw.trim()) || port < 1 || port > 65535) {
    throw new SyftError("E_USAGE", `--port ${JSON.stringify(raw.slice(0, 20))} is not a port`, {
      hint: "pass the port of the redirect URI your app names, e.g. --port 53682",
    });
  }
  return port;
}

/** The loopback listener; a port in use is the user's to change, said plainly. */
function listenOn(state: string, port: number): ReturnType<typeof listenForRedirect> {
  try {
    return listenForRedirect(state, port);
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new SyftError("E_INPUT", `127.0.0.1:${port} is in use`, {
        hint: "close what listens there, or register another port in your app and pass it",
      });
    }
    throw err;
  }
}

/** The app key of a stored sign-in, even a revoked one, so re-signing needs no flag. */
async function storedAppKey(home: string): Promise<string | undefined> {
  try {
    return (await readDropboxTokens(homeLayout(home).credentials)).app_key;
  } catch {
    return undefined;
  }
}

/** init's email, when syft is initialised here (the sign-in's check). */
async function configEmail(home: string): Promise<string | undefined> {
  try {
    return (await readConfigIfAny(home))?.email;
  } catch {
    return undefined; // an unreadable config is init's and doctor's to report
  }
}
