/**
 * The engine side of `syft sync`: sessions, rounds, the jobs after a round and
 * `--watch`. cli/sync.ts loads it (a computed specifier, core/lazy_import.ts)
 * only once it has started the transport's Worker, so the Worker loads its
 * modules on the other core while this thread loads these.
 * @module
 */
import { posix } from "node:path";
import type { Config } from "../core/config/config.ts";
import { intakeDue } from "../core/jobs/intake_due.ts";
import { lazyImport } from "../core/lazy_import.ts";
import type { RoundSummary } from "../core/sync/round.ts";
import {
  openSession,
  type Session,
  type SessionSetup,
  syncOnce as syncSession,
} from "../core/sync/session.ts";
import { type WatchEvent, watchLoop } from "../core/sync/watch.ts";
import type { Transport } from "../core/transport/contract.ts";
import type { Context } from "./context.ts";
import { type OpenedTransports, openTransports } from "./transport.ts";
import { type Progress, startProgress } from "./progress.ts";

/** How a command's session reaches its transport. */
export interface SyncOptions {
  allowMassDelete?: boolean;
  /** An open transport to use instead (tests, benchmarks). */
  transport?: Transport;
  /**
   * A start of the configured transport(s) already under way
   * (cli/transport.ts `startTransportsEarly`): the first session takes it.
   */
  early?: { take(): Promise<OpenedTransports> | null };
}

/** A session's setup for this command: its reports go to the command's output. */
function sessionSetup(ctx: Context, config: Config, options: SyncOptions): SessionSetup {
  return {
    home: ctx.home,
    config,
    reports: {
      warn: (m) => ctx.out.warn(m),
      note: (m) => ctx.out.note(m),
      progress: restoreProgress(ctx),
    },
    openTransport: (peers) => options.early?.take() ?? openTransports(config, ctx.home, peers),
    transport: options.transport,
    allowMassDelete: options.allowMassDelete ?? false,
  };
}

/** Everything a round needs, opened from the config; `close()` when done. */
export function openSync(
  ctx: Context,
  config: Config,
  options: SyncOptions = {},
): Promise<Session> {
  return openSession(sessionSetup(ctx, config, options));
}

/** A bar per restore (a terminal only; never with --json or --quiet). */
function restoreProgress(ctx: Context): Session["sync"]["progress"] {
  let bar: Progress | null = null;
  return (label, done, total) => {
    bar ??= startProgress(label, total, {
      enabled: Deno.stderr.isTerminal() && !ctx.out.json && !ctx.out.quiet,
    });
    bar.update(done);
    if (done >= total) {
      bar.finish();
      bar = null;
    }
  };
}

/**
 * The jobs a round brought (see the core's `receiveJobs`), said on the output.
 * The job modules load only when the intake has something to look at.
 */
async function jobsAfterRound(ctx: Context, config: Config, background: boolean): Promise<boolean> {
  if (!(await intakeDue(ctx.home, posix.join(config.root, config.email)))) return false;
  const { receiveJobs } = await lazyImport<typeof import("../core/jobs/after_round.ts")>(
    new URL("../core/jobs/after_round.ts", import.meta.url),
  );
  const say = {
    home: ctx.home,
    config,
    note: ctx.out.note.bind(ctx.out),
    warn: ctx.out.warn.bind(ctx.out),
  };
  return receiveJobs(say, { background });
}

/**
 * One round under the round lock, then the jobs it brought; a second round
 * publishes what that wrote (see the core's `syncOnce`).
 */
export function syncOnce(
  ctx: Context,
  config: Config,
  options: SyncOptions = {},
): Promise<RoundSummary> {
  return syncSession(sessionSetup(ctx, config, options), () => jobsAfterRound(ctx, config, false));
}

/** `--watch`'s loop until `stop` aborts; each event goes to `onEvent`. */
export function watchRounds(
  ctx: Context,
  config: Config,
  options: { allowMassDelete: boolean },
  pace: { intervalMs: number; explicit: boolean },
  stop: AbortSignal,
  onEvent: (e: WatchEvent) => void,
): Promise<void> {
  return watchLoop(sessionSetup(ctx, config, options), {
    pace,
    stop,
    onEvent,
    afterRound: () => jobsAfterRound(ctx, config, true),
  });
}
