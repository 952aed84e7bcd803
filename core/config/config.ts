/**
 * `config.yaml`: the typed {@linkcode Config}, its checks ({@linkcode configFrom}),
 * the serialiser, and the reader of the text the serialiser writes. Any other
 * text goes through the YAML parser (core/config/config_yaml.ts), loaded only
 * then: the `yaml` package is a third of a short command's start-up.
 * @module
 */
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

/** What to do about a config file that does not parse or check. */
export const FIX_HINT =
  "fix the value in the file, or run `syft init --force` with the right flags";

/** A top-level section of the file as {@linkcode configFrom} reads it. */
export interface ConfigSection {
  /** Its entries in file order, keys and values as parsed (scalars unwrapped). */
  entries(): [unknown, unknown][];
  /** The value under `key`, undefined when absent. */
  get(key: string): unknown;
}

/**
 * The parsed file as {@linkcode configFrom} reads it, whichever reader parsed
 * the text: the YAML parser (core/config/config_yaml.ts) or the reader of the
 * text syft itself writes ({@linkcode readWrittenConfig}).
 */
export interface ConfigSource {
  /** A top-level value as parsed (a section comes back as a non-scalar), undefined when absent. */
  value(key: string): unknown;
  /** A top-level section: "absent", "not a mapping", or its entries. */
  section(key: string): ConfigSection | "absent" | "not a mapping";
  /** Refuse the file for `key`. */
  fail(key: string, problem: string): never;
}

/**
 * The typed config of a parsed file: every field checked, defaults filled.
 * @throws whatever `source.fail` throws
 */
export function configFrom(source: ConfigSource): Config {
  const fail = (key: string, problem: string): never => source.fail(key, problem);
  const value = (key: string): unknown => source.value(key);
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
  const transportsNode = source.section("transports");
  if (transportsNode !== "absent") {
    if (transportsNode === "not a mapping") {
      return fail("transports", "must be a mapping of name: spec");
    }
    const items = transportsNode.entries();
    if (items.length > MAX_TRANSPORTS) {
      fail("transports", `holds more than ${MAX_TRANSPORTS} transports`);
    }
    for (const [name, spec] of items) {
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
    const node = source.section(section);
    if (node === "absent") return result;
    if (node === "not a mapping") return fail(section, "must be a mapping");
    for (const key of Object.keys(defaults) as (keyof T & string)[]) {
      const v = node.get(key);
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
  const jobsNode = source.section("jobs");
  if (jobsNode !== "absent") {
    if (jobsNode === "not a mapping") return fail("jobs", "must be a mapping");
    const index = jobsNode.get("python_index");
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

/**
 * The config in `text` when `text` is exactly what {@linkcode serializeConfig}
 * writes for a valid config, else undefined (then the YAML parser decides,
 * errors included). Read without the `yaml` package, whose load is a third
 * of a short command's start-up. Exact because the text must serialise back
 * to itself, and because it admits only scalars the YAML parser reads the
 * same way: decimal integers and double-quoted strings of printable
 * characters with no escape but `\"` and `\\`.
 */
export function readWrittenConfig(text: string): Config | undefined {
  if (text.length > MAX_CONFIG_BYTES) return undefined;
  const top = writtenLines(text);
  if (top === undefined) return undefined;
  let config: Config;
  try {
    config = configFrom({
      value: (key) => top.get(key),
      section: (key) => {
        const v = top.get(key);
        if (v === undefined) return "absent";
        if (!(v instanceof Map)) return "not a mapping";
        return { entries: () => [...v.entries()], get: (k) => v.get(k) };
      },
      fail: () => {
        throw new NotWritten();
      },
    });
  } catch (err) {
    if (err instanceof NotWritten) return undefined;
    throw err;
  }
  return serializeConfig(config) === text ? config : undefined;
}

/** A check failed on the quick path: the YAML parser will say which, and where. */
class NotWritten extends Error {}

type Scalar = string | number;

/** Top-level keys to scalars or one-level sections, in the layout serializeConfig writes. */
function writtenLines(text: string): Map<string, Scalar | Map<string, Scalar>> | undefined {
  const lines = text.split("\n");
  if (lines.pop() !== "") return undefined;
  const top = new Map<string, Scalar | Map<string, Scalar>>();
  let section: Map<string, Scalar> | undefined;
  for (const line of lines) {
    if (line.startsWith("#")) continue;
    const header = /^([a-z_]+):$/.exec(line);
    if (header) {
      if (top.has(header[1]!) || section?.size === 0) return undefined;
      section = new Map();
      top.set(header[1]!, section);
      continue;
    }
    const entry = /^([a-z_]+): (.+)$/.exec(line);
    if (entry) {
      const v = writtenScalar(entry[2]!);
      if (v === undefined || top.has(entry[1]!) || section?.size === 0) return undefined;
      top.set(entry[1]!, v);
      section = undefined;
      continue;
    }
    const inner = /^ {2}([a-z_]+|"[^"]*"): (.+)$/.exec(line);
    if (!inner || section === undefined) return undefined;
    const key = inner[1]!.startsWith('"') ? writtenScalar(inner[1]!) : inner[1]!;
    const v = writtenScalar(inner[2]!);
    if (typeof key !== "string" || v === undefined || section.has(key)) return undefined;
    section.set(key, v);
  }
  return section?.size === 0 ? undefined : top;
}

/** A decimal integer or a double-quoted string the YAML parser reads as the same value. */
function writtenScalar(s: string): Scalar | undefined {
  if (/^(0|[1-9][0-9]{0,15})$/.test(s)) return Number(s);
  // Printable first: the value's characters are the text's, and JSON.parse throws on a control one.
  for (const ch of s) if (!printable(ch.codePointAt(0)!)) return undefined;
  if (!/^"(?:[^"\\]|\\["\\])*"$/.test(s)) return undefined;
  return JSON.parse(s) as string;
}

/** YAML's printable characters, less the ones some readers take for line breaks or a BOM. */
function printable(c: number): boolean {
  return (c >= 0x20 && c <= 0x7e) ||
    (c >= 0xa0 && c <= 0xd7ff && c !== 0x2028 && c !== 0x2029) ||
    (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff) ||
    c >= 0x10000;
}
