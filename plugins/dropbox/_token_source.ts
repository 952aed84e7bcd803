/**
 * The access token the plugin sends: read from the stored sign-in
 * (`_tokens.ts`), refreshed 5 minutes before it expires or when Dropbox
 * answers 401, and written back (atomic, 0600) so the next process starts
 * with the fresh one. One refresh at a time, however many calls wait for it.
 * @module
 */
import {
  type DropboxTokens,
  needsRefresh,
  readDropboxTokens,
  refreshDropboxTokens,
  type TokenFetch,
  writeDropboxTokens,
} from "./_tokens.ts";
import { escapeTerminal } from "../../core/encoding/terminal.ts";

/** Fresh access tokens for one signed-in account. */
export class TokenSource {
  #tokens: DropboxTokens;
  readonly #credentialsDir: string | null;
  readonly #tokenUrl: string;
  readonly #fetch: TokenFetch;
  readonly #now: () => number;
  #refreshing: Promise<void> | null = null;
  #stale = false;

  constructor(
    tokens: DropboxTokens,
    options: {
      /** Where to write refreshed tokens back; null keeps them in memory (tests). */
      credentialsDir: string | null;
      tokenUrl: string;
      fetch: TokenFetch;
      now?: (() => number) | undefined;
    },
  ) {
    this.#tokens = tokens;
    this.#credentialsDir = options.credentialsDir;
    this.#tokenUrl = options.tokenUrl;
    this.#fetch = options.fetch;
    this.#now = options.now ?? Date.now;
  }

  /** Read the stored sign-in from `credentialsDir`. */
  static async load(
    credentialsDir: string,
    tokenUrl: string,
    fetchFn: TokenFetch,
  ): Promise<TokenSource> {
    const tokens = await readDropboxTokens(credentialsDir);
    return new TokenSource(tokens, { credentialsDir, tokenUrl, fetch: fetchFn });
  }

  /** The account the tokens belong to (`dbid:…`), "" when the file did not say. */
  get accountId(): string {
    return this.#tokens.account_id;
  }

  /** A token valid for at least the refresh margin, refreshing first when needed. */
  async accessToken(): Promise<string> {
    if (this.#stale || needsRefresh(this.#tokens, this.#now())) await this.#refresh();
    return this.#tokens.access_token;
  }

  /** Dropbox refused the token (401): the next {@linkcode accessToken} refreshes. */
  invalidate(): void {
    this.#stale = true;
  }

  #refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        this.#tokens = await refreshDropboxTokens(
          this.#tokens,
          this.#tokenUrl,
          this.#fetch,
          this.#now,
        );
        this.#stale = false;
        if (this.#credentialsDir !== null) {
          try {
            await writeDropboxTokens(this.#credentialsDir, this.#tokens);
          } catch (err) {
            // The fresh token still works in memory; the next process refreshes again.
            console.warn(
              escapeTerminal(`dropbox: could not store the refreshed token: ${String(err)}`),
            );
          }
        }
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }
}
