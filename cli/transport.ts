/**
 * The CLI's bridge to transports: checks a spec before it is saved, and opens the
 * configured transport through the plugin host (core never imports a plugin).
 * @module
 */
import { formatTransportSpec, type TransportSpec } from "../core/config/transport_spec.ts";
import type { Transport } from "../plugins/contract.ts";
import { startPlugin } from "../plugins/host.ts";
import { manifestFor } from "../plugins/registry.ts";

/**
 * Check that a transport can be used before it is written into config.yaml,
 * with the plugin's own preflight (for `local:`, an existing writable folder).
 * `create` makes a missing `local:` folder first: only for the default folder,
 * never for one the user named (a typo must not silently become a new folder).
 * @throws {SyftError} `E_TRANSPORT` (exit 4) with a hint, `E_UNIMPLEMENTED` for unbuilt kinds
 */
export async function checkTransportSpec(
  spec: TransportSpec,
  ctx: { identity: string; home: string; create: boolean },
): Promise<void> {
  const manifest = manifestFor(formatTransportSpec(spec), ctx);
  if (spec.kind === "local" && ctx.create) await Deno.mkdir(spec.dir, { recursive: true });
  await manifest.preflight?.();
}

/**
 * Start the configured transport's plugin in its Worker. Callers must `close()` it:
 * an idle Worker keeps the process alive.
 * @throws {SyftError} `E_TRANSPORT` when it cannot start
 */
export async function openTransport(
  config: { email: string; transport: string },
  home: string,
  options: { callTimeoutMs?: number } = {},
): Promise<Transport> {
  const manifest = manifestFor(config.transport, { identity: config.email, home });
  return await startPlugin(manifest, options);
}
