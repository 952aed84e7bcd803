/**
 * A site's sync engine driven in process (rounds called directly) over its
 * real transport plugin wrapped in a call counter: for tests that need many
 * rounds, a fake clock or exact transport calls.
 * @module
 */
import { posix } from "node:path";
import { openSync } from "../../cli/sync.ts";
import { Output } from "../../cli/output.ts";
import type { Context } from "../../cli/context.ts";
import { loadConfig } from "../../core/config/load.ts";
import { type RoundSummary, runRound } from "../../core/sync/round.ts";
import type { PeerStore } from "../../core/peers/store.ts";
import type { SyncContext } from "../../core/sync/context.ts";
import type { CheckpointThresholds } from "../../core/checkpoints/rolling.ts";
import { startPlugin } from "../../plugins/host.ts";
import { manifestFor } from "../../plugins/registry.ts";
import { CountingTransport } from "../../scripts/counting_transport.ts";
import type { Site } from "./_rig.ts";

/** A site's sync context, in process, over a counting transport. */
export interface Live {
  site: Site;
  transport: CountingTransport;
  sync: SyncContext;
  peers: PeerStore;
  warnings: string[];
  round(): Promise<RoundSummary>;
  close(): Promise<void>;
}

/** Open `site`'s engine in process; `now` and `thresholds` replace the real ones. */
export async function live(
  site: Site,
  options: { now?: () => number; thresholds?: CheckpointThresholds; gapTimeoutMs?: number } = {},
): Promise<Live> {
  const warnings: string[] = [];
  const out = new Output({ json: false, quiet: false }, {
    out: () => {},
    err: (text) => warnings.push(text),
  });
  const ctx: Context = {
    home: site.home,
    out,
    env: { HOME: posix.dirname(site.home) },
    cwd: Deno.cwd(),
    debug: false,
    interactive: false,
  };
  const config = await loadConfig(site.home);
  const transport = new CountingTransport(
    await startPlugin(manifestFor(config.transport, { identity: config.email, home: site.home })),
  );
  const opened = await openSync(ctx, config, { transport });
  if (options.now) opened.sync.clock = { now: options.now };
  if (options.thresholds) opened.sync.thresholds = options.thresholds;
  if (options.gapTimeoutMs !== undefined) opened.sync.gapTimeoutMs = options.gapTimeoutMs;
  return {
    site,
    transport,
    sync: opened.sync,
    peers: opened.peers,
    warnings,
    round: () => runRound(opened.sync, opened.peers),
    close: () => opened.close(),
  };
}

/** Rounds on both sides until neither sends nor receives anything. */
export async function quiesce(a: Live, b: Live): Promise<void> {
  for (let i = 0; i < 8; i++) {
    const ra = await a.round();
    const rb = await b.round();
    if (ra.sent + ra.received + rb.sent + rb.received === 0) return;
  }
  throw new Error("the two sites never went quiet");
}
