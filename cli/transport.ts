/**
 * The CLI's bridge to transports: checks a spec before it is saved, and opens the
 * configured transport through the plugin host (core never imports a plugin).
 * @module
 */
import { type Config, DEFAULT_TRANSPORT } from "../core/config/config.ts";
import { formatTransportSpec, type TransportSpec } from "../core/config/transport_spec.ts";
import { SyftError } from "../core/errors/mod.ts";
import type { PeerStore } from "../core/peers/store.ts";
import { RoutedTransport } from "../core/sync/routed_transport.ts";
import type { Transport } from "../core/transport/contract.ts";
import { startPlugin } from "../plugins/host.ts";
import { manifestFor } from "../plugins/registry.ts";

/**
 * Check that a transport can be used before it is written into config.yaml,
 * with the plugin's own preflight (for `local:`, an existing writable folder).
 * `create` makes a missing `local:` folder first: only for the default folder,
 * never for one the user named (a typo must not silently become a new folder).
 * @throws {SyftError} `E_TRANSPORT` (exit 4) with a hint, `E_USAGE` for kinds not in this build
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
  config: { email: string; transport: string; gdrive?: { full_list_every: number } | undefined },
  home: string,
  options: { callTimeoutMs?: number } = {},
): Promise<Transport> {
  const manifest = manifestFor(config.transport, {
    identity: config.email,
    home,
    gdrive: config.gdrive,
  });
  return await startPlugin(manifest, options);
}

/** The installation's transports as one: the default alone, or all of them routed by peer. */
export interface OpenedTransports {
  transport: Transport;
  /** Set when named transports exist (config `transports:`). */
  routed?: RoutedTransport | undefined;
}

/**
 * Open `init`'s transport, or, when config.yaml names more, a
 * {@linkcode RoutedTransport} over all of them that starts each plugin on
 * first use and routes each peer by its record's `via`. Close `transport`.
 */
export async function openTransports(
  config: Pick<Config, "email" | "transport" | "transports" | "gdrive">,
  home: string,
  store: PeerStore,
): Promise<OpenedTransports> {
  const named = Object.entries(config.transports);
  if (named.length === 0) return { transport: await openTransport(config, home) };
  const members = [[DEFAULT_TRANSPORT, config.transport], ...named].map(([name, spec]) => ({
    name: name!,
    spec: spec!,
    open: () =>
      openTransport({ email: config.email, transport: spec!, gdrive: config.gdrive }, home),
  }));
  const routed = new RoutedTransport({
    me: config.email,
    members,
    routeOf: async (peer) => {
      const record = await store.get(peer).catch(() => null);
      return record ? record.via ?? DEFAULT_TRANSPORT : null;
    },
  });
  return { transport: routed, routed };
}

/** A start of the configured transport(s) under way, for a round that takes it later. */
export interface EarlyTransports {
  /** The start, handed over once (the taker closes it); null after that. */
  take(): Promise<OpenedTransports> | null;
  /** Close the transport if nobody took it (a round that never got that far). */
  dispose(): Promise<void>;
}

/**
 * Begin `open` (a call of {@linkcode openTransports}) now and hand it over
 * later. A Worker loads and compiles its modules on its own thread: started
 * before `syft sync` loads the engine, its start-up and the engine's loading
 * overlap instead of adding up. A failure is kept for the taker, who sees it
 * where it would have seen it without the early start.
 */
export function startTransportsEarly(open: () => Promise<OpenedTransports>): EarlyTransports {
  let pending: Promise<OpenedTransports> | null = open();
  // Not unhandled while nobody awaits it; the taker gets the rejection itself.
  const started = pending;
  started.catch(() => {});
  return {
    take() {
      const p = pending;
      pending = null;
      return p;
    },
    async dispose() {
      if (pending === null) return;
      pending = null;
      const opened = await started.catch(() => null);
      await opened?.transport.close();
    },
  };
}

/** The names `--via` accepts: the default and each named transport. */
export function transportNames(config: Pick<Config, "transports">): string[] {
  return [DEFAULT_TRANSPORT, ...Object.keys(config.transports)];
}

/**
 * Check a `--via <name>`: the name of a configured transport.
 * @returns the name to store in the peer record (undefined for the default)
 * @throws {SyftError} `E_USAGE` (exit 2) naming the transports there are
 */
export function checkVia(config: Pick<Config, "transports">, via: string): string | undefined {
  if (via === DEFAULT_TRANSPORT) return undefined;
  if (Object.hasOwn(config.transports, via)) return via;
  throw new SyftError("E_USAGE", `--via ${JSON.stringify(via)} names no transport`, {
    hint: `use one of ${
      transportNames(config).join(", ")
    }, or add it first with \`syft transport add ${via} <spec>\``,
  });
}
