/**
 * A test plugin that tries to reach outside its grants. `whoami` runs every
 * probe named in `init.probes` and answers with a JSON map from probe to
 * `ok:<value>` or the error's class name (e.g. `NotCapable`).
 * @module
 */
import { serve } from "../../../plugins/serve.ts";

type Probe = () => Promise<unknown> | unknown;

function probesFor(init: Record<string, unknown>): Record<string, Probe> {
  const dir = String(init.dir);
  const outside = String(init.outside);
  const url = String(init.url);
  const port = Number(new URL(url).port);
  return {
    envHome: () => Deno.env.get("HOME"),
    readEtcPasswd: () => Deno.readTextFile("/etc/passwd"),
    readOutside: () => Deno.readTextFile(`${outside}/secret.txt`),
    readOutsideViaDotDot: () =>
      Deno.readTextFile(`${dir}/../${outside.split("/").pop()}/secret.txt`),
    listOutside: async () => (await Array.fromAsync(Deno.readDir(outside))).length,
    writeOutside: () => Deno.writeTextFile(`${outside}/written-by-plugin.txt`, "x"),
    makeTempFile: () => Deno.makeTempFile(),
    fetchLocal: async () => await (await fetch(url)).text(),
    connectLocal: async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return "connected";
    },
    runCommand: async () => (await new Deno.Command("true").output()).code,
    hostname: () => Deno.hostname(),
    readOwn: () => Deno.readTextFile(`${dir}/own.txt`),
    writeOwn: async () => {
      await Deno.writeTextFile(`${dir}/written-by-plugin.txt`, "inside");
      return "written";
    },
  };
}

serve((init) => {
  const probes = probesFor(init);
  return {
    capabilities: () => Promise.resolve({ enforcesSharing: false, canWatch: false }),
    async whoami() {
      const results: Record<string, string> = {};
      for (const [name, probe] of Object.entries(probes)) {
        try {
          results[name] = `ok:${String(await probe())}`;
        } catch (err) {
          results[name] = err instanceof Error ? err.name : String(err);
        }
      }
      return { email: JSON.stringify(results), authenticated: false };
    },
    openChannel: (to: string) => Promise.resolve({ sender: "p@example.org", recipient: to }),
    listIncoming: () => Promise.resolve([]),
    put: () => Promise.resolve(),
    list: () => Promise.resolve({ objects: [] }),
    get: () => Promise.resolve(new ReadableStream<Uint8Array>()),
    delete: () => Promise.resolve(),
    changes: () => Promise.resolve({ cursor: "", channels: [] }),
  };
});
