/**
 * `syft sync [--watch] [--interval <s>] [--allow-mass-delete]`
 * @module
 */
import { posix } from "node:path";
import type { Command } from "commander";
import { positiveSeconds } from "../core/config/flag_values.ts";
import { homeLayout } from "../core/config/home.ts";
import type { Config } from "../core/config/config.ts";
import { readKeys } from "../core/config/keystore.ts";
import { loadConfig } from "../core/config/load.ts";
import { SyftError } from "../core/errors/mod.ts";
import { isSyftTemp } from "../core/paths/markers.ts";
import { PeerService } from "../core/peers/service.ts";
import { PeerStore } from "../core/peers/store.ts";
import type { SyncContext } from "../core/sync/context.ts";
import { acquireRoundLock } from "../core/sync/lock.ts";
import {
  type ChannelFailure,
  MOVED_NAMES,
  type PeerMoved,
  type RoundSummary,
  runRound,
} from "../core/sync/round.ts";
import { refusalLines } from "../core/sync/refusals.ts";
import { RoutedTransport } from "../core/sync/routed_transport.ts";
import { DEFAULT_POLL_MS, PollPolicy } from "../core/sync/poll_policy.ts";
import { readState, stateLayout } from "../core/sync/state.ts";
import type { Transport } from "../plugins/contract.ts";
import { type Context, withContext } from "./context.ts";
import { receiveJobs } from "./job_intake.ts";
import { openTransports } from "./transport.ts";
import { type Progress, startProgress } from "./progress.ts";

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
    .option(
      "--watch",
      "keep running, reacting to local edits and peers' objects; prints what it watches, a line per round that moved files, and when it stops",
    )
    .option("--interval <seconds>", "with --watch: how often to poll (default 5)")
    .option("--allow-mass-delete", "allow a round that deletes more than half of a peer's mirror")
    .action(withContext(runSync));
}

const GIB = 1024 * 1024 * 1024;

/** Longest wait between attempts while the transport fails in `--watch`. */
const MAX_RETRY_MS = 60_000;

/** Everything a round needs, opened from the config; `close()` when done. */
export async function openSync(
  ctx: Context,
  config: Config,
  options: { allowMassDelete?: boolean; transport?: Transport } = {},
): Promise<{ sync: SyncContext; peers: PeerStore; close(): Promise<void> }> {
  const layout = homeLayout(ctx.home);
  const keys = await readKeys(layout.keys);
  const peers = new PeerStore(layout.peers);
  // A transport passed in (tests) may route several transports itself.
  const opened = options.transport
    ? {
      transport: options.transport,
      routed: options.transport instanceof RoutedTransport ? options.transport : undefined,
    }
    : await openTransports(config, ctx.home, peers);
  const transport = opened.transport;
  const service = new PeerService({
    transport,
    store: peers,
    me: config.email,
    keys,
    now: () => Date.now(),
    foundOn: opened.routed && ((sender) => opened.routed!.foundOn(sender)),
  });
  const sync: SyncContext = {
    me: config.email,
    root: config.root,
    layout: stateLayout(layout.state),
    keys,
    transport,
    routes: opened.routed,
    now: () => Date.now(),
    warn: (m) => ctx.out.warn(m),
    discover: async () => {
      const found = await service.discover();
      for (const p of found.problems) ctx.out.warn(p);
      for (const p of found.newPending) {
        ctx.out.note(
          `${p} asks to peer with you: check with \`syft peer list\`, then \`syft peer approve ${p}\``,
        );
      }
    },
    allowMassDelete: options.allowMassDelete ?? false,
    quotaBytes: GIB,
    quarantineBytes: config.sync.quarantine_mib * 1024 * 1024,
    maxProposals: config.sync.max_proposals,
    thresholds: {
      checkpoint: config.sync.checkpoint_threshold,
      compact: config.sync.compact_threshold,
    },
    gapTimeoutMs: config.sync.gap_timeout_seconds * 1000,
    progress: restoreProgress(ctx),
  };
  return { sync, peers, close: () => transport.close() };
}

/** A bar per restore (a terminal only; never with --json or --quiet). */
function restoreProgress(ctx: Context): SyncContext["progress"] {
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
 * Run one round under the round lock, then record the jobs it brought; when
 * that wrote anything (a job's `pending` state, a policy's run), a second
 * round publishes it at once.
 */
export async function syncOnce(
  ctx: Context,
  config: Config,
  options: { allowMassDelete?: boolean } = {},
): Promise<RoundSummary> {
  const first = await lockedRound(ctx, config, options);
  if (!(await receiveJobs(ctx, config))) return first;
  const second = await lockedRound(ctx, config, options);
  return {
    ...second,
    received: first.received + second.received,
    applied: first.applied + second.applied,
    rejected: first.rejected + second.rejected,
    conflicts: first.conflicts + second.conflicts,
    quarantined: first.quarantined + second.quarantined,
    proposed: first.proposed + second.proposed,
    sent: first.sent + second.sent,
    problems: [...first.problems, ...second.problems],
    refused: [...first.refused, ...second.refused],
    rejections: [...first.rejections, ...second.rejections],
    moved: mergeMoved(first.moved, second.moved),
    resumed: first.resumed + second.resumed,
    // A channel that failed in both rounds is one failure.
    failures: [...first.failures, ...second.failures].filter((f, i, all) =>
      all.findIndex((g) =>
        g.peer === f.peer && g.direction === f.direction && g.error === f.error
      ) === i
    ),
  };
}

/** Two rounds' files per peer as one. */
function mergeMoved(a: PeerMoved[], b: PeerMoved[]): PeerMoved[] {
  const out = new Map<string, PeerMoved>();
  for (const m of [...a, ...b]) {
    const x = out.get(m.peer);
    if (!x) {
      out.set(m.peer, structuredClone(m));
      continue;
    }
    x.received += m.received;
    x.sent += m.sent;
    x.received_paths = [...x.received_paths, ...m.received_paths].slice(0, MOVED_NAMES);
    x.sent_paths = [...x.sent_paths, ...m.sent_paths].slice(0, MOVED_NAMES);
  }
  return [...out.values()];
}

async function lockedRound(
  ctx: Context,
  config: Config,
  options: { allowMassDelete?: boolean },
): Promise<RoundSummary> {
  const lock = await acquireRoundLock(homeLayout(ctx.home).state, {
    onWait: () => ctx.out.note("another sync round is running under this home; waiting for it"),
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

async function runSync(ctx: Context, flags: SyncFlags): Promise<void> {
  if (!flags.watch && flags.interval !== undefined) {
    throw new SyftError("E_USAGE", "--interval only applies with --watch", {
      hint: `syft sync --watch --interval ${flags.interval}`,
    });
  }
  const config = await loadConfig(ctx.home);
  const options = { allowMassDelete: flags.allowMassDelete ?? false };
  if (!flags.watch) {
    const summary = await syncOnce(ctx, config, options);
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
  await watchLoop(ctx, config, options, parsePace(flags.interval));
}

/** `--interval <seconds>` as the poll policy's input. */
function parsePace(raw: string | undefined): { intervalMs: number; explicit: boolean } {
  if (raw === undefined) return { intervalMs: DEFAULT_POLL_MS, explicit: false };
  return { intervalMs: positiveSeconds(raw, "--interval", 5) * 1000, explicit: true };
}

/** Paths syft writes itself while syncing; they must not wake the watcher. */
function isOwnWrite(path: string): boolean {
  return path.includes("/.syft-tmp/") || isSyftTemp(posix.basename(path));
}

/** Quiet time that ends a burst of edits: a temp-file + rename save fits well within it. */
const EDIT_QUIET_MS = 200;
/**
 * A file written without pause never goes quiet; it still syncs this soon after
 * its first change, even while the remote poll is backed off to 60 s.
 */
const EDIT_MAX_DELAY_MS = 5_000;
/** How long one `changes()` call of a watching transport may wait (it wakes at once on a change). */
const REMOTE_WAIT_MS = 30_000;
/** After a failed `changes()`, wait this long before asking again, so a broken transport cannot spin. */
const REMOTE_RETRY_MS = 1_000;

/** Local edits, debounced. */
interface EditWatcher {
  /** Resolves once no burst of edits is in progress (at once when none is). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Watch `root` for edits and call `onSettled` once a burst has gone quiet (or
 * has lasted {@linkcode EDIT_MAX_DELAY_MS}), so a save done as temp file +
 * rename, or many quick writes, cost one round.
 */
function watchEdits(root: string, onSettled: () => void): EditWatcher {
  const watcher = Deno.watchFs(root, { recursive: true });
  let quiet: ReturnType<typeof setTimeout> | undefined;
  let due: ReturnType<typeof setTimeout> | undefined;
  const waiters: (() => void)[] = [];
  const release = () => {
    for (const resolve of waiters.splice(0)) resolve();
  };
  const settle = () => {
    clearTimeout(quiet);
    clearTimeout(due);
    quiet = due = undefined;
    onSettled();
    release();
  };
  const pump = (async () => {
    for await (const event of watcher) {
      // Reads (the round hashing files) are not edits, and would wake the loop after every round.
      if (event.kind === "access" || event.paths.every(isOwnWrite)) continue;
      clearTimeout(quiet);
      quiet = setTimeout(settle, EDIT_QUIET_MS);
      due ??= setTimeout(settle, EDIT_MAX_DELAY_MS);
    }
  })();
  return {
    settled() {
      return due === undefined
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      clearTimeout(quiet);
      clearTimeout(due);
      quiet = due = undefined;
      release();
      watcher.close();
      await pump.catch(() => {});
    },
  };
}

/**
 * For a transport that can watch (local): keep a `changes()` call waiting and
 * call `onChange` when a peer's channel moves. It follows its own cursor, so a
 * change is reported once, however many rounds ran since.
 */
async function watchRemote(
  transport: Transport,
  cursor: string | null,
  signal: AbortSignal,
  onChange: () => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const r = await transport.changes(cursor, { waitMs: REMOTE_WAIT_MS });
      cursor = r.cursor;
      if (r.channels.length > 0) onChange();
    } catch {
      // The next round meets the same failure and reports it; here only pause.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, REMOTE_RETRY_MS);
        signal.addEventListener("abort", done, { once: true });
        function done() {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        }
      });
    }
  }
}

/** A round's time for people: UTC to the second. */
function stamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The `--watch` start line: what it watches, over which transports, with which peers. */
async function sayStart(ctx: Context, config: Config, peers: PeerStore): Promise<void> {
  const accepted = (await peers.list()).records.filter((r) => r.state === "accepted")
    .map((r) => r.email).sort();
  const transports = [config.transport, ...Object.values(config.transports ?? {})];
  const datasite = posix.join(config.root, config.email);
  ctx.out.record(
    { event: "start", at: new Date().toISOString(), datasite, transports, peers: accepted },
    () => {
      const withPeers = accepted.length
        ? `with ${accepted.join(", ")}`
        : "with no accepted peer yet";
      ctx.out.line(
        `${stamp()} watching ${datasite} over ${transports.join(", ")} ${withPeers} ` +
          `(Ctrl-C to stop)`,
      );
    },
  );
}

/** Whether a round did anything that says the datasites are in use (poll policy input). */
function wasActive(s: RoundSummary): boolean {
  return s.sent + s.received + s.applied + s.proposed > 0;
}

/**
 * `--watch`: one transport kept open; a round, then wait for a local edit
 * (debounced), a peer's new object (a watching transport's `changes()` wakes
 * us: the local transport watches its folder), or the poll time the
 * {@linkcode PollPolicy} gives. SIGINT/SIGTERM let the current round finish.
 */
async function watchLoop(
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
  // Monotonic: idle time must not jump with the wall clock (the policy copes anyway).
  const clock = () => performance.now();
  const policy = new PollPolicy(pace, clock());
  const stateDir = homeLayout(ctx.home).state;
  // Set by the watchers, cleared when a round starts: a wake-up that lands
  // during a round starts the next one at once instead of being lost.
  let edited = false;
  let remoteChanged = false;
  let wake: (() => void) | null = null;
  const stopped = new Promise<void>((resolve) =>
    stop.signal.addEventListener("abort", () => {
      wake?.();
      resolve();
    })
  );
  let opened: Awaited<ReturnType<typeof openSync>> | null = null;
  let rounds = 0;
  let edits: EditWatcher | null = null;
  let remote: Promise<void> | null = null;
  try {
    opened = await openSync(ctx, config, options);
    const transport = opened.sync.transport;
    await Deno.mkdir(config.root, { recursive: true });
    edits = watchEdits(config.root, () => {
      edited = true;
      wake?.();
    });
    const canWatch = !stop.signal.aborted && (await transport.capabilities()).canWatch;
    await sayStart(ctx, config, opened.peers);
    let failures = 0;
    let saidFailing = new Set<string>();
    while (!stop.signal.aborted) {
      // A round woken by the poll or a peer while the user is mid-save would
      // scan a half-done save (an editor's temp file, a half-written burst):
      // it waits for the edits to settle, which is never longer than EDIT_MAX_DELAY_MS.
      await Promise.race([edits.settled(), stopped]);
      if (stop.signal.aborted) break;
      const byEdit = edited;
      edited = false;
      remoteChanged = false;
      const lock = await acquireRoundLock(stateDir, {
        onWait: () => ctx.out.note("another sync round is running under this home; waiting for it"),
      });
      let summary: RoundSummary;
      try {
        summary = await runRound(opened.sync, opened.peers);
        failures = 0;
      } catch (err) {
        // Storage that is briefly unreachable (network, rate limit, a crashed
        // plugin Worker, restarted on the next call) must not end a watch the
        // user left running: back off and try again. Anything else stops it.
        if (!(err instanceof SyftError) || err.code !== "E_TRANSPORT") throw err;
        failures++;
        const waitMs = Math.min(MAX_RETRY_MS, 1000 * 2 ** Math.min(failures, 10));
        ctx.out.warn(`${err.message}; trying again in ${Math.round(waitMs / 1000)} s`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          stopped.then(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        continue;
      } finally {
        lock.release();
      }
      rounds++;
      const moved = describeMoved(summary);
      if (moved !== null) {
        ctx.out.record({ event: "round", at: new Date().toISOString(), ...summary }, () => {
          ctx.out.line(`${stamp()} ${moved}`);
          for (const line of refusalReport(summary)) ctx.out.line(`  ${line}`);
        });
      }
      for (const p of summary.problems) ctx.out.warn(p);
      // A failed channel is said when it starts failing (status lists it
      // while it lasts), not every few seconds; --watch goes on.
      const failing = new Set(summary.failures.map(describeFailure));
      for (const line of failing) if (!saidFailing.has(line)) ctx.out.warn(line);
      saidFailing = failing;
      // Jobs it brought: their state files wake the edit watcher, so the next
      // round publishes them; jobs a policy runs go on beside the loop.
      if (await receiveJobs(ctx, config, { background: true })) policy.activity(clock());
      if (byEdit || wasActive(summary)) policy.activity(clock());
      if (canWatch && remote === null) {
        // Started after the first round, from its cursor, so it reports only what is new.
        const cursor = await readState<{ cursor: string }>(stateLayout(stateDir).changesCursor);
        remote = watchRemote(transport, cursor?.cursor ?? null, stop.signal, () => {
          remoteChanged = true;
          wake?.();
        });
      }
      if (stop.signal.aborted || edited || remoteChanged) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, policy.waitMs(clock()));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    // Said for a signal only: an error that ends the watch is said by the error itself.
    if (stop.signal.aborted) {
      ctx.out.record({ event: "stop", at: new Date().toISOString(), rounds }, () => {
        ctx.out.line(`${stamp()} stopped after ${rounds} round(s)`);
      });
    }
    stop.abort(); // ends watchRemote, also when a round failed
    await edits?.close();
    // Closing the transport fails a pending changes() call, which lets watchRemote return.
    await opened?.close();
    await remote;
  }
}
