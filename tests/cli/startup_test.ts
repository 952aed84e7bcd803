/**
 * Every command starts from main.ts: what it imports statically is paid by
 * `syft status` as much as by `syft sync`. The Google libraries (megabytes)
 * belong to the Drive plugin's Worker alone.
 */
import { assert, assertEquals } from "../assert.ts";

Deno.test("main.ts does not load the Google Drive or auth libraries: only the Drive Worker does", async () => {
  const main = new URL("../../main.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", main.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  // `modules` is the graph main.ts reaches (npm entries included as npm:…);
  // `npmPackages` would list the whole lock file, so it is not used.
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const loaded = graph.modules.map((m) => m.specifier);
  assert(loaded.some((s) => s.startsWith("npm:")), "npm modules are listed in the graph");
  assert(loaded.length > 10, `deno info listed ${loaded.length} modules`);
  const google = loaded.filter((s) => /googleapis|google-auth-library/.test(s));
  assertEquals(google, [], "statically imported from main.ts");
});
