/**
 * Google sign-in material in `$SYFT_HOME/credentials/`: the user's own OAuth
 * client (Google's `client_secret*.json`, stored as is) and the tokens the
 * sign-in got. The plugin reads both, refreshes the access token before it
 * expires through the client file's `token_uri`, and writes the new tokens
 * back (0600). `syft auth gdrive` will write these same files.
 * @module
 */
import { SyftError } from "../../core/errors/mod.ts";
import { isRecord } from "../../core/encoding/record.ts";

/** File name of the OAuth client inside the credentials folder. */
export const CLIENT_FILE = "gdrive-client.json";
/** File name of the stored tokens inside the credentials folder. */
export const TOKEN_FILE = "gdrive-token.json";

/** Drive's full scope: `drive.file` cannot see folders another user shared. */
export const DRIVE_SCOPE = "https://www.googleapis.com/auth/drive";

/** Refresh this long before the access token expires. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/** Neither file is more than a few KiB; refuse anything that is not. */
const MAX_CREDENTIAL_BYTES = 64 * 1024;

const SIGN_IN_HINT = "sign in with: syft auth gdrive --client-file <client_secret.json>";

/** The "installed" (Desktop app) OAuth client, from Google's JSON. */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** Where the browser goes to sign in (used by `syft auth gdrive`). */
  authUri: string;
  /** Where codes and refresh tokens become access tokens. */
  tokenUri: string;
}

/** The stored tokens (`gdrive-token.json`), in Google's token response names. */
export interface StoredTokens {
  access_token: string;
  refresh_token: string;
  /** Milliseconds since the epoch when `access_token` stops working. */
  expiry_date: number;
  /** Space-separated scopes granted. */
  scope: string;
  token_type: string;
}

/**
 * Parse Google's client JSON (`{"installed": {client_id, client_secret,
 * auth_uri, token_uri, ...}}`). Only https endpoints are accepted, except on
 * loopback hosts (fakes in tests).
 *
 * @example
 * ```ts
 * const client = parseClientFile(await Deno.readTextFile("client_secret.json"));
 * ```
 * @throws {SyftError} `E_INPUT` naming what is missing or wrong.
 */
export function parseClientFile(text: string): OAuthClient {
  const bad = (detail: string) =>
    new SyftError("E_INPUT", `the Google OAuth client file ${detail}`, {
      hint: "download it from Google Cloud console: APIs & Services, Credentials, " +
        "an OAuth client of type Desktop app",
    });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad("is not JSON");
  }
  const installed = isRecord(value) ? value.installed : undefined;
  if (!isRecord(installed)) {
    throw bad('has no "installed" client (it must be a Desktop app client, not a web one)');
  }
  const field = (name: string): string => {
    const v = installed[name];
    if (typeof v !== "string" || v.trim() === "") throw bad(`has no installed.${name}`);
    return v.trim();
  };
  const endpoint = (name: string): string => {
    const raw = field(name);
    if (!isAllowedEndpoint(raw)) {
      throw bad(`has an installed.${name} that is not an https URL: ${JSON.stringify(raw)}`);
    }
    return raw;
  };
  return {
    clientId: field("client_id"),
    clientSecret: field("client_secret"),
    authUri: endpoint("auth_uri"),
    tokenUri: endpoint("token_uri"),
  };
}

/** https anywhere, plain http only on loopback (a local fake or proxy). */
export function isAllowedEndpoint(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

/**
 * Parse the stored token file.
 * @throws {SyftError} `E_TRANSPORT` with the sign-in hint when it is unusable.
 */
export function parseTokenFile(text: string): StoredTokens {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  if (
    !isRecord(value) || typeof value.access_token !== "string" ||
    typeof value.refresh_token !== "string" || value.refresh_token === "" ||
    typeof value.expiry_date !== "number" || !Number.isFinite(value.expiry_date)
  ) {
    throw new SyftError("E_TRANSPORT", "the stored Google Drive sign-in is unreadable", {
      hint: SIGN_IN_HINT,
    });
  }
  return {
    access_token: value.access_token,
    refresh_token: value.refresh_token,
    expiry_date: value.expiry_date,
    scope: typeof value.scope === "string" ? value.scope : "",
    token_type: typeof value.token_type === "string" ? value.token_type : "Bearer",
  };
}

/** Read a credentials file, bounded; a missing file is the sign-in error. */
export async function readCredential(dir: string, name: string): Promise<string> {
  const path = `${dir}/${name}`;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile || info.size > MAX_CREDENTIAL_BYTES) {
      throw new SyftError("E_TRANSPORT", `${path} is not a credentials file`, {
        hint: SIGN_IN_HINT,
      });
    }
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof SyftError) throw err;
    if (err instanceof Deno.errors.NotFound) {
      throw new SyftError("E_TRANSPORT", `not signed in to Google Drive (no ${path})`, {
        hint: SIGN_IN_HINT,
      });
    }
    throw new SyftError("E_TRANSPORT", `cannot read ${path}: ${(err as Error).message}`, {
      hint: SIGN_IN_HINT,
      cause: err,
    });
  }
}

/** Write the tokens back atomically, readable by the user only. */
export async function writeTokenFile(dir: string, tokens: StoredTokens): Promise<void> {
  await writePrivate(dir, TOKEN_FILE, JSON.stringify(tokens, null, 2) + "\n");
}

/**
 * Store Google's client JSON as is (after checking it parses) in the
 * credentials folder, readable by the user only; for `syft auth gdrive`.
 * @throws {SyftError} `E_INPUT` when it is not a Desktop-app client file.
 */
export async function storeClientFile(dir: string, text: string): Promise<OAuthClient> {
  const client = parseClientFile(text);
  await writePrivate(dir, CLIENT_FILE, text);
  return client;
}

/** Temp file (0600) + rename, so a reader never sees half a credentials file. */
async function writePrivate(dir: string, name: string, text: string): Promise<void> {
  const final = `${dir}/${name}`;
  const temp = `${dir}/.${name}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temp, text, {
      mode: 0o600,
      createNew: true,
    });
    await Deno.chmod(temp, 0o600); // the umask may have narrowed it, never widened: be exact
    await Deno.rename(temp, final);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

/** How the token source reaches the token endpoint (injected in tests). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Hands out a valid access token, refreshing it shortly before it expires.
 * Concurrent callers share one refresh.
 */
export class TokenSource {
  readonly #dir: string;
  readonly #client: OAuthClient;
  #tokens: StoredTokens;
  #refreshing: Promise<string> | null = null;
  readonly #fetch: FetchLike;
  readonly #now: () => number;

  constructor(
    dir: string,
    client: OAuthClient,
    tokens: StoredTokens,
    options: { fetch?: FetchLike; now?: () => number } = {},
  ) {
    this.#dir = dir;
    this.#client = client;
    this.#tokens = tokens;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#now = options.now ?? Date.now;
  }

  /** Load both files from the credentials folder `dir`. */
  static async load(
    dir: string,
    options: { fetch?: FetchLike; now?: () => number } = {},
  ): Promise<TokenSource> {
    const client = parseClientFile(await readCredential(dir, CLIENT_FILE));
    const tokens = parseTokenFile(await readCredential(dir, TOKEN_FILE));
    return new TokenSource(dir, client, tokens, options);
  }

  /** A token valid for at least the refresh margin. */
  async accessToken(): Promise<string> {
    if (this.#tokens.expiry_date - this.#now() > REFRESH_MARGIN_MS) {
      return this.#tokens.access_token;
    }
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return await this.#refreshing;
  }

  /** Forget the access token (the API answered 401): the next call refreshes. */
  invalidate(): void {
    this.#tokens = { ...this.#tokens, expiry_date: 0 };
  }

  async #refresh(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: this.#tokens.refresh_token,
      client_id: this.#client.clientId,
      client_secret: this.#client.clientSecret,
    });
    let response: Response;
    try {
      response = await this.#fetch(this.#client.tokenUri, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
      });
    } catch (err) {
      throw new SyftError(
        "E_TRANSPORT",
        `gdrive transport failed during sign-in refresh: ${this.#client.tokenUri} did not answer`,
        { hint: "check the network; the next round tries again", cause: err },
      );
    }
    const text = (await response.text()).slice(0, MAX_CREDENTIAL_BYTES);
    let data: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (isRecord(parsed)) data = parsed;
    } catch {
      // leave data empty: reported below
    }
    if (!response.ok || typeof data.access_token !== "string") {
      const error = typeof data.error === "string" ? data.error : `HTTP ${response.status}`;
      if (error === "invalid_grant") {
        throw new SyftError(
          "E_TRANSPORT",
          "gdrive transport failed during sign-in refresh: Google revoked or expired the " +
            "sign-in (invalid_grant)",
          { hint: "syft auth gdrive" },
        );
      }
      throw new SyftError(
        "E_TRANSPORT",
        `gdrive transport failed during sign-in refresh: ${error}`,
        { hint: response.status >= 500 ? "the next round tries again" : SIGN_IN_HINT },
      );
    }
    const expiresIn = typeof data.expires_in === "number" ? data.expires_in : 3600;
    this.#tokens = {
      access_token: data.access_token,
      // Google sends a new refresh token only sometimes; keep the old one otherwise.
      refresh_token: typeof data.refresh_token === "string" && data.refresh_token !== ""
        ? data.refresh_token
        : this.#tokens.refresh_token,
      expiry_date: this.#now() + expiresIn * 1000,
      scope: typeof data.scope === "string" ? data.scope : this.#tokens.scope,
      token_type: typeof data.token_type === "string" ? data.token_type : "Bearer",
    };
    await writeTokenFile(this.#dir, this.#tokens);
    return this.#tokens.access_token;
  }
}
