import { assert, assertEquals, assertMatch, assertThrows } from "../../assert.ts";
import { newState, newVerifier, s256Challenge } from "../../../core/auth/pkce.ts";
import {
  authorizationUrl,
  codeFromRedirect,
  grantedTokens,
  hasScope,
  pastedRedirect,
} from "../../../core/auth/google_oauth.ts";
import { SyftError } from "../../../core/errors/mod.ts";

const DRIVE = "https://www.googleapis.com/auth/drive";

Deno.test("the S256 challenge matches RFC 7636's worked example", async () => {
  assertEquals(
    await s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
});

Deno.test("verifiers and states are fresh, unpadded base64url of RFC 7636's allowed length", () => {
  const v = newVerifier();
  assertMatch(v, /^[A-Za-z0-9_-]{43}$/);
  assert(v !== newVerifier());
  assert(newState() !== newState());
});

Deno.test("the authorization URL keeps auth_uri's own query and asks for offline access with consent", () => {
  const url = new URL(authorizationUrl({
    authUri: "https://accounts.google.com/o/oauth2/auth?hl=en",
    clientId: "id.apps.googleusercontent.com",
    redirectUri: "http://127.0.0.1:4321",
    scope: DRIVE,
    state: "st",
    challenge: "ch",
    loginHint: "a@x.org",
  }));
  assertEquals(url.origin + url.pathname, "https://accounts.google.com/o/oauth2/auth");
  assertEquals(Object.fromEntries(url.searchParams), {
    hl: "en",
    client_id: "id.apps.googleusercontent.com",
    redirect_uri: "http://127.0.0.1:4321",
    response_type: "code",
    scope: DRIVE,
    state: "st",
    code_challenge: "ch",
    code_challenge_method: "S256",
    access_type: "offline",
    prompt: "consent",
    login_hint: "a@x.org",
  });
});

Deno.test("a redirect is accepted only with this sign-in's state, and a refusal is exit 3", () => {
  assertEquals(codeFromRedirect(new URLSearchParams("state=s1&code=c"), "s1"), "c");
  for (const query of ["state=s2&code=c", "code=c", "state=s1&error=access_denied"]) {
    assertThrows(() => codeFromRedirect(new URLSearchParams(query), "s1"), (err) => {
      assert(err instanceof SyftError);
      assertEquals(err.exitCode, 3, query);
    });
  }
  assertThrows(() => codeFromRedirect(new URLSearchParams("state=s1"), "s1"), (err) => {
    assert(err instanceof SyftError && err.code === "E_INPUT");
  });
});

Deno.test("a pasted line counts only when it is an address with a state", () => {
  assertEquals(pastedRedirect("  http://127.0.0.1:5/?state=a&code=b \n")?.get("code"), "b");
  assertEquals(pastedRedirect("yes"), null);
  assertEquals(pastedRedirect("http://127.0.0.1:5/favicon.ico"), null);
});

Deno.test("the token answer needs a refresh token; an error names Google's reason, exit 4", () => {
  const t = grantedTokens(
    200,
    {
      access_token: "a",
      refresh_token: "r",
      expires_in: 3599,
      scope: `${DRIVE} openid`,
      token_type: "Bearer",
    },
    DRIVE,
    1000,
  );
  assertEquals(t.expiry_date, 1000 + 3_599_000);
  assert(hasScope(t.scope, DRIVE));
  assert(!hasScope("https://www.googleapis.com/auth/drive.file", DRIVE));
  assertThrows(() => grantedTokens(200, { access_token: "a" }, DRIVE, 0), (err) => {
    assert(err instanceof SyftError && err.exitCode === 4);
    assertMatch(err.message, /no refresh token/);
  });
  assertThrows(() => grantedTokens(400, { error: "invalid_grant" }, DRIVE, 0), (err) => {
    assert(err instanceof SyftError && err.exitCode === 4);
    assertMatch(err.message, /invalid_grant/);
  });
});
