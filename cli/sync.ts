/**
 * `syft sync [--watch] [--interval <s>] [--allow-mass-delete]`
 *
 * This module words the command and its output; the engine (cli/sync_round.ts)
 * loads after the transport's Worker has started, so the two overlap.
 * @module
 */
import type { Command } from "commander";
import type { Config } from "../core/config/config.ts";
import { positiveSeconds } from "../core/config/flag_values.ts";
import { homeLayout } from "../core/config/home.ts";
import { loadConfig } from "../core/config/load.ts";
import { SyftError } from "../core/errors/mod.ts";
import { lazyImport } from "../core/lazy_import.ts";
import { PeerStore } from "../core/peers/store.ts";
import { MOVED_NAMES } from "../core/sync/moved_names.ts";
import type { ChannelFailure, RoundSummary } from "../core/sync/round.ts";
import { refusalLines } from "../core/sync/refusals.ts";
import { DEFAULT_POLL_MS } from "../core/sync/poll_policy.ts";
import type { Session } from "../core/sync/session.ts";
import type { WatchEvent } from "../core/sync/watch.ts";
import type { Transport } from "../core/transport/contract.ts";
import { type Context, withContext } from "./context.ts";
import type { SyncOptions } from "./sync_round.ts";
import { openTransports, startTransportsEarly } from "./transport.ts";

/** The engine side (a computed specifier: core/lazy_import.ts). */
function loadRounds(): Promise<typeof import("./sync_round.ts")> {
  return lazyImport<typeof import("./sync_round.ts")>(new URL("./sync_round.ts", import.meta.url));
}

/** The options of `syft sync`. */
export interface SyncFlags {
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
    .option(
      "--watch",
      "keep running, reacting to local edits and peers' objects; prints what it watches, a line per round that moved files, and when it stops",
    )
    .option("--interval <seconds>", "with --watch: how often to poll (default 5)")
    .option("--allow-mass-delete", "allow a round that deletes more than half of a peer's mirror")
    .action(withContext(runSync));
}

/** Everything a round needs, opened from the config; `close()` when done. */
export async function openSync(
  ctx: Context,
  config: Config,
  options: { allowMassDelete?: boolean; transport?: Transport } = {},
): Promise<Session> {
  return (await loadRounds()).openSync(ctx, config, options);
}

/**
 * One round under the round lock, then the jobs it brought; a second round
 * publishes what that wrote (see the core's `syncOnce`).
 */
export async function syncOnce(
  ctx: Context,
  config: Config,
  options: SyncOptions = {},
): Promise<RoundSummary> {
  return (await loadRounds()).syncOnce(ctx, config, options);
}

function describe(s: RoundSummary): string {
  return `sent ${s.sent} batch(es), received ${s.received}, applied ${s.applied}, rejected ${s.rejected}, ` +
    `conflicts ${s.conflicts}, quarantined ${s.quarantined}, proposed ${s.proposed}`;
}

/** Rejections a round names one by one; the rest are counted. */
const MAX_REJECTION_LINES = 20;

/**
 * What was refused this round, one line each (bounded): our writes a peer
 * refused (`refused: …`), and peers' writes we refused (`rejected: …`).
 */
function refusalReport(s: RoundSummary): string[] {
  const lines = refusalLines(s.refused);
  const rejected = [...s.rejections].sort((a, b) =>
    a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0
  );
  for (const r of rejected.slice(0, MAX_REJECTION_LINES)) {
    lines.push(`rejected: ${r.path} from ${r.peer}: ${r.detail}`);
  }
  if (rejected.length > MAX_REJECTION_LINES) {
    lines.push(`… and ${rejected.length - MAX_REJECTION_LINES} more rejected write(s)`);
  }
  return lines;
}

/** `public/a.csv, public/b.csv` when few, `12 files` when many. */
function files(count: number, paths: string[]): string {
  if (count <= MOVED_NAMES && paths.length === count) return paths.join(", ");
  return `${count} file${count === 1 ? "" : "s"}`;
}

/**
 * The `--watch` line of a round that moved something, per peer
 * (`ds@x.org: received a.csv; sent 12 files`); null for an idle round.
 */
export function describeMoved(s: RoundSummary): string | null {
  const parts = s.moved.filter((m) => m.received + m.sent > 0).map((m) => {
    const what = [
      ...(m.received ? [`received ${files(m.received, m.received_paths)}`] : []),
      ...(m.sent ? [`sent ${files(m.sent, m.sent_paths)}`] : []),
    ];
    return `${m.peer}: ${what.join("; ")}`;
  });
  const other: string[] = [];
  if (s.rejected) other.push(`rejected ${s.rejected}`);
  if (s.conflicts) other.push(`conflicts ${s.conflicts}`);
  if (s.quarantined) other.push(`quarantined ${s.quarantined}`);
  if (s.refused.length) other.push(`refused ${s.refused.length}`);
  if (s.resumed) other.push(`finished ${s.resumed} batch(es) an interrupted round had applied`);
  if (parts.length === 0 && other.length === 0) {
    // Batches of acks or controls only move no file: not worth a line.
    return null;
  }
  return [...parts, ...other].join(" | ");
}

/** One line naming a peer's failed channel and why. */
export function describeFailure(f: ChannelFailure): string {
  return `${f.direction} ${f.direction === "reading" ? "from" : "to"} ${f.peer} failed: ${f.error}`;
}

/**
 * The error `syft sync` ends with when a peer's channel failed (the other
 * peers synced): the first failure's exit code, and its hint when alone.
 */
function failedRound(failures: ChannelFailure[]): SyftError | null {
  const first = failures[0];
  if (!first) return null;
  const peers = [...new Set(failures.map((f) => f.peer))];
  if (failures.length === 1) {
    return new SyftError(first.code, describeFailure(first), {
      hint: first.hint ?? "see `syft status`; fix it and run syft sync again",
    });
  }
  return new SyftError(
    first.code,
    `sync failed for ${
      peers.length === 1 ? peers[0] : `${peers.length} peers (${peers.join(", ")})`
    }; ` +
      `the others synced`,
    { hint: first.hint ?? "see the warnings above and `syft status`" },
  );
}

/** `syft sync` with its flags (the parser's route and cli/direct_run.ts's). */
export async function runSync(ctx: Context, flags: SyncFlags): Promise<void> {
  if (!flags.watch && flags.interval !== undefined) {
    throw new SyftError("E_USAGE", "--interval only applies with --watch", {
      hint: `syft sync --watch --interval ${flags.interval}`,
    });
  }
  const config = await loadConfig(ctx.home);
  const options = { allowMassDelete: flags.allowMassDelete ?? false };
  if (!flags.watch) {
    const peers = new PeerStore(homeLayout(ctx.home).peers);
    const early = startTransportsEarly(() => openTransports(config, ctx.home, peers));
    let summary: RoundSummary;
    try {
      summary = await syncOnce(ctx, config, { ...options, early });
    } finally {
      await early.dispose();
    }
    for (const p of summary.problems) ctx.out.warn(p);
    for (const line of refusalReport(summary)) ctx.out.line(line);
    // One failure is the closing error itself; several are each named first.
    if (summary.failures.length > 1) {
      for (const f of summary.failures) ctx.out.warn(describeFailure(f));
    }
    ctx.out.result(summary, (s) => ctx.out.line(describe(s)));
    const failed = failedRound(summary.failures);
    if (failed) throw failed;
    return;
  }
  await watch(ctx, config, options, parsePace(flags.interval));
}

/** `--interval <seconds>` as the poll policy's input. */
function parsePace(raw: string | undefined): { intervalMs: number; explicit: boolean } {
  if (raw === undefined) return { intervalMs: DEFAULT_POLL_MS, explicit: false };
  return { intervalMs: positiveSeconds(raw, "--interval", 5) * 1000, explicit: true };
}

/** A round's time for people: UTC to the second. */
function stamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Print one event of `--watch`: a line each, or a JSON object each with --json. */
function sayWatch(ctx: Context, e: WatchEvent): void {
  const at = new Date().toISOString();
  switch (e.kind) {
    case "start": {
      const { datasite, transports, peers } = e;
      ctx.out.record({ event: "start", at, datasite, transports, peers }, () => {
        const withPeers = peers.length ? `with ${peers.join(", ")}` : "with no accepted peer yet";
        ctx.out.line(
          `${stamp()} watching ${datasite} over ${transports.join(", ")} ${withPeers} ` +
            `(Ctrl-C to stop)`,
        );
      });
      return;
    }
    case "round": {
      const summary = e.summary;
      const moved = describeMoved(summary);
      if (moved !== null) {
        ctx.out.record({ event: "round", at, ...summary }, () => {
          ctx.out.line(`${stamp()} ${moved}`);
          for (const line of refusalReport(summary)) ctx.out.line(`  ${line}`);
        });
      }
      for (const p of summary.problems) ctx.out.warn(p);
      // A failed channel is said when it starts failing (status lists it while it lasts).
      for (const line of new Set(e.newFailures.map(describeFailure))) ctx.out.warn(line);
      return;
    }
    case "retry":
      ctx.out.warn(`${e.message}; trying again in ${Math.round(e.waitMs / 1000)} s`);
      return;
    case "stop":
      ctx.out.record({ event: "stop", at, rounds: e.rounds }, () => {
        ctx.out.line(`${stamp()} stopped after ${e.rounds} round(s)`);
      });
  }
}

/** `--watch` until SIGINT/SIGTERM, which let the current round finish. */
async function watch(
  ctx: Context,
  config: Config,
  options: { allowMassDelete: boolean },
  pace: { intervalMs: number; explicit: boolean },
): Promise<void> {
  // Before anything slow, so a signal during start-up also means "stop cleanly".
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const rounds = await loadRounds();
    await rounds.watchRounds(ctx, config, options, pace, stop.signal, (e) => sayWatch(ctx, e));
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}
