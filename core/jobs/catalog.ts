/**
 * Every job this installation knows, read from files: as an owner, the folders
 * in our inbox and their review state; as a submitter, the jobs we recorded
 * as sent and the state each owner shares back through its mirror. Also turns what the
 * user typed (`<id>` or `<submitter>/<id>`) into jobs.
 * @module
 */
import { posix } from "node:path";
import { SyftError } from "../errors/mod.ts";
import { isHiddenName } from "../datasite/names.ts";
import { isIdentity } from "../paths/identity.ts";
import { stringify } from "yaml";
import { writeFileAtomic } from "../fs/atomic.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";
import { Fields } from "./_fields.ts";
import { subfolderNames } from "./_folders.ts";
import {
  JOB_CONFIG_FILE,
  JOB_ID_RE,
  type JobConfig,
  parseJobConfig,
  serializeJobConfig,
} from "./config.ts";
import { INBOX_ROOT, inboxJobFolder, type JobKey, jobLabel, REVIEW_ROOT } from "./layout.ts";
import { readJobState, readOwnerState, receivedRoot } from "./review.ts";
import type { JobState } from "./state.ts";

/** One job seen from here. */
export interface JobEntry {
  key: JobKey;
  /** Whose datasite runs it. */
  owner: string;
  /** `owner` when we run it, `submitter` when we sent it. */
  role: "owner" | "submitter";
  /** The datasite folder the job lives in (ours, or the owner's mirror). */
  datasite: string;
  config: JobConfig | null;
  /** Null until the owner received it (or while its state is unreadable). */
  state: JobState | null;
  /** Why `config.yaml` would not parse. */
  configProblem: string | null;
  /** Why `state.yaml` would not parse (the job is then left alone). */
  stateProblem: string | null;
}

/** Folders under `dir` that can be jobs, owners or submitters (dot-names are syft's own). */
async function dirNames(dir: string, fs: LocalFs): Promise<string[]> {
  return (await subfolderNames(dir, fs)).filter((n) => !isHiddenName(n));
}

async function readEntry(
  datasite: string,
  owner: string,
  key: JobKey,
  records: string | null,
  fs: LocalFs,
): Promise<JobEntry> {
  const entry: JobEntry = {
    key,
    owner,
    role: "owner",
    datasite,
    config: null,
    state: null,
    configProblem: null,
    stateProblem: null,
  };
  const file = posix.join(datasite, inboxJobFolder(key.submitter, key.id), JOB_CONFIG_FILE);
  try {
    entry.config = parseJobConfig(await fs.readTextFile(file), file);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      entry.configProblem = String((err as Error).message);
    }
  }
  try {
    entry.state = records === null
      ? await readJobState(datasite, key, fs)
      : await readOwnerState({ datasite, records, fs }, key);
  } catch (err) {
    entry.stateProblem = String((err as Error).message);
  }
  return entry;
}

/**
 * Jobs peers sent to us. With `records` (the owner's record folder, see
 * {@linkcode receivedRoot}) each state is the owner's whole record; without,
 * what the datasite shares (enough for a status).
 */
export async function ownerJobs(
  root: string,
  me: string,
  records: string | null = null,
  fs: LocalFs = denoFs,
): Promise<JobEntry[]> {
  const datasite = posix.join(root, me);
  const out: JobEntry[] = [];
  for (const submitter of await dirNames(posix.join(datasite, INBOX_ROOT), fs)) {
    if (!isIdentity(submitter)) continue;
    for (const id of await dirNames(posix.join(datasite, INBOX_ROOT, submitter), fs)) {
      if (!JOB_ID_RE.test(id)) continue;
      out.push(await readEntry(datasite, me, { submitter, id }, records, fs));
    }
  }
  return out;
}

/**
 * Where the submitter keeps what it sent: `<home>/jobs/sent/<id>/config.yaml`
 * and `to.yaml`. The copies written into owners' mirrors leave the mirror
 * once the owner applied them (the inbox is not readable back), so this is
 * the submitter's own record.
 */
export function sentFolder(home: string, id: string): string {
  return posix.join(home, "jobs", "sent", id);
}

/** Record a job we are sending (before it is written into any mirror). */
export async function recordSent(
  home: string,
  config: JobConfig,
  to: readonly string[],
  fs: LocalFs = denoFs,
): Promise<void> {
  const dir = sentFolder(home, config.id);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(posix.join(dir, JOB_CONFIG_FILE), serializeJobConfig(config), { fs });
  await writeFileAtomic(posix.join(dir, SENT_TO_FILE), stringify({ to }), { fs });
}

const SENT_TO_FILE = "to.yaml";

/** Jobs we sent, one entry per owner, with the state each owner shares back through its mirror. */
export async function submittedJobs(
  root: string,
  me: string,
  home: string,
  fs: LocalFs = denoFs,
): Promise<JobEntry[]> {
  const out: JobEntry[] = [];
  const seen = new Set<string>();
  const base = posix.join(home, "jobs", "sent");
  for (const id of await dirNames(base, fs)) {
    if (!JOB_ID_RE.test(id)) continue;
    const dir = posix.join(base, id);
    let config: JobConfig | null = null;
    let configProblem: string | null = null;
    let to: string[] = [];
    try {
      config = parseJobConfig(
        await fs.readTextFile(posix.join(dir, JOB_CONFIG_FILE)),
        posix.join(dir, JOB_CONFIG_FILE),
      );
      const toFile = posix.join(dir, SENT_TO_FILE);
      to = Fields.parse(await fs.readTextFile(toFile), toFile, "E_INPUT").strings("to").filter(
        isIdentity,
      );
    } catch (err) {
      configProblem = String((err as Error).message);
    }
    for (const owner of to) {
      seen.add(`${owner}/${id}`);
      const datasite = posix.join(root, owner);
      const key = { submitter: me, id };
      const entry: JobEntry = {
        key,
        owner,
        role: "submitter",
        datasite,
        config,
        state: null,
        configProblem,
        stateProblem: null,
      };
      try {
        entry.state = await readJobState(datasite, key, fs);
      } catch (err) {
        entry.stateProblem = String((err as Error).message);
      }
      out.push(entry);
    }
  }
  // A job whose record was lost (a crash between writing it into the mirror
  // and recording it) still shows once its owner shares a state back.
  for (const owner of await dirNames(root, fs)) {
    if (owner === me || !isIdentity(owner)) continue;
    const datasite = posix.join(root, owner);
    for (const id of await dirNames(posix.join(datasite, REVIEW_ROOT, me), fs)) {
      if (!JOB_ID_RE.test(id) || seen.has(`${owner}/${id}`)) continue;
      const entry = await readEntry(datasite, owner, { submitter: me, id }, null, fs);
      out.push({ ...entry, role: "submitter", config: null, configProblem: null });
    }
  }
  return out;
}

/** Both sides. */
export async function allJobs(
  root: string,
  me: string,
  home: string,
  fs: LocalFs = denoFs,
): Promise<JobEntry[]> {
  return [
    ...await ownerJobs(root, me, receivedRoot(home), fs),
    ...await submittedJobs(root, me, home, fs),
  ];
}

/**
 * The jobs a reference names: `<submitter>/<id>` exactly, a bare `<id>`, or
 * else a job's name (`--name` at submit; also `<submitter>/<name>`) when
 * exactly one job has it. A bare id or name two jobs share is refused,
 * listing the ids to use. A job we sent to several owners is several entries
 * with one key.
 */
export function resolveJobRef(entries: readonly JobEntry[], ref: string): JobEntry[] {
  const slash = ref.lastIndexOf("/");
  const submitter = slash >= 0 ? ref.slice(0, slash) : null;
  const rest = slash >= 0 ? ref.slice(slash + 1) : ref;
  if (ref.trim() === "" || ref.length > 200 || (submitter !== null && !isIdentity(submitter))) {
    throw new SyftError("E_INPUT", `${JSON.stringify(ref)} is not a job id or name`, {
      hint: "use the id `syft job list` shows, or <submitter>/<id>",
    });
  }
  const mine = entries.filter((e) => submitter === null || e.key.submitter === submitter);
  let found = JOB_ID_RE.test(rest) ? mine.filter((e) => e.key.id === rest) : [];
  if (found.length === 0) found = mine.filter((e) => e.config?.name === rest);
  if (found.length === 0) {
    throw new SyftError("E_INPUT", `no job ${JSON.stringify(ref)} here`, {
      hint: "run `syft sync`, then `syft job list`",
    });
  }
  const labels = [...new Set(found.map((e) => jobLabel(e.key)))];
  if (labels.length > 1) {
    const byId = found.every((e) => e.key.id === rest);
    // Each job by its bare id, unless two submitters used the same id.
    const ids = [...new Set(found.map((e) => e.key.id))];
    const names = ids.length === labels.length ? ids : labels;
    throw new SyftError(
      "E_INPUT",
      byId
        ? `job id ${rest} was used by ${
          [...new Set(found.map((e) => e.key.submitter))].join(" and ")
        }`
        : `${labels.length} jobs are named ${JSON.stringify(rest)}: ${names.join(", ")}`,
      { hint: `name one: ${names.join(" or ")}` },
    );
  }
  return found;
}
