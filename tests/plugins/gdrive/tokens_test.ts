/**
 * Google sign-in material: the client file is Google's own JSON, the access
 * token is refreshed before it expires through the client's token_uri and
 * written back readable by the user only, and a revoked sign-in is exit 4
 * with the hint to sign in again.
 */
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import {
  CLIENT_FILE,
  parseClientFile,
  storeClientFile,
  TOKEN_FILE,
  TokenSource,
} from "../../../plugins/gdrive/_tokens.ts";
import { SyftError } from "../../../core/errors/mod.ts";

const CLIENT = {
  installed: {
    client_id: "123.apps.googleusercontent.com",
    project_id: "syft-test",
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: "https://oauth2.googleapis.com/token",
    auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
    client_secret: "GOCSPX-secret",
    redirect_uris: ["http://localhost"],
  },
};

async function withCredentials(
  tokens: Record<string, unknown>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "syft-gdrive-cred-" });
  try {
    await Deno.writeTextFile(`${dir}/${CLIENT_FILE}`, JSON.stringify(CLIENT), { mode: 0o600 });
    await Deno.writeTextFile(`${dir}/${TOKEN_FILE}`, JSON.stringify(tokens), { mode: 0o600 });
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Google's Desktop-app client JSON is read as is", () => {
  assertEquals(parseClientFile(JSON.stringify(CLIENT)), {
    clientId: "123.apps.googleusercontent.com",
    clientSecret: "GOCSPX-secret",
    authUri: "https://accounts.google.com/o/oauth2/auth",
    tokenUri: "https://oauth2.googleapis.com/token",
  });
});

Deno.test("a web client, a missing field or a plain-http endpoint is refused as E_INPUT", () => {
  const bad = [
    "not json",
    JSON.stringify({ web: CLIENT.installed }),
    JSON.stringify({ installed: { ...CLIENT.installed, client_secret: undefined } }),
    JSON.stringify({ installed: { ...CLIENT.installed, token_uri: "http://evil.example/token" } }),
  ];
  for (const text of bad) {
    let code = "";
    try {
      parseClientFile(text);
    } catch (err) {
      code = (err as SyftError).code;
    }
    assertEquals(code, "E_INPUT", text);
  }
  // A loopback fake may use plain http.
  const local = { installed: { ...CLIENT.installed, token_uri: "http://127.0.0.1:8/token" } };
  assertEquals(parseClientFile(JSON.stringify(local)).tokenUri, "http://127.0.0.1:8/token");
});

Deno.test("a token far from expiry is used without asking the token endpoint", async () => {
  const now = 1_000_000;
  await withCredentials(
    { access_token: "a1", refresh_token: "r1", expiry_date: now + 3_600_000 },
    async (dir) => {
      let asked = 0;
      const source = await TokenSource.load(dir, {
        now: () => now,
        fetch: () => {
          asked++;
          return Promise.resolve(new Response("{}"));
        },
      });
      assertEquals(await source.accessToken(), "a1");
      assertEquals(asked, 0);
    },
  );
});

Deno.test("a token about to expire is refreshed once via token_uri and written back 0600", async () => {
  const now = 1_000_000;
  await withCredentials(
    { access_token: "old", refresh_token: "r1", expiry_date: now + 60_000, scope: "s" },
    async (dir) => {
      const seen: { url: string; body: string }[] = [];
      const source = await TokenSource.load(dir, {
        now: () => now,
        fetch: async (url, init) => {
          seen.push({ url, body: String(init.body) });
          await new Promise((resolve) => setTimeout(resolve, 5));
          return Response.json({ access_token: "new", expires_in: 3599, token_type: "Bearer" });
        },
      });
      const tokens = await Promise.all([source.accessToken(), source.accessToken()]);
      assertEquals(tokens, ["new", "new"]);
      assertEquals(seen.length, 1, "concurrent callers share one refresh");
      assertEquals(seen[0]?.url, "https://oauth2.googleapis.com/token");
      const form = new URLSearchParams(seen[0]?.body);
      assertEquals(form.get("grant_type"), "refresh_token");
      assertEquals(form.get("refresh_token"), "r1");
      assertEquals(form.get("client_id"), CLIENT.installed.client_id);
      const stored = JSON.parse(await Deno.readTextFile(`${dir}/${TOKEN_FILE}`));
      assertEquals(stored.access_token, "new");
      assertEquals(stored.refresh_token, "r1", "the refresh token is kept");
      assertEquals(stored.expiry_date, now + 3_599_000);
      assertEquals((await Deno.stat(`${dir}/${TOKEN_FILE}`)).mode! & 0o777, 0o600);
      const leftovers = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
      assertEquals(leftovers, [CLIENT_FILE, TOKEN_FILE]);
    },
  );
});

Deno.test("a revoked sign-in (invalid_grant) is E_TRANSPORT, exit 4, with hint syft auth gdrive", async () => {
  await withCredentials(
    { access_token: "old", refresh_token: "r1", expiry_date: 0 },
    async (dir) => {
      const source = await TokenSource.load(dir, {
        fetch: () =>
          Promise.resolve(
            Response.json({
              error: "invalid_grant",
              error_description: "Token has been expired or revoked.",
            }, {
              status: 400,
            }),
          ),
      });
      const err = await assertRejects(() => source.accessToken(), SyftError);
      assertEquals([err.code, err.exitCode, err.hint], ["E_TRANSPORT", 4, "syft auth gdrive"]);
      assert(err.message.includes("invalid_grant"));
    },
  );
});

Deno.test("no stored sign-in is E_TRANSPORT telling how to sign in", async () => {
  const dir = await Deno.makeTempDir({ prefix: "syft-gdrive-cred-" });
  try {
    const err = await assertRejects(() => TokenSource.load(dir), SyftError);
    assertEquals(err.code, "E_TRANSPORT");
    assert(err.hint?.includes("syft auth gdrive"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the client file is stored as Google wrote it, 0600, and a web client is not stored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "syft-gdrive-cred-" });
  try {
    const text = JSON.stringify(CLIENT, null, 2);
    const client = await storeClientFile(dir, text);
    assertEquals(client.tokenUri, CLIENT.installed.token_uri);
    assertEquals(await Deno.readTextFile(`${dir}/${CLIENT_FILE}`), text);
    assertEquals((await Deno.stat(`${dir}/${CLIENT_FILE}`)).mode! & 0o777, 0o600);
    const other = await Deno.makeTempDir({ prefix: "syft-gdrive-cred-" });
    try {
      const err = await assertRejects(
        () => storeClientFile(other, JSON.stringify({ web: CLIENT.installed })),
        SyftError,
      );
      assertEquals(err.code, "E_INPUT");
      assertEquals(await Array.fromAsync(Deno.readDir(other)), []);
    } finally {
      await Deno.remove(other, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
