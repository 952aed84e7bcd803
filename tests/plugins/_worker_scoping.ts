/**
 * The scoping tests every cloud plugin's Worker must pass: started with its
 * manifest's grants only (its credentials folder and its API host), a probe
 * cannot list or read $HOME, read the environment, or write outside, while it
 * can use what is granted; and it lists $HOME once that is granted too, so
 * the checks can fail.
 * @module
 */
import { assert, assertEquals } from "./_assert.ts";
import { startPlugin } from "../../plugins/host.ts";
import type { PluginManifest } from "../../plugins/manifest.ts";

const PROBE = new URL("./testdata/probe_plugin.ts", import.meta.url);

/** The plugin's manifest for `credentials` and a loopback API at `api` (no trailing slash). */
export type ManifestFor = (credentials: string, api: string) => PluginManifest;

async function probe(manifest: PluginManifest): Promise<Record<string, string>> {
  const transport = await startPlugin(manifest);
  try {
    return JSON.parse((await transport.whoami()).email);
  } finally {
    await transport.close();
  }
}

async function withRig(
  kind: string,
  manifestFor: ManifestFor,
  fn: (manifest: PluginManifest, home: string) => Promise<void>,
) {
  const home = Deno.env.get("HOME");
  if (!home) throw new Error("this test needs $HOME");
  const credentials = await Deno.makeTempDir({ prefix: `syft-${kind}-scope-` });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("reachable"),
  );
  try {
    await Deno.writeTextFile(`${credentials}/own.txt`, "inside");
    const api = `http://127.0.0.1:${server.addr.port}`;
    const manifest = manifestFor(credentials, api);
    await fn(
      { ...manifest, entry: PROBE, init: { dir: credentials, outside: home, url: api } },
      home,
    );
  } finally {
    await server.shutdown();
    await Deno.remove(credentials, { recursive: true });
  }
}

/** Register the two scoping tests for plugin `kind` (their names as each plugin had them). */
export function workerScopingTests(kind: string, manifestFor: ManifestFor): void {
  Deno.test(`the ${kind} Worker cannot read $HOME, the environment or anything but its credentials`, async () => {
    await withRig(kind, manifestFor, async (manifest) => {
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

  Deno.test(`the same ${kind} Worker lists $HOME once read access to it is granted (so the check can fail)`, async () => {
    await withRig(kind, manifestFor, async (manifest, home) => {
      const results = await probe({
        ...manifest,
        permissions: { ...manifest.permissions, read: [...manifest.permissions.read, home] },
      });
      assert(results.listOutside?.startsWith("ok:"), results.listOutside);
      assertEquals(results.writeOutside, "NotCapable", "still no write outside");
    });
  });
}
