/**
 * `syft auth gdrive --client-file <client_secret.json> [--no-browser] [--email <e>]`:
 * Google's installed-app sign-in (loopback redirect, PKCE S256, state), with
 * the user's own OAuth client. Works before `init`. Nothing is stored unless
 * the whole sign-in succeeds: the right account, Drive's full scope granted.
 * @module
 */
import type { Command } from "commander";
import { posix } from "node:path";
import { authorizationUrl, codeFromRedirect, hasScope } from "../core/auth/google_oauth.ts";
import { newState, newVerifier, s256Challenge } from "../core/auth/pkce.ts";
import { readConfigIfAny } from "../core/config/load.ts";
import { describeError, SyftError } from "../core/errors/mod.ts";
import { parseIdentity } from "../core/paths/identity.ts";
import { CLOUD_TRANSPORTS, UNBUILT_TRANSPORTS } from "../core/transport/kinds.ts";
import {
  aboutUser,
  apiBaseFromEnv,
  DRIVE_SCOPE,
  exchangeCode,
  parseClientFile,
  storeSignIn,
} from "../plugins/gdrive/sign_in.ts";
import { listenForRedirect, openBrowser } from "./auth_redirect.ts";
import { registerAuthDropbox } from "./auth_dropbox.ts";
import { ensureCredentialsDir } from "./credentials_dir.ts";
import { type Context, withContext } from "./context.ts";

interface AuthGdriveFlags {
  clientFile?: string;
  browser?: boolean;
  email?: string;
}

/** How long the sign-in waits for the browser (Google's codes live about as long). */
const SIGN_IN_TIMEOUT_MS = 10 * 60_000;

/** Client files are a few hundred bytes; refuse what cannot be one. */
const MAX_CLIENT_FILE_BYTES = 64 * 1024;

/** Register `syft auth`. */
export function registerAuth(program: Command): void {
  const auth = program
    .command("auth")
    .summary("sign in to Google Drive or Dropbox")
    .description("Sign in to the storage a cloud transport uses. Run it before or after `init`.");
  auth
    .command("gdrive")
    .summary("sign in to Google Drive with your own OAuth client")
    .description(
      [
        "Sign in to Google Drive with your own OAuth client (Google Cloud console: APIs &",
        'Services, Credentials, OAuth client ID of type Desktop app; see README, "Google Drive").',
        "The client file is copied to $SYFT_HOME/credentials/ (0600) with the tokens. syft asks",
        "for Drive's full scope (https://www.googleapis.com/auth/drive) because drive.file cannot",
        "see a folder another user created and shared with you, which is how peers' channels",
        "arrive. Without a browser here (--no-browser, or none found), the address to open is",
        "printed alone on one line; sign in anywhere, then paste the address the browser ends",
        "on (http://127.0.0.1:…) here if that browser is on another machine.",
      ].join(" "),
    )
    .option("--client-file <path>", "Google's client_secret*.json of a Desktop app client")
    .option("--no-browser", "print the address to open instead of opening a browser")
    .option("--email <email>", "the Google account to sign in as (default: init's email)")
    .action(withContext(runAuthGdrive));
  // Registered once the plugin is built (kinds.ts); until then it answers as planned below.
  if (!UNBUILT_TRANSPORTS.includes("dropbox")) registerAuthDropbox(auth);
  // Planned kinds answer plainly instead of "unknown command", and stay out of the help.
  for (const kind of UNBUILT_TRANSPORTS) {
    auth
      .command(kind, { hidden: true })
      .allowUnknownOption()
      .allowExcessArguments()
      .helpOption(false)
      .action(() => {
        throw new SyftError("E_USAGE", `${kind} is not available in this build`, {
          hint: `sign in with ${CLOUD_TRANSPORTS.map((k) => `syft auth ${k}`).join(", ")}, ` +
            "or use a shared folder (local:<folder>) that needs no sign-in",
        });
      });
  }
}

async function runAuthGdrive(ctx: Context, flags: AuthGdriveFlags): Promise<void> {
  if (!flags.clientFile) {
    throw new SyftError("E_USAGE", "missing --client-file", {
      hint: "download your Desktop app client's JSON from Google Cloud console (see README, " +
        '"Google Drive"), then: syft auth gdrive --client-file <client_secret.json>',
    });
  }
  const expected = flags.email !== undefined
    ? parseIdentity(flags.email, "--email")
    : await configEmail(ctx.home);
  const result = await signInGdrive(ctx, {
    clientFile: posix.resolve(ctx.cwd, flags.clientFile),
    email: expected,
    browser: flags.browser ?? true,
  });
  ctx.out.result(result, (r) => {
    ctx.out.line(`Signed in to Google Drive as ${r.email}`);
    ctx.out.fields([["scope", r.scope], ["credentials", r.credentials]]);
  });
}

/** What a sign-in stored (`syft auth gdrive --json`). */
export interface SignInResult {
  email: string;
  scope: string;
  credentials: string;
}

/**
 * The whole sign-in; also run by `init --transport gdrive` when there is none.
 * @throws {SyftError} `E_PERMISSION` (exit 3) for a forged or refused answer,
 * a missing Drive scope or another account than `email`; `E_TRANSPORT` (exit
 * 4) when Google cannot be reached or refuses the code.
 */
export async function signInGdrive(
  ctx: Context,
  options: { clientFile: string; email: string | undefined; browser: boolean },
): Promise<SignInResult> {
  const clientText = await readClientFile(options.clientFile);
  const client = parseClientFile(clientText);
  const apiBase = apiBaseFromEnv(); // a bad SYFT_GDRIVE_API fails before the browser opens
  const verifier = newVerifier();
  const state = newState();
  const listener = listenForRedirect(state);
  let params: URLSearchParams;
  try {
    const url = authorizationUrl({
      authUri: client.authUri,
      clientId: client.clientId,
      redirectUri: listener.redirectUri,
      scope: DRIVE_SCOPE,
      state,
      challenge: await s256Challenge(verifier),
      loginHint: options.email,
    });
    const opened = options.browser && await openBrowser(url);
    const as = options.email ? ` as ${options.email}` : "";
    if (opened) {
      ctx.out.note(`Sign in${as} in the browser window that opened; waiting for it…`);
      ctx.out.note(`If no window opened, visit: ${url}`);
    } else {
      ctx.out.note(
        `Open the address below in a browser, sign in${as} and allow access to Google Drive.`,
      );
      ctx.out.note(
        "If that browser is on another machine, paste here the address it ends on " +
          "(http://127.0.0.1:…, it may show an error page).",
      );
      ctx.out.essential(url);
    }
    const answer = await listener.answer({ readStdin: !opened, timeoutMs: SIGN_IN_TIMEOUT_MS });
    params = answer.params;
  } finally {
    await listener.close();
  }

  const code = codeFromRedirect(params, state);
  const tokens = await exchangeCode(client, {
    code,
    verifier,
    redirectUri: listener.redirectUri,
  });
  if (!hasScope(tokens.scope, DRIVE_SCOPE)) {
    throw new SyftError(
      "E_PERMISSION",
      `Google Drive access was not granted (granted: ${tokens.scope || "nothing"})`,
      {
        hint: "run `syft auth gdrive` again and tick the box allowing access to all of " +
          "your Google Drive files",
      },
    );
  }
  const account = await aboutUser(apiBase, tokens.access_token);
  if (options.email && account.email !== options.email) {
    throw new SyftError(
      "E_PERMISSION",
      `signed in to Google as ${account.email}, not ${options.email}; nothing was stored`,
      {
        hint: `run \`syft auth gdrive\` again and choose ${options.email} in Google's account ` +
          "chooser (or pass --email with the account you mean)",
      },
    );
  }
  const credentials = await ensureCredentialsDir(ctx.home);
  await storeSignIn(credentials, clientText, tokens);
  return { email: account.email, scope: tokens.scope, credentials };
}

/** init's email, when syft is initialised here (the sign-in's login hint and check). */
async function configEmail(home: string): Promise<string | undefined> {
  try {
    return (await readConfigIfAny(home))?.email;
  } catch {
    return undefined; // an unreadable config is init's and doctor's to report
  }
}

async function readClientFile(path: string): Promise<string> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile || info.size > MAX_CLIENT_FILE_BYTES) {
      throw new SyftError("E_INPUT", `${path} is not a Google OAuth client file`, {
        hint: "pass the client_secret*.json downloaded for a Desktop app client",
      });
    }
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof SyftError) throw err;
    throw new SyftError("E_INPUT", `cannot read ${path}: ${describeError(err)}`, {
      hint: "pass the client_secret*.json downloaded for a Desktop app client",
      cause: err,
    });
  }
}
