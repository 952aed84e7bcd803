/**
 * `config.yaml`: one parse function from bytes to a typed {@linkcode Config}, and
 * the serialiser. A malformed file fails here, once, naming the file, the field
 * and the line.
 * @module
 */
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { SyftError } from "../errors/mod.ts";
import { isIdentity } from "../paths/identity.ts";
import { transportChoices } from "../transport/kinds.ts";

/** Settings of the sync engine, with the defaults of docs/protocol.md §6. */
export interface SyncSettings {
  checkpoint_threshold: number;
  compact_threshold: number;
  /** How long a reader waits on a missing batch before it asks for a resync. */
  gap_timeout_seconds: number;
  /** Bytes kept in quarantine per installation, in MiB; oldest entries go first. */
  quarantine_mib: number;
  /** Events accepted from one peer in one round (empty files count); the rest waits. */
  max_proposals: number;
}

/** Settings of the Google Drive transport. */
export interface GdriveSettings {
  /**
   * List every channel in full every this many rounds: whether Drive's change
   * feed reports files others add inside folders shared with you is not
   * documented, so the feed alone is not trusted forever.
   */
  full_list_every: number;
}

/** Defaults of the gdrive section. */
export const DEFAULT_GDRIVE: Readonly<GdriveSettings> = { full_list_every: 60 };

/** Limits of the job sandbox. */
export interface SandboxSettings {
  /** One cap shared by the job's `/tmp` and any shared memory, in MiB. */
  scratch_mib: number;
  /** The job's memory cap, in MiB (a cgroup where one can be had, else RLIMIT_AS). */
  memory_mib: number;
}

/** The parsed configuration of one installation. */
export interface Config {
  version: 1;
  /** Our identity, lower-case. */
  email: string;
  /** Absolute path of the datasite root (holds `<email>/` and peers' mirrors). */
  root: string;
  /** The default transport's spec, e.g. `local:/srv/shared` (`init`'s; named {@linkcode DEFAULT_TRANSPORT}). */
  transport: string;
  /**
   * More transports by name (`syft transport add`), for peers on other
   * storage; a peer record's `via` names one. Empty for most installations.
   */
  transports: Record<string, string>;
  /** When `syft init` created it (ms since the epoch). */
  created_at: number;
  sync: SyncSettings;
  jobs: JobSettings;
  sandbox: SandboxSettings;
  gdrive: GdriveSettings;
}

/** Settings of the job runner. */
export interface JobSettings {
  /** Package index for `--python` jobs' dependencies (pip `--index-url`); null: pip's default. */
  python_index: string | null;
}

/** Defaults for optional sections. */
export const DEFAULT_SYNC: Readonly<SyncSettings> = {
  checkpoint_threshold: 50,
  compact_threshold: 10,
  gap_timeout_seconds: 60,
  quarantine_mib: 64,
  max_proposals: 10_000,
};

/** Defaults of the sandbox section. */
export const DEFAULT_SANDBOX: Readonly<SandboxSettings> = {
  scratch_mib: 256,
  memory_mib: 4096,
};

/** The name `init`'s transport (`transport:`) goes by in `--via` and `transport list`. */
export const DEFAULT_TRANSPORT = "default";

/** Syntax of a transport's name: short, lower-case, safe in a shell and a file name. */
export const TRANSPORT_NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;

/** Named transports one config may hold: each is polled every round. */
export const MAX_TRANSPORTS = 16;

/** Longest transport spec kept (a folder path, or a bare kind). */
export const MAX_SPEC_LENGTH = 4096;

/** Why `name` cannot name a new transport, or null when it can. */
export function transportNameProblem(name: string): string | null {
  if (!TRANSPORT_NAME_RE.test(name)) {
    return "must be 1-32 characters: a lower-case letter, then letters, digits, - or _";
  }
  if (name === DEFAULT_TRANSPORT) return `is the name of init's transport`;
  return null;
}

/** A config file larger than this is refused before parsing: it cannot be ours. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const FIX_HINT = "fix the value in the file, or run `syft init --force` with the right flags";

/**
 * Parse the text of `config.yaml`.
 * @param text the file's contents
 * @param file the file's path, named in every error
 * @throws {SyftError} `E_INPUT` naming the file, the field and the line
 */
export function parseConfig(text: string, file: string): Config {
  if (text.length > MAX_CONFIG_BYTES) {
    throw new SyftError("E_INPUT", `${file} is larger than 1 MiB and cannot be a syft config`, {
      hint: FIX_HINT,
    });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError) {
    const line = firstError.linePos?.[0].line;
    const where = line === undefined ? "" : ` (line ${line})`;
    throw new SyftError(
      "E_INPUT",
      `${file} is not valid YAML${where}: ${firstError.message.split("\n")[0]}`,
      { hint: FIX_HINT },
    );
  }
  const contents = doc.contents;
  if (!isMap(contents)) {
    throw new SyftError("E_INPUT", `${file} must be a mapping of settings`, { hint: FIX_HINT });
  }

  const fail = (key: string, problem: string): never => {
    const node = contents.get(key, true);
    const offset = isScalar(node) && node.range ? node.range[0] : undefined;
    const where = offset === undefined ? "" : ` (line ${lineCounter.linePos(offset).line})`;
    throw new SyftError("E_INPUT", `${file}: "${key}" ${problem}${where}`, { hint: FIX_HINT });
  };
  const value = (key: string): unknown => {
    const v: unknown = contents.get(key);
    return v;
  };
  const requireString = (key: string): string => {
    const v = value(key);
    if (v === undefined || v === null) return fail(key, "is missing");
    if (typeof v !== "string" || v.length === 0) return fail(key, "must be a non-empty string");
    return v;
  };

  const version = value("version");
  if (version !== 1) fail("version", `must be 1, found ${JSON.stringify(version ?? null)}`);

  const email = requireString("email");
  if (!isIdentity(email)) fail("email", `${JSON.stringify(email)} is not a lower-case email`);

  const root = requireString("root");
  if (!root.startsWith("/")) fail("root", `${JSON.stringify(root)} must be an absolute path`);

  const transport = requireString("transport");
  if (transport.length > MAX_SPEC_LENGTH) fail("transport", "is too long");

  const transports: Record<string, string> = {};
  const transportsNode = contents.get("transports", true);
  if (transportsNode !== undefined && transportsNode !== null) {
    if (!isMap(transportsNode)) fail("transports", "must be a mapping of name: spec");
    const items = (transportsNode as unknown as { items: { key: unknown; value: unknown }[] })
      .items;
    if (items.length > MAX_TRANSPORTS) {
      fail("transports", `holds more than ${MAX_TRANSPORTS} transports`);
    }
    for (const item of items) {
      const name = isScalar(item.key) ? item.key.value : item.key;
      const spec = isScalar(item.value) ? item.value.value : item.value;
      if (typeof name !== "string") return fail("transports", "has a name that is not a string");
      const problem = transportNameProblem(name);
      if (problem) fail("transports", `.${JSON.stringify(name)} ${problem}`);
      if (typeof spec !== "string" || spec.length === 0 || spec.length > MAX_SPEC_LENGTH) {
        fail("transports", `.${name} must be a transport spec (${transportChoices()})`);
      }
      transports[name] = spec as string;
    }
  }

  const createdAt = value("created_at") ?? 0;
  if (typeof createdAt !== "number" || !Number.isSafeInteger(createdAt) || createdAt < 0) {
    fail("created_at", "must be milliseconds since the epoch");
  }

  const wholeNumbers = <T extends object>(section: string, defaults: Readonly<T>): T => {
    const result = { ...defaults };
    const node = contents.get(section, true);
    if (node === undefined || node === null) return result;
    if (!isMap(node)) fail(section, "must be a mapping");
    const map = node as unknown as { get(key: string): unknown };
    for (const key of Object.keys(defaults) as (keyof T & string)[]) {
      const v = map.get(key);
      if (v === undefined || v === null) continue;
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
        fail(section, `.${key} must be a whole number of at least 1`);
      }
      (result as Record<string, unknown>)[key] = v;
    }
    return result;
  };
  const sync = wholeNumbers("sync", DEFAULT_SYNC);
  const sandbox = wholeNumbers("sandbox", DEFAULT_SANDBOX);
  const gdrive = wholeNumbers("gdrive", DEFAULT_GDRIVE);

  const jobs: JobSettings = { python_index: null };
  const jobsNode = contents.get("jobs", true);
  if (jobsNode !== undefined && jobsNode !== null) {
    if (!isMap(jobsNode)) fail("jobs", "must be a mapping");
    const index = (jobsNode as unknown as { get(key: string): unknown }).get("python_index");
    if (index !== undefined && index !== null) {
      if (typeof index !== "string" || !/^https?:\/\/\S+$/.test(index)) {
        fail("jobs", ".python_index must be an http(s) URL");
      }
      jobs.python_index = index as string;
    }
  }

  return {
    version: 1,
    email,
    root,
    transport,
    transports,
    created_at: createdAt as number,
    sync,
    jobs,
    sandbox,
    gdrive,
  };
}

/** The text of `config.yaml` for a config, with a comment heading. */
export function serializeConfig(config: Config): string {
  return [
    "# syft configuration (written by `syft init`; safe to edit by hand)",
    `version: ${config.version}`,
    `email: ${JSON.stringify(config.email)}`,
    `root: ${JSON.stringify(config.root)}`,
    `transport: ${JSON.stringify(config.transport)}`,
    ...(Object.keys(config.transports).length === 0 ? [] : [
      "transports:",
      ...Object.entries(config.transports).map(([name, spec]) =>
        `  ${JSON.stringify(name)}: ${JSON.stringify(spec)}`
      ),
    ]),
    `created_at: ${config.created_at}`,
    "sync:",
    `  checkpoint_threshold: ${config.sync.checkpoint_threshold}`,
    `  compact_threshold: ${config.sync.compact_threshold}`,
    `  gap_timeout_seconds: ${config.sync.gap_timeout_seconds}`,
    `  quarantine_mib: ${config.sync.quarantine_mib}`,
    `  max_proposals: ${config.sync.max_proposals}`,
    "sandbox:",
    `  scratch_mib: ${config.sandbox.scratch_mib}`,
    `  memory_mib: ${config.sandbox.memory_mib}`,
    "gdrive:",
    `  full_list_every: ${config.gdrive.full_list_every}`,
    ...(config.jobs.python_index === null
      ? []
      : ["jobs:", `  python_index: ${JSON.stringify(config.jobs.python_index)}`]),
    "",
  ].join("\n");
}
