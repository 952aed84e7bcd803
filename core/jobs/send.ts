/**
 * `job submit` as one step: check every recipient (an accepted peer, not
 * ourselves, with each named dataset visible in its mirror), build the job
 * once, record it as sent, then write it into each owner's mirror, where the
 * next sync proposes it. Nothing is written until every check passed.
 * @module
 */
import { posix } from "node:path";
import { homeLayout } from "../config/home.ts";
import { mockFolder } from "../datasets/name.ts";
import { SyftError } from "../errors/mod.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { type Clock, systemClock } from "../time/clock.ts";
import { PeerStore } from "../peers/store.ts";
import { recordSent } from "./catalog.ts";
import { buildBundle, jobConfigFor, type JobSource, newJobId, writeJobInto } from "./submit.ts";

/** What to send, to whom, from where. */
export interface SendRequest {
  home: string;
  root: string;
  me: string;
  /** Recipients, each once. */
  to: readonly string[];
  source: JobSource;
  /** The job's name; by default the script's or folder's name. */
  name?: string | undefined;
  /** Datasets the job reads, each once. */
  datasets: readonly string[];
  network: boolean;
  /** Seconds; the job default when absent. */
  timeout?: number | undefined;
  /** Where the home, the source and the mirrors are; the disk by default. */
  fs?: LocalFs | undefined;
  /** What stamps `submitted_at`; the system's clock by default. */
  clock?: Clock | undefined;
  /** The id's 4 random bytes; crypto's unless a simulation replaying a seed passes its own. */
  idBytes?: Uint8Array | undefined;
}

/** The job sent: its id and name, and who got it. */
export interface Sent {
  id: string;
  name: string;
  to: string[];
}

/** Send a job to every recipient, or to none (see the module). */
export async function sendJob(req: SendRequest): Promise<Sent> {
  const fs = req.fs ?? denoFs;
  const listing = await new PeerStore(homeLayout(req.home).peers, fs).list();
  const accepted = new Set(
    listing.records.filter((r) => r.state === "accepted").map((r) => r.email),
  );
  for (const owner of req.to) await checkRecipient(req, accepted, owner, fs);
  const bundle = await buildBundle(req.source, fs);
  const name = req.name ?? posix.basename(req.source.path).replace(/\.(sh|py)$/, "");
  const id = req.idBytes === undefined ? newJobId(name) : newJobId(name, req.idBytes);
  const config = jobConfigFor(bundle, {
    id,
    name,
    me: req.me,
    at: new Date((req.clock ?? systemClock).now()).toISOString(),
    datasets: [...req.datasets],
    network: req.network,
    ...(req.timeout === undefined ? {} : { timeout: req.timeout }),
  });
  await recordSent(req.home, config, req.to, fs);
  for (const owner of req.to) await writeJobInto(posix.join(req.root, owner), bundle, config, fs);
  return { id, name, to: [...req.to] };
}

/** Refuse a recipient the job cannot go to, saying what to do. */
async function checkRecipient(
  req: SendRequest,
  accepted: ReadonlySet<string>,
  owner: string,
  fs: LocalFs,
): Promise<void> {
  if (owner === req.me) {
    throw new SyftError("E_INPUT", "you cannot send a job to yourself", {
      hint: "run it with bash run.sh",
    });
  }
  if (!accepted.has(owner)) {
    throw new SyftError("E_INPUT", `${owner} is not an accepted peer`, {
      hint: `run \`syft peer add ${owner}\` and wait for their approval (see \`syft peer list\`)`,
    });
  }
  for (const ds of req.datasets) {
    const meta = posix.join(req.root, owner, mockFolder(ds), "dataset.yaml");
    if (!(await fs.lstat(meta).then(() => true, () => false))) {
      throw new SyftError("E_INPUT", `${owner} has no dataset ${ds} that you can see`, {
        hint: "run `syft sync`, then `syft dataset list` to see the datasets you can use",
      });
    }
  }
}
