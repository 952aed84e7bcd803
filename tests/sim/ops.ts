/**
 * The simulation's operations: plain data drawn from one seeded PRNG before
 * the run. An operation names its target by draws (`pick` in [0, 1)) that
 * the runner resolves against the world as it then is, so any subset of a
 * run's operations is still a valid run (that is what shrinking needs).
 * @module
 */
import { prng } from "../../core/random/prng.ts";

/** Where a new file goes in a datasite; `<me>` is the writing site's own email. */
export const NEW_FILE_FOLDERS = [
  "public",
  "public/sub",
  "private",
  "shared0",
  "shared1",
  "shared1/deep",
  "shared2",
  "app_data/job/inbox/<me>",
] as const;

/** Folders whose `syft.pub.yaml` grants and revocations edit. */
export const GRANT_FOLDERS = [
  "shared0",
  "shared1",
  "shared2",
  "public",
  "public/syft_datasets/d0",
] as const;

/** File names per folder: few, so edits meet each other. */
export const NAMES = 5;

export type Op =
  /** `site` writes a file of `owner`'s datasite (its own, or its mirror of it): an existing one or a new one. */
  | { id: number; k: "write"; site: number; owner: number; pick: number; fresh: boolean }
  | { id: number; k: "delete"; site: number; owner: number; pick: number }
  | { id: number; k: "rename"; site: number; owner: number; pick: number; to: number }
  /** `owner` adds `peer` to the read or write list of a folder's permission file. */
  | { id: number; k: "grant"; owner: number; folder: number; peer: number; level: "read" | "write" }
  | { id: number; k: "revoke"; owner: number; folder: number; peer: number }
  /**
   * `owner` creates dataset `d<n>` as `syft dataset create` lays it out: its
   * mock under public/syft_datasets/ readable by everyone or by one peer, its
   * private part under private/ (core/datasets writes with Deno's disk APIs,
   * so the runner writes the same files itself).
   */
  | { id: number; k: "dataset"; owner: number; n: number; reader: number | null }
  /** `site` removes `peer`; `reconnect` peers them again (both ask, both approve). */
  | { id: number; k: "remove"; site: number; peer: number }
  | { id: number; k: "reconnect"; site: number; peer: number }
  /** One sync round of `site`; `seed` draws the round's faults. */
  | { id: number; k: "round"; site: number; seed: number }
  /** `site` loses its state/ and its mirrors (restored from checkpoints by the next rounds). */
  | { id: number; k: "wipe"; site: number }
  /** `site`'s disk rolls back to its last fsync, between rounds. */
  | { id: number; k: "crash"; site: number }
  /** `site` submits a job (run.sh) to `owner` (`syft job submit`). */
  | { id: number; k: "submit"; site: number; owner: number }
  /** `owner` acts on one of the jobs it received (after intake), as `syft job ...` would. */
  | { id: number; k: "decide"; owner: number; pick: number; action: JobAction };

/** What an owner does with a received job; `run-release` is `job run --release`. */
export type JobAction = "approve" | "reject" | "run" | "run-release" | "release";
const JOB_ACTIONS: JobAction[] = ["approve", "reject", "run", "run-release", "release"];

/**
 * The mix of operations, as weights; rounds dominate, as syncs do in life.
 * Changing a weight, a kind or the order of draws changes every seed's
 * operations: the seeds of regressions_test.ts must then be found again.
 */
const WEIGHTS: [Op["k"], number][] = [
  ["write", 30],
  ["delete", 7],
  ["rename", 4],
  ["grant", 4],
  ["revoke", 3],
  ["dataset", 1],
  ["submit", 2],
  ["decide", 4],
  ["remove", 1],
  ["reconnect", 1],
  ["round", 40],
  ["wipe", 0.5],
  ["crash", 0.5],
];

/** `count` operations over `sites` sites, the same for the same seed. */
export function generateOps(seed: number, count: number, sites: number): Op[] {
  const next = prng(seed);
  const int = (n: number) => Math.floor(next() * n);
  const total = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);
  const other = (site: number) => (site + 1 + int(sites - 1)) % sites;
  const ops: Op[] = [];
  for (let id = 0; id < count; id++) {
    let r = next() * total;
    const kind = WEIGHTS.find(([, w]) => (r -= w) < 0)?.[0] ?? "round";
    const site = int(sites);
    // Half the edits are in the own datasite, half in a peer's mirror.
    const owner = next() < 0.5 ? site : other(site);
    switch (kind) {
      case "write":
        ops.push({ id, k: kind, site, owner, pick: next(), fresh: next() < 0.5 });
        break;
      case "delete":
        ops.push({ id, k: kind, site, owner, pick: next() });
        break;
      case "rename":
        ops.push({ id, k: kind, site, owner, pick: next(), to: int(NAMES) });
        break;
      case "grant":
        ops.push({
          id,
          k: kind,
          owner: site,
          folder: int(GRANT_FOLDERS.length),
          peer: other(site),
          level: next() < 0.5 ? "read" : "write",
        });
        break;
      case "revoke":
        ops.push({
          id,
          k: kind,
          owner: site,
          folder: int(GRANT_FOLDERS.length),
          peer: other(site),
        });
        break;
      case "dataset":
        ops.push({
          id,
          k: kind,
          owner: site,
          n: int(3),
          reader: next() < 0.5 ? null : other(site),
        });
        break;
      case "remove":
      case "reconnect":
        ops.push({ id, k: kind, site, peer: other(site) });
        break;
      case "round":
        ops.push({ id, k: kind, site, seed: int(2 ** 31) });
        break;
      case "submit":
        ops.push({ id, k: kind, site, owner: other(site) });
        break;
      case "decide":
        ops.push({ id, k: kind, owner: site, pick: next(), action: JOB_ACTIONS[int(5)]! });
        break;
      case "wipe":
      case "crash":
        ops.push({ id, k: kind, site });
        break;
    }
  }
  return ops;
}

/** One operation as the shrunk list prints it. */
export function describeOp(op: Op, emails: readonly string[]): string {
  const { id, k, ...rest } = op;
  const named = Object.entries(rest).map(([key, v]) =>
    `${key}=${
      ["site", "owner", "peer"].includes(key) ? emails[v as number] : typeof v === "number" &&
          !Number.isInteger(v)
        ? v.toFixed(3)
        : v
    }`
  );
  return `#${id} ${k} ${named.join(" ")}`;
}
