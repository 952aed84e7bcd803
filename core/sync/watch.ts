/**
 * `sync --watch` as a loop: one session kept open; a round, then wait for a
 * local edit (debounced), a peer's new object (a watching transport's
 * `changes()` wakes it), or the poll time the {@linkcode PollPolicy} gives.
 * It reports what happens as {@linkcode WatchEvent}s and prints nothing.
 * @module
 */
import { posix } from "node:path";
import { homeLayout } from "../config/home.ts";
import { SyftError } from "../errors/mod.ts";
import { isSyftTemp, STAGING_FOLDER } from "../datasite/names.ts";
import { PollPolicy } from "./poll_policy.ts";
import type { ChannelFailure, RoundSummary } from "./round.ts";
import { runRound } from "./round.ts";
import type { SyncContext } from "./context.ts";
import { lockRounds, openSession, type Session, type SessionSetup } from "./session.ts";
import { readState, stateLayout } from "./state.ts";

/** What a watch says, in order; `at` is when it happened. */
export type WatchEvent =
  /** Watching began: the datasite, the transports and the accepted peers (sorted). */
  | { kind: "start"; datasite: string; transports: string[]; peers: string[] }
  /**
   * A round ran. `newFailures` are the failed channels that were not failing
   * the round before: a failure is said when it starts, not every round.
   */
  | { kind: "round"; summary: RoundSummary; newFailures: ChannelFailure[] }
  /** The transport failed the whole round; the next try is in `waitMs`. */
  | { kind: "retry"; message: string; waitMs: number }
  /** Stopped by the caller's signal, after `rounds` rounds. */
  | { kind: "stop"; rounds: number };

/** How a watch runs. */
export interface WatchOptions {
  /** Poll pace: `explicit` when the user chose it (`--interval`). */
  pace: { intervalMs: number; explicit: boolean };
  /** Aborted to stop: the current round finishes first. */
  stop: AbortSignal;
  /** Called with each event as it happens. */
  onEvent(event: WatchEvent): void;
  /**
   * After each round: the jobs it brought (a policy's runs go on beside the
   * loop). True when that counts as activity for the poll pace.
   */
  afterRound(): Promise<boolean>;
}

/** Longest wait between attempts while the transport fails. */
const MAX_RETRY_MS = 60_000;
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

/**
 * Watch until `options.stop` is aborted (a `stop` event then ends it) or a
 * round fails with anything but a transport error (thrown). A transport that
 * is briefly unreachable is tried again with backoff.
 */
export async function watchLoop(setup: SessionSetup, options: WatchOptions): Promise<void> {
  const { config } = setup;
  const stop = options.stop;
  // Monotonic: idle time must not jump with the wall clock (the policy copes anyway).
  const clock = () => performance.now();
  const policy = new PollPolicy(options.pace, clock());
  const bell = new Bell(stop);
  // Ends the remote watcher when the loop ends, also when a round failed.
  const ended = new AbortController();
  let opened: Session | null = null;
  let rounds = 0;
  let edits: EditWatcher | null = null;
  let remote: Promise<void> | null = null;
  try {
    opened = await openSession(setup);
    const transport = opened.sync.transport;
    await Deno.mkdir(config.root, { recursive: true });
    edits = watchEdits(config.root, () => bell.ring("edit"));
    const canWatch = !stop.aborted && (await transport.capabilities()).canWatch;
    options.onEvent(await startEvent(setup, opened));
    const round = roundRunner(setup, opened, options, bell.stopped);
    while (!stop.aborted) {
      // A round woken by the poll or a peer while the user is mid-save would
      // scan a half-done save (an editor's temp file, a half-written burst):
      // it waits for the edits to settle, which is never longer than EDIT_MAX_DELAY_MS.
      await Promise.race([edits.settled(), bell.stopped]);
      if (stop.aborted) break;
      const byEdit = bell.take();
      const summary = await round();
      if (summary === null) continue;
      rounds++;
      // Jobs it brought: their state files wake the edit watcher, so the next
      // round publishes them; jobs a policy runs go on beside the loop.
      if (await options.afterRound()) policy.activity(clock());
      if (byEdit || wasActive(summary)) policy.activity(clock());
      if (canWatch && remote === null) {
        // Started after the first round, from its cursor, so it reports only what is new.
        const cursor = await readState<{ cursor: string }>(
          stateLayout(homeLayout(setup.home).state).changesCursor,
        );
        const signal = AbortSignal.any([stop, ended.signal]);
        remote = watchRemote(transport, cursor?.cursor ?? null, signal, () => bell.ring("peer"));
      }
      if (stop.aborted || bell.pending()) continue;
      await bell.wait(policy.waitMs(clock()));
    }
  } finally {
    // Said for a signal only: an error that ends the watch is said by the error itself.
    if (stop.aborted) options.onEvent({ kind: "stop", rounds });
    ended.abort();
    await edits?.close();
    // Closing the transport fails a pending changes() call, which lets watchRemote return.
    await opened?.close();
    await remote;
  }
}

/**
 * What wakes the loop: a settled edit, a peer's change, or the stop signal.
 * A ring that lands during a round is kept, so the next round starts at once
 * instead of it being lost.
 */
class Bell {
  #edited = false;
  #peer = false;
  #wake: (() => void) | null = null;
  /** Settles when the stop signal fires. */
  readonly stopped: Promise<void>;

  constructor(stop: AbortSignal) {
    this.stopped = new Promise<void>((resolve) => {
      const done = () => {
        this.#wake?.();
        resolve();
      };
      if (stop.aborted) done();
      else stop.addEventListener("abort", done, { once: true });
    });
  }

  ring(what: "edit" | "peer"): void {
    if (what === "edit") this.#edited = true;
    else this.#peer = true;
    this.#wake?.();
  }

  /** Clear both rings as a round starts; whether an edit woke it. */
  take(): boolean {
    const edited = this.#edited;
    this.#edited = this.#peer = false;
    return edited;
  }

  /** Whether something rang since the round started. */
  pending(): boolean {
    return this.#edited || this.#peer;
  }

  /** Wait `ms`, or less when something rings or the watch stops. */
  async wait(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = null;
  }
}

/**
 * One round under the round lock, reported as an event; null when the
 * transport failed it (a `retry` event, then a backoff that the stop cuts
 * short). A failed channel is reported when it starts failing, not every round.
 */
function roundRunner(
  setup: SessionSetup,
  opened: Session,
  options: WatchOptions,
  stopped: Promise<void>,
): () => Promise<RoundSummary | null> {
  let failures = 0;
  let failing: ChannelFailure[] = [];
  return async () => {
    const lock = await lockRounds(setup.home, setup.reports);
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
      options.onEvent({ kind: "retry", message: err.message, waitMs });
      await sleep(waitMs, stopped);
      return null;
    } finally {
      lock.release();
    }
    const newFailures = summary.failures.filter((f) => !failing.some((g) => sameFailure(f, g)));
    failing = summary.failures;
    options.onEvent({ kind: "round", summary, newFailures });
    return summary;
  };
}

/** The same channel failing the same way. */
function sameFailure(a: ChannelFailure, b: ChannelFailure): boolean {
  return a.peer === b.peer && a.direction === b.direction && a.error === b.error;
}

/** Wait `ms`, or less when `stopped` settles first. */
function sleep(ms: number, stopped: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    stopped.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** What the watch starts on: the datasite, transports and accepted peers. */
async function startEvent(setup: SessionSetup, opened: Session): Promise<WatchEvent> {
  const { config } = setup;
  const peers = (await opened.peers.list()).records.filter((r) => r.state === "accepted")
    .map((r) => r.email).sort();
  const transports = [config.transport, ...Object.values(config.transports ?? {})];
  return { kind: "start", datasite: posix.join(config.root, config.email), transports, peers };
}

/** Whether a round did anything that says the datasites are in use (poll policy input). */
function wasActive(s: RoundSummary): boolean {
  return s.sent + s.received + s.applied + s.proposed > 0;
}

/** Paths syft writes itself while syncing; they must not wake the watcher. */
function isOwnWrite(path: string): boolean {
  return path.includes(`/${STAGING_FOLDER}/`) || isSyftTemp(posix.basename(path));
}

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
  transport: SyncContext["transport"],
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
