/**
 * Dropbox's OAuth steps and the stored sign-in: the authorization URL asks for
 * PKCE S256, offline access and the agreed scopes; a forged state, a refusal
 * and an unknown app key are told apart with their exit codes; the token file
 * is bounded, written 0600 and refreshed without a secret, and a revoked grant
 * is exit 4 with `hint: syft auth dropbox`.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../../assert.ts";
import {
  codeExchangeBody,
  dropboxAccount,
  dropboxAuthorizationUrl,
  dropboxCodeFromRedirect,
  dropboxGrant,
  missingScopes,
  parseAppKey,
} from "../../../core/auth/dropbox_oauth.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import {
  DROPBOX_SCOPES,
  DROPBOX_TOKEN_FILE,
  type DropboxTokens,
  needsRefresh,
  parseDropboxTokens,
  readDropboxTokens,
  refreshDropboxTokens,
  writeDropboxTokens,
} from "../../../plugins/dropbox/_tokens.ts";
import { tempDir } from "../../_temp.ts";
import { checkAuthorizationAccepted } from "../../../plugins/dropbox/sign_in.ts";

const TOKENS: DropboxTokens = {
  app_key: "k3yk3yk3yk3yk3y",
  access_token: "sl.old",
  refresh_token: "refresh-1",
  expires_at: 1_000_000,
  account_id: "dbid:AAA",
  email: "alice@example.org",
  scope: DROPBOX_SCOPES.join(" "),
};

function syftErr(err: unknown): SyftError {
  if (!(err instanceof SyftError)) throw err;
  return err;
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof SyftError) return `${err.code} ${err.exitCode}`;
    throw err;
  }
  throw new Error("did not throw");
}

Deno.test("the authorization URL asks for a code with PKCE S256, offline access, state and the agreed scopes", () => {
  const url = new URL(dropboxAuthorizationUrl({
    authorizeUrl: "https://www.dropbox.com/oauth2/authorize",
    appKey: "abc123",
    redirectUri: "http://127.0.0.1:41234",
    scope: DROPBOX_SCOPES.join(" "),
    state: "st",
    challenge: "ch",
  }));
  assertEquals(url.origin + url.pathname, "https://www.dropbox.com/oauth2/authorize");
  const p = url.searchParams;
  assertEquals(
    [...p.keys()].sort(),
    [
      "client_id",
      "code_challenge",
      "code_challenge_method",
      "redirect_uri",
      "response_type",
      "scope",
      "state",
      "token_access_type",
    ],
  );
  assertEquals(p.get("client_id"), "abc123");
  assertEquals(p.get("response_type"), "code");
  assertEquals(p.get("code_challenge_method"), "S256");
  assertEquals(p.get("token_access_type"), "offline");
  assertEquals(p.get("redirect_uri"), "http://127.0.0.1:41234");
  assertEquals(p.get("scope")!.split(" ").sort(), [...DROPBOX_SCOPES].sort());
  assertEquals(p.get("state"), "st");
  const body = codeExchangeBody({
    code: "c",
    verifier: "v",
    appKey: "abc123",
    redirectUri: "http://127.0.0.1:41234",
  });
  assertEquals(Object.fromEntries(body), {
    grant_type: "authorization_code",
    code: "c",
    code_verifier: "v",
    client_id: "abc123",
    redirect_uri: "http://127.0.0.1:41234",
  });
  assert(!body.has("client_secret"), "a public client sends no secret");
});

Deno.test("app keys are checked before the browser opens: missing or not a key is a usage error", () => {
  assertEquals(parseAppKey(" abc123xyz0 "), "abc123xyz0");
  assertEquals(code(() => parseAppKey(undefined)), "E_USAGE 2");
  assertEquals(code(() => parseAppKey("sl.u.AAAA-token")), "E_USAGE 2");
  assertEquals(code(() => parseAppKey("a b")), "E_USAGE 2");
});

Deno.test("a redirect with another state is refused (exit 3) before its error or code is read", () => {
  const forged = new URLSearchParams({ state: "other", code: "c" });
  assertEquals(code(() => dropboxCodeFromRedirect(forged, "mine")), "E_PERMISSION 3");
  const denied = new URLSearchParams({
    state: "mine",
    error: "access_denied",
    error_description: "The user chose not to give your app access",
  });
  const err = syftErr(assertThrows(() => dropboxCodeFromRedirect(denied, "mine")));
  assertEquals(err.exitCode, 3);
  assertMatch(err.message, /access_denied \(The user chose not/);
  assertMatch(err.hint!, /press Allow/);
  assertEquals(
    code(() => dropboxCodeFromRedirect(new URLSearchParams({ state: "mine" }), "mine")),
    "E_INPUT 2",
  );
  assertEquals(
    dropboxCodeFromRedirect(new URLSearchParams({ state: "mine", code: "xyz" }), "mine"),
    "xyz",
  );
});

Deno.test("the code exchange's answer: tokens with expiry, unknown app key exit 2, other refusals and no refresh token exit 4", () => {
  const grant = dropboxGrant(
    200,
    {
      access_token: "sl.new",
      expires_in: 14400,
      token_type: "bearer",
      refresh_token: "r",
      account_id: "dbid:X",
      scope: "account_info.read files.content.read",
      uid: "12",
    },
    "asked",
    1000,
  );
  assertEquals(grant, {
    access_token: "sl.new",
    refresh_token: "r",
    expires_at: 1000 + 14400_000,
    account_id: "dbid:X",
    scope: "account_info.read files.content.read",
  });
  assertEquals(
    dropboxGrant(200, { access_token: "a", refresh_token: "r" }, "asked", 0).scope,
    "asked",
  );
  assertEquals(
    code(() => dropboxGrant(400, { error: "invalid_client", error_description: "bad" }, "", 0)),
    "E_INPUT 2",
  );
  assertEquals(code(() => dropboxGrant(400, { error: "invalid_grant" }, "", 0)), "E_TRANSPORT 4");
  assertEquals(code(() => dropboxGrant(200, { access_token: "a" }, "", 0)), "E_TRANSPORT 4");
  assertEquals(code(() => dropboxGrant(502, null, "", 0)), "E_TRANSPORT 4");
});

Deno.test("get_current_account's answer gives the lower-cased e-mail and account id, or fails plainly", () => {
  assertEquals(
    dropboxAccount({
      account_id: "dbid:AAH",
      email: "Alice@Example.ORG",
      email_verified: true,
      name: { display_name: "A" },
    }),
    { accountId: "dbid:AAH", email: "alice@example.org", emailVerified: true },
  );
  assertEquals(code(() => dropboxAccount({ email: "a@b.org" })), "E_TRANSPORT 4");
  assertEquals(
    missingScopes("sharing.read  files.content.read", ["files.content.read", "sharing.write"]),
    [
      "sharing.write",
    ],
  );
});

Deno.test("the token file is parsed bounded and strictly: anything unusable is exit 4 with hint: syft auth dropbox", () => {
  const parsed = parseDropboxTokens(JSON.stringify({ ...TOKENS, email: "Alice@Example.org" }));
  assertEquals(parsed, TOKENS);
  for (
    const text of [
      "not json",
      "[]",
      JSON.stringify({ ...TOKENS, refresh_token: "" }),
      JSON.stringify({ ...TOKENS, app_key: 3 }),
      JSON.stringify({ ...TOKENS, expires_at: "soon" }),
      JSON.stringify({ ...TOKENS, access_token: "x".repeat(70_000) }),
    ]
  ) {
    const err = syftErr(assertThrows(() => parseDropboxTokens(text)));
    assertEquals([err.exitCode, err.hint], [4, "syft auth dropbox"], text.slice(0, 40));
  }
  assert(needsRefresh(TOKENS, TOKENS.expires_at - 60_000), "inside the 5-minute margin");
  assert(!needsRefresh(TOKENS, TOKENS.expires_at - 10 * 60_000), "well before expiry");
});

Deno.test("tokens are written 0600 and read back; a missing file names the sign-in command", async () => {
  const dir = await tempDir("syft-dbx-tokens-");
  const err = syftErr(await assertRejects(() => readDropboxTokens(dir)));
  assertEquals(err.exitCode, 4);
  assertMatch(err.message, /^not signed in to Dropbox/);
  assertMatch(err.hint!, /^syft auth dropbox --app-key/);
  await writeDropboxTokens(dir, TOKENS);
  assertEquals((await Deno.stat(posix.join(dir, DROPBOX_TOKEN_FILE))).mode! & 0o777, 0o600);
  assertEquals(await readDropboxTokens(dir), TOKENS);
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), [DROPBOX_TOKEN_FILE]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a refresh posts the refresh token and app key without a secret; invalid_grant is exit 4 with hint: syft auth dropbox", async () => {
  const seen: URLSearchParams[] = [];
  let answer: { status: number; body: unknown } = {
    status: 200,
    body: { access_token: "sl.fresh", token_type: "bearer", expires_in: 14400 },
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    seen.push(new URLSearchParams(await req.text()));
    return Response.json(answer.body, { status: answer.status });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/oauth2/token`;
    const fresh = await refreshDropboxTokens(TOKENS, url, fetch, 5000);
    assertEquals(fresh, {
      ...TOKENS,
      access_token: "sl.fresh",
      expires_at: 5000 + 14400_000,
    });
    assertEquals(Object.fromEntries(seen[0]!), {
      grant_type: "refresh_token",
      refresh_token: "refresh-1",
      client_id: TOKENS.app_key,
    });
    answer = {
      status: 400,
      body: { error: "invalid_grant", error_description: "refresh token is invalid or revoked" },
    };
    const revoked = syftErr(await assertRejects(() => refreshDropboxTokens(TOKENS, url, fetch)));
    assertEquals([revoked.exitCode, revoked.hint], [4, "syft auth dropbox"]);
    assertMatch(revoked.message, /revoked/);
    answer = { status: 503, body: {} };
    const down = syftErr(await assertRejects(() => refreshDropboxTokens(TOKENS, url, fetch)));
    assertEquals(down.exitCode, 4);
    assertMatch(down.hint!, /tries again/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("the authorization probe tells an unknown app key from an unlisted redirect URI, and lets anything else through", async () => {
  let page = { status: 400, text: "Invalid client_id or redirect_uri" };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(page.text, { status: page.status }),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/oauth2/authorize?client_id=k`;
    const redirect = "http://127.0.0.1:41000";
    const key = syftErr(await assertRejects(() => checkAuthorizationAccepted(url, "k", redirect)));
    assertEquals(key.exitCode, 2);
    assertMatch(key.message, /^Dropbox does not accept app key k/);
    page = {
      status: 400,
      text: "Invalid redirect_uri. It must exactly match one of the redirect URIs you've " +
        "pre-configured for your app (including the path).",
    };
    const uri = syftErr(await assertRejects(() => checkAuthorizationAccepted(url, "k", redirect)));
    assertMatch(uri.message, /^Dropbox refuses the redirect URI http:\/\/127\.0\.0\.1:41000/);
    assertMatch(uri.hint!, /--port 53682 \(this try: 41000\)$/);
    page = { status: 200, text: "<html>sign in</html>" };
    await checkAuthorizationAccepted(url, "k", redirect); // a login page: go on
    await checkAuthorizationAccepted("http://127.0.0.1:9/x", "k", redirect); // no answer: go on
  } finally {
    await server.shutdown();
  }
});
