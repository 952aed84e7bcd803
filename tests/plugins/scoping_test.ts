/**
 * A plugin runs with exactly its manifest's grants: started like the local
 * transport (read and write of its folder, nothing else), it cannot read the
 * environment or files outside, write outside, or reach the network — while
 * the same probes succeed where a grant exists, so the checks can fail.
 */
import { assert, assertEquals } from "./_assert.ts";
import { startPlugin } from "../../plugins/host.ts";
import { localManifest } from "../../plugins/local/manifest.ts";
import type { PluginManifest } from "../../plugins/manifest.ts";

async function probe(manifest: PluginManifest): Promise<Record<string, string>> {
  const transport = await startPlugin(manifest);
  try {
    return JSON.parse((await transport.whoami()).email);
  } finally {
    await transport.close();
  }
}

async function withRig(
  fn: (
    rig: { dir: string; outside: string; url: string; manifest: PluginManifest },
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "syft-scope-in-" });
  const outside = await Deno.makeTempDir({ prefix: "syft-scope-out-" });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("reachable"),
  );
  try {
    await Deno.writeTextFile(`${dir}/own.txt`, "inside");
    await Deno.writeTextFile(`${outside}/secret.txt`, "outside");
    const url = `http://127.0.0.1:${server.addr.port}/`;
    // The server answers the test itself: a refusal in the plugin is the grant's doing.
    assertEquals(await (await fetch(url)).text(), "reachable");
    const local = localManifest(dir, "a@x.org");
    const manifest: PluginManifest = {
      ...local,
      entry: new URL("./testdata/probe_plugin.ts", import.meta.url),
      init: { ...local.init, outside, url },
    };
    await fn({ dir, outside, url, manifest });
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
}

Deno.test("a plugin with the local manifest's grants can use its folder and nothing else", async () => {
  await withRig(async ({ dir, outside, manifest }) => {
    assertEquals(manifest.permissions, { read: [dir], write: [dir], net: [] });
    const results = await probe(manifest);
    assertEquals(results.readOwn, "ok:inside");
    assertEquals(results.writeOwn, "ok:written");
    assertEquals(await Deno.readTextFile(`${dir}/written-by-plugin.txt`), "inside");
    for (
      const name of [
        "envHome",
        "readEtcPasswd",
        "readOutside",
        "readOutsideViaDotDot",
        "listOutside",
        "writeOutside",
        "makeTempFile",
        "fetchLocal",
        "connectLocal",
        "runCommand",
        "hostname",
      ]
    ) {
      assertEquals(results[name], "NotCapable", `probe ${name}`);
    }
    const leaked = await Array.fromAsync(Deno.readDir(outside));
    assertEquals(leaked.map((e) => e.name), ["secret.txt"], "nothing was written outside");
  });
});

Deno.test("the same probes succeed where the manifest grants them (so the checks can fail)", async () => {
  await withRig(async ({ dir, outside, manifest }) => {
    const results = await probe({
      ...manifest,
      permissions: { read: [dir, outside], write: [dir, outside], net: ["127.0.0.1"] },
    });
    assertEquals(results.readOutside, "ok:outside");
    assertEquals(results.readOutsideViaDotDot, "ok:outside");
    assertEquals(results.writeOutside, "ok:undefined");
    assertEquals(results.fetchLocal, "ok:reachable");
    assertEquals(results.connectLocal, "ok:connected");
    // Still never granted by a manifest: env, run, sys.
    assertEquals(results.envHome, "NotCapable");
    assertEquals(results.runCommand, "NotCapable");
    assertEquals(results.hostname, "NotCapable");
    assert(results.readEtcPasswd === "NotCapable");
  });
});
