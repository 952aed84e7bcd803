/**
 * What `syft status` reports, gathered from files only (file first: no daemon to ask).
 * @module
 */
import { posix } from "node:path";
import type { Config } from "../config/config.ts";
import { homeLayout } from "../config/home.ts";
import { keyFileProblems, readKeys } from "../config/keystore.ts";
import { DATASITE_FOLDERS, datasiteDir } from "../datasite/layout.ts";
import { describeError } from "../errors/mod.ts";
import { fingerprint, publicKeys } from "../identity/keys.ts";
import { PEER_STATES, type PeerState, PeerStore } from "../peers/store.ts";
import { recordProblems } from "../peers/record_problems.ts";
import { formatPermissionFileError, loadDatasitePermissions } from "../permissions/mod.ts";
import { withPermissionParser } from "../permissions/parse.ts";
import { INBOX_ROOT } from "../jobs/layout.ts";
import { lazyImport } from "../lazy_import.ts";
import { isoTime } from "../time/iso.ts";
import {
  channelPeers,
  type ChannelState,
  lastSyncAt,
  loadChannelState,
  stateLayout,
} from "../sync/state.ts";
import { describeRecord, describeSkipped, loadRoundRecord } from "../sync/round_record.ts";
import { type PeerRefusal, sortRefusals } from "../sync/refusals.ts";

export { PEER_STATES, type PeerState } from "../peers/store.ts";

/** An object moved aside because it failed a check. */
export interface QuarantinedObject {
  object: string;
  reason: string;
  /** When it was moved aside (ISO 8601 UTC). */
  at: string | null;
}

/** The status of one installation (`syft status --json`). */
export interface StatusReport {
  email: string;
  fingerprint: string;
  home: string;
  root: string;
  datasite: string;
  transport: string;
  /** Named transports besides the default (`syft transport add`), name → spec. */
  transports: Record<string, string>;
  peers: Record<PeerState, number>;
  /** ISO 8601 UTC, like every time in `--json`. */
  last_sync: string | null;
  pending_jobs: number;
  quarantined: QuarantinedObject[];
  /** Every problem, peers' included, one sentence each. */
  problems: string[];
  /** What stopped a peer's channel as of the last round that tried it (also in `problems`). */
  peer_problems: PeerProblem[];
  /** Our files never published, with why (also in `problems`). */
  skipped: SkippedFile[];
  /** Our writes peers refused, listed while their `.rejected` copy exists. */
  refused: RefusedWrite[];
}

/** One of our writes a peer refused (`syft status --json`). */
export interface RefusedWrite {
  peer: string;
  path: string;
  reason: PeerRefusal["reason"];
  /** The owner's words, or ours when an older owner sent none. */
  detail: string | null;
  /** Where the refused content is kept, relative to the datasite root. */
  copy: string;
  /** ISO 8601 UTC. */
  at: string;
}

/** A peer's channel in trouble. */
export interface PeerProblem {
  peer: string;
  problem: string;
}

/** One of our files that no peer gets. */
export interface SkippedFile {
  path: string;
  reason: string;
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(path));
}

async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir)) entries.push(e);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return entries.sort((a, b) => a.name < b.name ? -1 : 1);
}

/** Peer counts by state, from the peer store (which reports corrupt records itself). */
async function countPeers(
  peersDir: string,
  problems: string[],
): Promise<Record<PeerState, number>> {
  const counts = Object.fromEntries(PEER_STATES.map((s) => [s, 0])) as Record<PeerState, number>;
  const listing = await new PeerStore(peersDir).list();
  problems.push(...listing.problems);
  for (const record of listing.records) {
    counts[record.state]++;
    problems.push(...recordProblems(record));
  }
  return counts;
}

async function readQuarantine(stateDir: string): Promise<QuarantinedObject[]> {
  const dir = posix.join(stateDir, "quarantine");
  const found: QuarantinedObject[] = [];
  for (const entry of await listDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    try {
      const r = await readJson(posix.join(dir, entry.name)) as Record<string, unknown>;
      found.push({
        object: typeof r.object === "string" ? r.object : entry.name,
        reason: typeof r.reason === "string" ? r.reason : "unknown",
        at: typeof r.at === "number" ? isoTime(r.at) : null,
      });
    } catch {
      found.push({ object: entry.name, reason: "quarantine record unreadable", at: null });
    }
  }
  return found;
}

async function readLastSync(stateDir: string): Promise<string | null> {
  const path = posix.join(stateDir, "last_sync.json");
  try {
    const at = lastSyncAt(await readJson(path), (await Deno.stat(path)).mtime);
    return at === null ? null : isoTime(at);
  } catch {
    return null;
  }
}

/** What the channel states say: trouble per channel, and refused writes still kept aside. */
interface ChannelFindings {
  problems: string[];
  refused: PeerRefusal[];
}

/**
 * One pass over the peers' channel heads, each read once and let go: the
 * report needs only head fields (rolled back, waiting, refused), and the maps
 * that grow with the datasite (what we published, what we applied) are stored
 * apart from the head, so they are never read here.
 */
async function readChannels(stateDir: string, root: string): Promise<ChannelFindings> {
  const layout = stateLayout(stateDir);
  const found: ChannelFindings = { problems: [], refused: [] };
  for (const peer of await channelPeers(layout)) {
    const state = await loadChannelState(layout, peer, []);
    found.problems.push(...channelProblems(peer, state));
    for (const r of state.refused ?? []) {
      const there = await Deno.lstat(posix.join(root, peer, r.copy)).then(() => true, () => false);
      if (there) found.refused.push({ ...r, peer });
    }
  }
  return found;
}

/** A channel in trouble: rolled back below our cursor, or stuck on a missing object. */
function channelProblems(peer: string, state: ChannelState): string[] {
  const out: string[] = [];
  const r = state.rolled_back;
  if (r) {
    out.push(
      `${peer}'s channel was rolled back: its newest batch is ${r.highest}, we had applied up to ${r.cursor}; nothing was restored from it`,
    );
  }
  const w = state.waiting;
  if (w) {
    out.push(
      `waiting since ${new Date(w.since).toISOString()} for object ${w.missing} from ${peer}` +
        (w.asked ? " (asked it for a resync)" : ""),
    );
  }
  return out;
}

/** Refused writes whose `.rejected` copy is still there, by peer then path. */
function refusedWrites(found: PeerRefusal[]): RefusedWrite[] {
  return sortRefusals(found).map((r) => ({
    peer: r.peer,
    path: r.path,
    reason: r.reason,
    detail: r.detail,
    copy: posix.join(r.peer, r.copy),
    at: new Date(r.at).toISOString(),
  }));
}

/**
 * Jobs waiting for our decision (approve or reject). The job modules, and the
 * YAML parser their files need, load only when the inbox holds anything.
 */
async function pendingJobs(root: string, email: string): Promise<number> {
  if (await emptyFolder(posix.join(datasiteDir(root, email), INBOX_ROOT))) return 0;
  const catalog = await lazyImport<typeof import("../jobs/catalog.ts")>(
    new URL("../jobs/catalog.ts", import.meta.url),
  );
  const jobs = await catalog.ownerJobs(root, email);
  return jobs.filter((j) => j.state?.status === "pending").length;
}

/** Whether `dir` is missing, not a folder, or holds nothing (any other error: false, to be reported). */
async function emptyFolder(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return false;
    return true;
  } catch (err) {
    return err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory;
  }
}

/** Gather the report. Key files must be readable (their fingerprint is the identity). */
export async function gatherStatus(home: string, config: Config): Promise<StatusReport> {
  const layout = homeLayout(home);
  const keys = await readKeys(layout.keys);
  const problems: string[] = await keyFileProblems(layout.keys);
  const datasite = datasiteDir(config.root, config.email);
  for (const folder of [datasite, ...DATASITE_FOLDERS.map((f) => posix.join(datasite, f))]) {
    try {
      if (!(await Deno.stat(folder)).isDirectory) problems.push(`${folder} is not a folder`);
    } catch {
      problems.push(`datasite folder ${folder} is missing (run syft init again to recreate it)`);
    }
  }
  try {
    const engine = await withPermissionParser(() => loadDatasitePermissions(datasite));
    for (const e of engine.invalidFiles()) {
      problems.push(
        `invalid permission file ${formatPermissionFileError(e)} (everything it governs is denied)`,
      );
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      problems.push(`cannot read permission files: ${describeError(err)}`);
    }
  }
  const channels = await readChannels(layout.state, config.root);
  problems.push(...channels.problems);
  const record = await loadRoundRecord(stateLayout(layout.state));
  const peerProblems = describeRecord(record);
  problems.push(...peerProblems.map((p) => p.problem), ...describeSkipped(record));
  return {
    email: config.email,
    fingerprint: await fingerprint(await publicKeys(keys)),
    home,
    root: config.root,
    datasite,
    transport: config.transport,
    transports: config.transports,
    peers: await countPeers(layout.peers, problems),
    last_sync: await readLastSync(layout.state),
    pending_jobs: await pendingJobs(config.root, config.email),
    quarantined: await readQuarantine(layout.state),
    problems,
    peer_problems: peerProblems,
    skipped: Object.keys(record.skipped).sort().map((path) => ({
      path,
      reason: record.skipped[path]!,
    })),
    refused: refusedWrites(channels.refused),
  };
}
