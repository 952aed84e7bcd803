/**
 * The Drive plugin's manifest grants exactly the API host, the OAuth client's
 * token host and the credentials folder.
 */
import { assertEquals, assertRejects } from "../_assert.ts";
import { gdriveManifest, normaliseBase } from "../../../plugins/gdrive/manifest.ts";
import type { OAuthClient } from "../../../plugins/gdrive/_tokens.ts";
import { SyftError } from "../../../core/errors/mod.ts";

const client: OAuthClient = {
  clientId: "id",
  clientSecret: "secret",
  authUri: "https://accounts.google.com/o/oauth2/auth",
  tokenUri: "https://oauth2.googleapis.com/token",
};

Deno.test("by default the plugin may reach www.googleapis.com and the token host only", () => {
  const manifest = gdriveManifest({
    identity: "a@x.org",
    credentialsDir: "/home/a/.syft/credentials",
    apiBase: "https://www.googleapis.com/",
    client,
  });
  assertEquals(manifest.permissions, {
    net: ["www.googleapis.com", "oauth2.googleapis.com"],
    read: ["/home/a/.syft/credentials"],
    write: ["/home/a/.syft/credentials"],
  });
  assertEquals(manifest.init.fullListEvery, 60);
});

Deno.test("SYFT_GDRIVE_API on loopback is granted with its port, once when it also serves tokens", () => {
  const manifest = gdriveManifest({
    identity: "a@x.org",
    credentialsDir: "/tmp/c",
    apiBase: "http://127.0.0.1:4567",
    client: { ...client, tokenUri: "http://127.0.0.1:4567/token" },
  });
  assertEquals(manifest.permissions.net, ["127.0.0.1:4567"]);
  assertEquals(manifest.init.apiBase, "http://127.0.0.1:4567/");
});

Deno.test("a plain-http API base off loopback is refused", () => {
  let code = "";
  try {
    normaliseBase("http://proxy.example.org/");
  } catch (err) {
    code = (err as SyftError).code;
  }
  assertEquals(code, "E_INPUT");
});

Deno.test("without a client file the manifest says to sign in", async () => {
  const dir = await Deno.makeTempDir({ prefix: "syft-gdrive-manifest-" });
  try {
    const err = await assertRejects(
      () =>
        Promise.resolve().then(() => gdriveManifest({ identity: "a@x.org", credentialsDir: dir })),
      SyftError,
    );
    assertEquals(err.code, "E_TRANSPORT");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
