/**
 * The Drive plugin's Worker runs with its manifest's grants only: its
 * credentials folder and its API host. Started with those grants, a probe
 * cannot list or read $HOME, read the environment, or write outside — while
 * it can use what is granted, and reads $HOME once that is granted too, so
 * the checks can fail.
 */
import { assertEquals } from "../_assert.ts";
import { startPlugin } from "../../../plugins/host.ts";
import { gdriveManifest } from "../../../plugins/gdrive/manifest.ts";
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
  const credentials = await Deno.makeTempDir({ prefix: "syft-gdrive-scope-" });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("reachable"),
  );
  try {
    await Deno.writeTextFile(`${credentials}/own.txt`, "inside");
    const api = `http://127.0.0.1:${server.addr.port}/`;
    const manifest = gdriveManifest({
      identity: "a@x.org",
      credentialsDir: credentials,
      apiBase: api,
      client: {
        clientId: "id",
        clientSecret: "secret",
        authUri: `${api}o/oauth2/auth`,
        tokenUri: `${api}token`,
      },
    });
    await fn({
      ...manifest,
      entry: PROBE,
      init: { dir: credentials, outside: home, url: api },
    }, home);
  } finally {
    await server.shutdown();
    await Deno.remove(credentials, { recursive: true });
  }
}

Deno.test("the gdrive Worker cannot read $HOME, the environment or anything but its credentials", async () => {
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
    assertEquals(results.listOutside?.startsWith("ok:"), true, results.listOutside);
    assertEquals(results.writeOutside, "NotCapable", "still no write outside");
  });
});
