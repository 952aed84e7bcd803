/**
 * Run as a child process by host_test.ts: starts broken_plugin.ts, whose
 * module throws while loading, before serve.ts can catch anything. Deno then
 * prints the Worker's uncaught error on this process's stderr whatever the
 * host does, so the test captures it here instead of on the suite's terminal.
 * Prints one JSON line: how the start failed, and whether a plugin started
 * afterwards in the same process still answers (the host survived the crash).
 * @module
 */
import { startPlugin } from "../../../plugins/host.ts";
import type { PluginManifest } from "../../../plugins/manifest.ts";
import { SyftError } from "../../../core/errors/mod.ts";

function manifest(file: string): PluginManifest {
  return {
    name: "faulty",
    entry: new URL(`./${file}`, import.meta.url),
    permissions: { read: [], write: [], net: [] },
    init: {},
  };
}

const fast = {
  callTimeoutMs: 400,
  startTimeoutMs: 10_000,
  heartbeatMs: 50,
  livenessTimeoutMs: 600,
};

let failure: { code: string; message: string } | null = null;
try {
  await (await startPlugin(manifest("broken_plugin.ts"), fast)).close();
} catch (err) {
  failure = err instanceof SyftError
    ? { code: err.code, message: err.message }
    : { code: "not a SyftError", message: String(err) };
}
const next = await startPlugin(manifest("faulty_plugin.ts"), fast);
const after = await next.openChannel("u@example.org");
await next.close();
console.log(JSON.stringify({ failure, after: after.recipient }));
