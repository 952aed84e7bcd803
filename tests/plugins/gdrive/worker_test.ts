/**
 * The real Drive Worker under its real grants (no env, no files but its
 * credentials, no hosts but the API's): the Google libraries load, the
 * expired access token is refreshed through the client file's token_uri and
 * written back, and `whoami` is Drive's about.get user.
 */
import { assert, assertEquals } from "../_assert.ts";
import { startPlugin } from "../../../plugins/host.ts";
import { gdriveManifest } from "../../../plugins/gdrive/manifest.ts";
import { CLIENT_FILE, TOKEN_FILE } from "../../../plugins/gdrive/_tokens.ts";

Deno.test("the gdrive Worker starts under its grants, refreshes its token and answers whoami", async () => {
  const credentials = await Deno.makeTempDir({ prefix: "syft-gdrive-worker-" });
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    seen.push(`${req.method} ${url.pathname}`);
    if (url.pathname === "/token") {
      const form = new URLSearchParams(await req.text());
      if (form.get("refresh_token") !== "refresh-1") {
        return Response.json({ error: "invalid_grant" }, { status: 400 });
      }
      return Response.json({ access_token: "fresh", expires_in: 3600, token_type: "Bearer" });
    }
    if (url.pathname === "/drive/v3/about") {
      if (req.headers.get("authorization") !== "Bearer fresh") {
        return Response.json({ error: { code: 401, message: "bad token", errors: [] } }, {
          status: 401,
        });
      }
      assertEquals(url.searchParams.get("fields"), "user");
      return Response.json({ user: { emailAddress: "Alice@Example.org", displayName: "A" } });
    }
    return new Response("not found", { status: 404 });
  });
  const api = `http://127.0.0.1:${server.addr.port}/`;
  try {
    await Deno.writeTextFile(
      `${credentials}/${CLIENT_FILE}`,
      JSON.stringify({
        installed: {
          client_id: "id",
          client_secret: "secret",
          auth_uri: `${api}o/oauth2/auth`,
          token_uri: `${api}token`,
        },
      }),
    );
    await Deno.writeTextFile(
      `${credentials}/${TOKEN_FILE}`,
      JSON.stringify({ access_token: "stale", refresh_token: "refresh-1", expiry_date: 0 }),
    );
    const transport = await startPlugin(
      gdriveManifest({ identity: "alice@example.org", credentialsDir: credentials, apiBase: api }),
    );
    try {
      assertEquals(await transport.whoami(), { email: "alice@example.org", authenticated: true });
      assertEquals(await transport.capabilities(), {
        enforcesSharing: true,
        canWatch: false,
        pool: true,
      });
    } finally {
      await transport.close();
    }
    assertEquals(seen, ["POST /token", "GET /drive/v3/about"]);
    const stored = JSON.parse(await Deno.readTextFile(`${credentials}/${TOKEN_FILE}`));
    assertEquals(stored.access_token, "fresh");
    assert((await Deno.stat(`${credentials}/${TOKEN_FILE}`)).mode! % 0o1000 === 0o600);
  } finally {
    await server.shutdown();
    await Deno.remove(credentials, { recursive: true });
  }
});
