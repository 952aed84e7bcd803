/**
 * The Dropbox plugin's Worker runs with its manifest's grants only: its
 * credentials folder and the API host. Started with those grants, a probe
 * cannot list or read $HOME, read the environment, or write outside, while
 * it can use what is granted, and lists $HOME once that is granted too, so
 * the checks can fail. The manifest grants Dropbox's four hosts, or the one
 * `SYFT_DROPBOX_API` host.
 */
import { assert, assertEquals } from "../_assert.ts";
import { startPlugin } from "../../../plugins/host.ts";
import { dropboxManifest } from "../../../plugins/dropbox/manifest.ts";
import type { PluginManifest } from "../../../plugins/manifest.ts";

const PROBE = new URL("../testdata/probe_plugin.ts", import.meta.url);

async function probe(manifest: PluginManifest): Promise<Record<string, string>> {
  const transport = await startPlugin(manifest);
  try {
    return JSON.parse((await transport.whoami()).email);
  } finally {
    await transport.close();
  }
}

async function withRig(fn: (manifest: PluginManifest, home: string) => Promise<void>) {
  const home = Deno.env.get("HOME");
  if (!home) throw new Error("this test needs $HOME");
  const credentials = await Deno.makeTempDir({ prefix: "syft-dropbox-scope-" });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("reachable"),
  );
  try {
    await Deno.writeTextFile(`${credentials}/own.txt`, "inside");
    const api = `http://127.0.0.1:${server.addr.port}`;
    const manifest = dropboxManifest({
      identity: "a@x.org",
      credentialsDir: credentials,
      apiBase: api,
    });
    await fn(
      { ...manifest, entry: PROBE, init: { dir: credentials, outside: home, url: api } },
      home,
    );
  } finally {
    await server.shutdown();
    await Deno.remove(credentials, { recursive: true });
  }
}

Deno.test("the dropbox Worker cannot read $HOME, the environment or anything but its credentials", async () => {
  await withRig(async (manifest) => {
    const results = await probe(manifest);
    assertEquals(results.readOwn, "ok:inside");
    assertEquals(results.writeOwn, "ok:written");
    assertEquals(results.fetchLocal, "ok:reachable", "the API host is reachable");
    for (
      const name of [
        "listOutside",
        "readOutside",
        "writeOutside",
        "envHome",
        "readEtcPasswd",
        "makeTempFile",
        "runCommand",
        "hostname",
      ]
    ) {
      assertEquals(results[name], "NotCapable", `probe ${name}`);
    }
  });
});

Deno.test("the same Worker lists $HOME once read access to it is granted (so the check can fail)", async () => {
  await withRig(async (manifest, home) => {
    const results = await probe({
      ...manifest,
      permissions: { ...manifest.permissions, read: [...manifest.permissions.read, home] },
    });
    assert(results.listOutside?.startsWith("ok:"), results.listOutside);
    assertEquals(results.writeOutside, "NotCapable", "still no write outside");
  });
});

Deno.test("the manifest grants Dropbox's four hosts, or only the SYFT_DROPBOX_API host", () => {
  const real = dropboxManifest({ identity: "a@x.org", credentialsDir: "/c", apiBase: "" });
  assertEquals(real.permissions.net.sort(), [
    "api.dropboxapi.com",
    "content.dropboxapi.com",
    "notify.dropboxapi.com",
    "www.dropbox.com",
  ]);
  assertEquals(real.permissions.read, ["/c"]);
  assertEquals(real.permissions.write, ["/c"]);
  const fake = dropboxManifest({
    identity: "a@x.org",
    credentialsDir: "/c",
    apiBase: "http://127.0.0.1:8765",
  });
  assertEquals(fake.permissions.net, ["127.0.0.1:8765"]);
  let refused = false;
  try {
    dropboxManifest({ identity: "a@x.org", credentialsDir: "/c", apiBase: "http://evil.org" });
  } catch {
    refused = true; // tokens must not travel in the clear to anything but loopback
  }
  assert(refused, "plain http to a remote host is refused");
});
