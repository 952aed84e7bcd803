/**
 * A job's `config.yaml`: what the submitter asks for (entrypoint, datasets,
 * grants) and every file with its SHA-256. The owner parses it from a peer's
 * proposal, so it is hostile input and fails here, once.
 * @module
 */
import { stringify } from "yaml";
import { DATASET_NAME_RE } from "../datasets/name.ts";
import { isHiddenName, isPermissionFile } from "../datasite/names.ts";
import { isIdentity } from "../paths/identity.ts";
import { checkInboundPath } from "../paths/inbound.ts";
import { Fields } from "./_fields.ts";
import { isoUtc } from "../time/iso.ts";

/** Job ids: one path segment, readable in a terminal. */
export const JOB_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
/** A pip requirement, without options or URLs that could redirect the install. */
const DEPENDENCY_RE =
  /^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?([<>=!~]=?[A-Za-z0-9.*+!_-]+(,[<>=!~]=?[A-Za-z0-9.*+!_-]+)*)?$/;

/** Default wall-clock limit of a run, in seconds. */
export const DEFAULT_TIMEOUT_S = 600;
/** Longest run a job may ask for: one day. */
export const MAX_TIMEOUT_S = 86_400;
/** Most files one job may hold. */
export const MAX_JOB_FILES = 10_000;

/** The kinds of job: a shell script, or Python with dependencies installed first. */
export type JobType = "bash" | "python";

/** What the job asks the owner to grant while it runs. */
export interface JobGrants {
  network: boolean;
  /** Seconds. */
  timeout: number;
}

/** One file of the job, relative to the job folder. */
export interface JobFile {
  path: string;
  sha256: string;
}

/** The parsed `config.yaml`. */
export interface JobConfig {
  id: string;
  name: string;
  submitted_by: string;
  /** ISO-8601. */
  submitted_at: string;
  type: JobType;
  entrypoint: string;
  dependencies: string[];
  datasets: string[];
  grants: JobGrants;
  files: JobFile[];
}

/** The script every job starts with. */
export const JOB_ENTRYPOINT = "run.sh";

/** Name of the job description inside a job folder. */
export const JOB_CONFIG_FILE = "config.yaml";

/**
 * Parse `config.yaml` text.
 * @throws {SyftError} `E_BAD_MESSAGE` naming the file and the field
 */
export function parseJobConfig(text: string, file: string): JobConfig {
  const f = Fields.parse(text, file, "E_BAD_MESSAGE");
  const type = f.string("type");
  if (type !== "bash" && type !== "python") f.fail("type", 'must be "bash" or "python"');
  // Kept in UTC: `job list` prints and sorts it with the owners' times.
  const submittedAt = isoUtc(f.string("submitted_at")) ??
    f.fail("submitted_at", "must be an ISO-8601 time");
  const submittedBy = f.string("submitted_by");
  if (!isIdentity(submittedBy)) f.fail("submitted_by", "must be a lower-case email");
  const grants = f.nested("grants");
  const files = f.list("files").map((e) => ({
    path: jobPath(e, "path"),
    sha256: e.string("sha256", SHA256_RE),
  }));
  if (files.length > MAX_JOB_FILES) f.fail("files", `holds more than ${MAX_JOB_FILES} files`);
  const seen = new Set<string>();
  for (const { path } of files) {
    if (seen.has(path)) f.fail("files", `lists ${JSON.stringify(path)} twice`);
    if (path === JOB_CONFIG_FILE) f.fail("files", `must not list ${JOB_CONFIG_FILE} itself`);
    seen.add(path);
  }
  // A job is a folder with run.sh (docs/cli.md): anything else is refused, so an
  // owner always reviews the same file.
  const entrypoint = jobPath(f, "entrypoint");
  if (entrypoint !== JOB_ENTRYPOINT) f.fail("entrypoint", `must be ${JOB_ENTRYPOINT}`);
  if (!seen.has(entrypoint)) f.fail("files", `has no ${JOB_ENTRYPOINT}`);
  return {
    id: f.string("id", JOB_ID_RE),
    name: f.string("name"),
    submitted_by: submittedBy,
    submitted_at: submittedAt,
    type: type as JobType,
    entrypoint,
    dependencies: f.strings("dependencies", DEPENDENCY_RE),
    datasets: f.strings("datasets", DATASET_NAME_RE),
    grants: {
      network: grants.boolean("network", false),
      timeout: grants.integer("timeout", 1, MAX_TIMEOUT_S, DEFAULT_TIMEOUT_S),
    },
    files,
  };
}

function jobPath(f: Fields, field: string): string {
  const raw = f.string(field);
  const check = checkInboundPath(raw);
  if (!check.ok) f.fail(field, `${JSON.stringify(raw)} is not a safe relative path`);
  // Dot-files never travel, and a permission file is the owner's: neither can be part of a job.
  if (raw.split("/").some((s) => isHiddenName(s) || isPermissionFile(s))) {
    f.fail(field, `${JSON.stringify(raw)} cannot travel (a dot-file or a permission file)`);
  }
  return raw;
}

/** Whether a string is a valid pip requirement for `--dep`. */
export function isDependency(raw: string): boolean {
  return DEPENDENCY_RE.test(raw);
}

/** The text of `config.yaml`. */
export function serializeJobConfig(config: JobConfig): string {
  return "# Written by `syft job submit`; the owner checks every file against its hash.\n" +
    stringify(config, { lineWidth: 0 });
}
