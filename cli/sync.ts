/**
 * `syft sync [--watch] [--interval <s>] [--allow-mass-delete]`
 * @module
 */
import type { Command } from "commander";
import { homeLayout } from "../core/config/home.ts";
import type { Config } from "../core/config/config.ts";
import { readKeys } from "../core/config/keystore.ts";
import { loadConfig } from "../core/config/load.ts";
import { SyftError } from "../core/errors/mod.ts";
import { PeerService } from "../core/peers/service.ts";
import { PeerStore } from "../core/peers/store.ts";
import type { SyncContext } from "../core/sync/context.ts";
import { acquireRoundLock } from "../core/sync/lock.ts";
import { type RoundSummary, runRound } from "../core/sync/round.ts";
import { readState, stateLayout } from "../core/sync/state.ts";
import type { Transport } from "../plugins/contract.ts";
import { type Context, withContext } from "./context.ts";
import { openTransport } from "./transport.ts";

interface SyncFlags {
  watch?: boolean;
  interval?: string;
  allowMassDelete?: boolean;
}

/** Register `syft sync`. */
export function registerSync(program: Command): void {
  program
    .command("sync")
    .summary("send and receive changes (--watch to keep running)")
    .description(
      "One round: send local changes and proposals, receive and apply peers' batches,\n" +
        "apply or reject incoming proposals. Waits if another round runs under the same home.",
    )
    .option("--watch", "keep running, reacting to local edits and peers' objects")
    .option("--interval <seconds>", "with --watch: how often to poll (default 5)")
    .option("--allow-mass-delete", "allow a round that deletes more than half of a peer's mirror")
    .action(withContext(runSync));
}

const GIB = 1024 * 1024 * 1024;

/** Everything a round needs, opened from the config; `close()` when done. */
export async function openSync(
  ctx: Context,
  config: Config,
  options: { allowMassDelete?: boolean; transport?: Transport } = {},
): Promise<{ sync: SyncContext; peers: PeerStore; close(): Promise<void> }> {
  const layout = homeLayout(ctx.home);
  const keys = await readKeys(layout.keys);
  const transport = options.transport ?? await openTransport(config, ctx.home);
  const peers = new PeerStore(layout.peers);
  const service = new PeerService({
    transport,
    store: peers,
    me: config.email,
    keys,
    now: () => Date.now(),
  });
  const sync: SyncContext = {
    me: config.email,
    root: config.root,
    layout: stateLayout(layout.state),
    keys,
    transport,
    now: () => Date.now(),
    warn: (m) => ctx.out.warn(m),
    discover: async () => {
      const found = await service.discover();
      for (const p of found.problems) ctx.out.warn(p);
      for (const p of found.newPending) {
        ctx.out.warn(
          `${p} asks to peer with you: check with \`syft peer list\`, then \`syft peer approve ${p}\``,
        );
      }
    },
    allowMassDelete: options.allowMassDelete ?? false,
    quotaBytes: GIB,
  };
  return { sync, peers, close: () => transport.close() };
}

/** Run one round under the round lock. */
export async function syncOnce(
  ctx: Context,
  config: Config,
  options: { allowMassDelete?: boolean } = {},
): Promise<RoundSummary> {
  const lock = await acquireRoundLock(homeLayout(ctx.home).state, {
    onWait: () => ctx.out.warn("another sync round is running under this home; waiting for it"),
  });
  try {
    const opened = await openSync(ctx, config, options);
    try {
      return await runRound(opened.sync, opened.peers);
    } finally {
      await opened.close();
    }
  } finally {
    lock.release();
  }
}

function describe(s: RoundSummary): string {
  return `sent ${s.sent} batch(es), received ${s.received}, applied ${s.applied}, rejected ${s.rejected}, ` +
    `conflicts ${s.conflicts}, quarantined ${s.quarantined}, proposed ${s.proposed}`;
}

async function runSync(ctx: Context, flags: SyncFlags): Promise<void> {
  const config = await loadConfig(ctx.home);
  const options = { allowMassDelete: flags.allowMassDelete ?? false };
  if (!flags.watch) {
    const summary = await syncOnce(ctx, config, options);
    for (const p of summary.problems) ctx.out.warn(p);
    ctx.out.result(summary, (s) => ctx.out.line(describe(s)));
    return;
  }
  const interval = flags.interval === undefined ? 5 : Number(flags.interval);
  if (!Number.isFinite(interval) || interval <= 0) {
    throw new SyftError(
      "E_USAGE",
      `--interval ${JSON.stringify(flags.interval)} is not a positive number of seconds`,
      {
        hint: "e.g. --interval 5",
      },
    );
  }
  await watchLoop(ctx, config, options, interval * 1000);
}

/** Paths syft writes itself while syncing; they must not wake the watcher. */
function isOwnWrite(path: string): boolean {
  return path.includes("/.syft-tmp/") || /\/\.[^/]*\.tmp-[^/]*$/.test(path);
}

/**
 * `--watch`: one transport kept open; a round, then wait for a local edit
 * (debounced, so temp-file + rename saves and bursts coalesce), a peer's new
 * object (the transport's `changes()` can wait: the local transport watches its
 * folder), or the poll interval. SIGINT/SIGTERM finish the current round.
 */
async function watchLoop(
  ctx: Context,
  config: Config,
  options: { allowMassDelete: boolean },
  intervalMs: number,
): Promise<void> {
  const opened = await openSync(ctx, config, options);
  const stateDir = homeLayout(ctx.home).state;
  let stopping = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await Deno.mkdir(config.root, { recursive: true });
  const watcher = Deno.watchFs(config.root, { recursive: true });
  let localDirty = false;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  const pump = (async () => {
    for await (const event of watcher) {
      if (event.paths.every(isOwnWrite)) continue;
      clearTimeout(debounce);
      debounce = setTimeout(() => {
        localDirty = true;
        wake?.();
      }, 200);
    }
  })();
  let remote: Promise<unknown> | null = null;
  try {
    while (!stopping) {
      localDirty = false;
      const lock = await acquireRoundLock(stateDir, {
        onWait: () => ctx.out.warn("another sync round is running under this home; waiting for it"),
      });
      let summary: RoundSummary;
      try {
        summary = await runRound(opened.sync, opened.peers);
      } finally {
        lock.release();
      }
      if (summary.sent + summary.received + summary.applied + summary.rejected > 0) {
        ctx.out.line(`${new Date().toISOString()} ${describe(summary)}`);
      }
      for (const p of summary.problems) ctx.out.warn(p);
      if (stopping || localDirty) continue;
      // Wait for whichever comes first; a pending changes() call is reused, not stacked.
      const cursor = await readState<{ cursor: string }>(stateLayout(stateDir).changesCursor);
      remote ??= opened.sync.transport.changes(cursor?.cursor ?? null, { waitMs: intervalMs })
        .then((r) => {
          remote = null;
          if (r.channels.length) wake?.();
        }, () => {
          remote = null;
        });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    clearTimeout(debounce);
    watcher.close();
    await pump.catch(() => {});
    await opened.close();
  }
}
