/**
 * A sync session: everything a round needs, opened from a home and its
 * config, and the round as a command runs it (under the round lock, then a
 * second one when what came in made something to publish). What it has to
 * say goes to the caller's {@linkcode SessionReports}; it prints nothing.
 * @module
 */
import { homeLayout } from "../config/home.ts";
import type { Config } from "../config/config.ts";
import { readKeys } from "../config/keystore.ts";
import { lazyImport } from "../lazy_import.ts";
import type { PeerService } from "../peers/service.ts";
import { PeerStore } from "../peers/store.ts";
import type { SyncContext } from "./context.ts";
import { acquireRoundLock } from "./lock.ts";
import { MOVED_NAMES, type PeerMoved, type RoundSummary, runRound } from "./round.ts";
import { RoutedTransport } from "./routed_transport.ts";
import { stateLayout } from "./state.ts";
import { denoFs } from "../fs/deno_fs.ts";
import { systemClock } from "../time/clock.ts";

const GIB = 1024 * 1024 * 1024;

/** The transport contract, as the engine's context names it. */
type Transport = SyncContext["transport"];

/** What a session says while it works; the caller decides how it is shown. */
export interface SessionReports {
  /** Something went wrong but the work goes on. */
  warn(message: string): void;
  /** Something worth knowing: a waiting lock, a peer asking to peer. */
  note(message: string): void;
  /** A restore's progress, when the caller shows one. */
  progress?: SyncContext["progress"];
}

/** The transport a session syncs over, and the router when there are several. */
export interface SessionTransport {
  transport: Transport;
  routed?: RoutedTransport | undefined;
}

/** Where a session runs and how it reaches its transport. */
export interface SessionSetup {
  home: string;
  config: Config;
  reports: SessionReports;
  /**
   * Opens the configured transport(s) (plugins live at the edge, so core
   * never starts one); not called when `transport` is given.
   */
  openTransport(peers: PeerStore): Promise<SessionTransport>;
  /** An open transport to use instead (tests, benchmarks); it may route itself. */
  transport?: Transport | undefined;
  allowMassDelete?: boolean | undefined;
}

/** An open session; `close()` when done. */
export interface Session {
  sync: SyncContext;
  peers: PeerStore;
  close(): Promise<void>;
}

/** Open everything a round needs from the config. */
export async function openSession(setup: SessionSetup): Promise<Session> {
  const { config, reports } = setup;
  const layout = homeLayout(setup.home);
  const keys = await readKeys(layout.keys);
  const peers = new PeerStore(layout.peers);
  const opened: SessionTransport = setup.transport
    ? {
      transport: setup.transport,
      routed: setup.transport instanceof RoutedTransport ? setup.transport : undefined,
    }
    : await setup.openTransport(peers);
  const { transport, routed } = opened;
  // Discovery (and the permission engine it loads) only when a round asks for it.
  let made: Promise<PeerService> | undefined;
  const service = () =>
    made ??= lazyImport<typeof import("../peers/service.ts")>(
      new URL("../peers/service.ts", import.meta.url),
    ).then(({ PeerService }) =>
      new PeerService({
        transport,
        store: peers,
        me: config.email,
        keys,
        now: () => Date.now(),
        foundOn: routed && ((sender) => routed.foundOn(sender)),
      })
    );
  const sync: SyncContext = {
    me: config.email,
    root: config.root,
    layout: stateLayout(layout.state, denoFs),
    keys,
    transport,
    routes: routed,
    fs: denoFs,
    clock: systemClock,
    warn: (m) => reports.warn(m),
    discover: async () => {
      const found = await (await service()).discover();
      for (const p of found.problems) reports.warn(p);
      for (const p of found.newPending) {
        reports.note(
          `${p} asks to peer with you: check with \`syft peer list\`, then \`syft peer approve ${p}\``,
        );
      }
    },
    allowMassDelete: setup.allowMassDelete ?? false,
    quotaBytes: GIB,
    quarantineBytes: config.sync.quarantine_mib * 1024 * 1024,
    maxProposals: config.sync.max_proposals,
    thresholds: {
      checkpoint: config.sync.checkpoint_threshold,
      compact: config.sync.compact_threshold,
    },
    gapTimeoutMs: config.sync.gap_timeout_seconds * 1000,
    ...(reports.progress ? { progress: reports.progress } : {}),
  };
  return { sync, peers, close: () => transport.close() };
}

/** The round lock of a home, saying when it has to wait for another round. */
export function lockRounds(home: string, reports: SessionReports) {
  return acquireRoundLock(homeLayout(home).state, {
    onWait: () => reports.note("another sync round is running under this home; waiting for it"),
  });
}

/**
 * One round under the round lock, then `afterRound` (the jobs it brought);
 * when that wrote anything (a job's `pending` state, a policy's run), a
 * second round publishes it at once. The summary covers both.
 */
export async function syncOnce(
  setup: SessionSetup,
  afterRound: () => Promise<boolean>,
): Promise<RoundSummary> {
  const first = await lockedRound(setup);
  if (!(await afterRound())) return first;
  return mergeSummaries(first, await lockedRound(setup));
}

async function lockedRound(setup: SessionSetup): Promise<RoundSummary> {
  const lock = await lockRounds(setup.home, setup.reports);
  try {
    const opened = await openSession(setup);
    try {
      return await runRound(opened.sync, opened.peers);
    } finally {
      await opened.close();
    }
  } finally {
    lock.release();
  }
}

/** Two rounds' summaries as one, for a command that ran both. */
export function mergeSummaries(first: RoundSummary, second: RoundSummary): RoundSummary {
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
