/**
 * `dataset.yaml`: the one parse function from text to a typed
 * {@linkcode DatasetMeta}, its serialiser, and the dataset's `syft.pub.yaml`.
 * @module
 */
import { isMap, LineCounter, parseDocument, stringify } from "yaml";
import { SyftError, type SyftErrorCode } from "../errors/mod.ts";
import { checkInboundPath } from "../paths/inbound.ts";
import { isIdentity } from "../paths/identity.ts";
import { DATASET_NAME_RE } from "./name.ts";
import { isoUtc } from "../time/iso.ts";

/** One mock file as `dataset.yaml` lists it. */
export interface MockFile {
  /** Relative to the mock folder, `/`-separated. */
  path: string;
  /** Bytes. */
  size: number;
  /** Lowercase hex SHA-256 of the content. */
  sha256: string;
}

/** The content of a dataset's `dataset.yaml`. */
export interface DatasetMeta {
  name: string;
  summary: string;
  /** The owner's identity (the datasite it lives in). */
  owner: string;
  /** ISO-8601. */
  created_at: string;
  /** ISO-8601. */
  updated_at: string;
  mock_files: MockFile[];
  /** The readme's text, or null. */
  readme: string | null;
}

/** A `dataset.yaml` larger than this is refused before parsing. */
export const MAX_META_BYTES = 16 * 1024 * 1024;

/** Longest summary kept, in characters. */
export const MAX_SUMMARY_CHARS = 1000;

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

/** True for an ISO-8601 date-time with a zone, as `toISOString()` writes. */
export function isIsoTimestamp(s: string): boolean {
  return ISO_RE.test(s) && !Number.isNaN(Date.parse(s));
}

/** Options for {@linkcode parseDatasetMeta}. */
export interface ParseMetaOptions {
  /** The error code of a refusal: `E_BAD_MESSAGE` (default, a peer's file) or `E_INPUT` (our own). */
  code?: SyftErrorCode | undefined;
}

/**
 * Parse the text of a `dataset.yaml`, strictly: every field present with its type.
 * Unknown keys are ignored, so later versions may add fields.
 *
 * @param text the file's contents
 * @param file the file's path, named in every error
 * @throws {SyftError} `E_BAD_MESSAGE` (or `options.code`) naming the file and the field
 */
export function parseDatasetMeta(
  text: string,
  file: string,
  options: ParseMetaOptions = {},
): DatasetMeta {
  const code = options.code ?? "E_BAD_MESSAGE";
  const hint = "the owner can re-create it with `syft dataset delete` and `syft dataset create`";
  const fail = (what: string): never => {
    throw new SyftError(code, `${file} is not a valid dataset.yaml: ${what}`, { hint });
  };
  if (text.length > MAX_META_BYTES) fail("it is larger than 16 MiB");
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, logLevel: "error" });
  const first = doc.errors[0];
  if (first) {
    const at = lineCounter.linePos(first.pos[0]);
    fail(`line ${at.line}: ${first.message.split("\n")[0]}`);
  }
  if (!isMap(doc.contents)) fail("it is not a mapping of fields");
  const raw = doc.toJS({ maxAliasCount: 0 }) as Record<string, unknown>;

  const str = (field: string): string => {
    const v = raw[field];
    if (typeof v !== "string") fail(`field "${field}" must be a string`);
    return v as string;
  };
  const name = str("name");
  if (!DATASET_NAME_RE.test(name)) fail(`field "name" (${JSON.stringify(name)}) is not valid`);
  const summary = str("summary");
  const owner = str("owner");
  if (!isIdentity(owner)) fail(`field "owner" (${JSON.stringify(owner)}) is not an identity`);
  // Kept in UTC: `dataset list` prints peers' times as it prints ours.
  const created_at = isoUtc(str("created_at")) ??
    fail(`field "created_at" is not an ISO-8601 time`);
  const updated_at = isoUtc(str("updated_at")) ??
    fail(`field "updated_at" is not an ISO-8601 time`);
  const readme = raw["readme"];
  if (readme !== null && typeof readme !== "string") {
    fail(`field "readme" must be a string or null`);
  }
  const list = raw["mock_files"];
  if (!Array.isArray(list)) fail(`field "mock_files" must be a list`);
  const seen = new Set<string>();
  const mock_files = (list as unknown[]).map((item, i): MockFile => {
    const at = `mock_files[${i}]`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      fail(`field "${at}" must be a mapping`);
    }
    const f = item as Record<string, unknown>;
    const path = f["path"];
    if (typeof path !== "string") fail(`field "${at}.path" must be a string`);
    const check = checkInboundPath(path as string);
    if (!check.ok) fail(`field "${at}.path" is not a valid path: ${check.reason}`);
    if (seen.has(path as string)) fail(`field "${at}.path" repeats ${JSON.stringify(path)}`);
    seen.add(path as string);
    const size = f["size"];
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      fail(`field "${at}.size" must be a whole number of bytes`);
    }
    const sha256 = f["sha256"];
    if (typeof sha256 !== "string" || !SHA256_RE.test(sha256)) {
      fail(`field "${at}.sha256" must be 64 lowercase hex digits`);
    }
    return { path: path as string, size: size as number, sha256: sha256 as string };
  });
  return {
    name,
    summary,
    owner,
    created_at,
    updated_at,
    mock_files,
    readme: readme as string | null,
  };
}

/** The text of a `dataset.yaml`, fields in a fixed order; {@linkcode parseDatasetMeta} reads it back. */
export function serializeDatasetMeta(meta: DatasetMeta): string {
  const ordered = {
    name: meta.name,
    summary: meta.summary,
    owner: meta.owner,
    created_at: meta.created_at,
    updated_at: meta.updated_at,
    mock_files: meta.mock_files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
    readme: meta.readme,
  };
  return "# Written by `syft dataset create`; describes the mock files beside it.\n" +
    stringify(ordered, { lineWidth: 0 });
}

/**
 * The `syft.pub.yaml` of a dataset's mock folder: read for `readers`
 * (`["*"]` for everyone), nothing else. It governs the whole folder (the
 * deepest file governs), so it replaces `public/`'s default for this dataset.
 */
export function datasetPermissionFile(readers: readonly string[]): string {
  const list = readers.map((r) => `'${r.replaceAll("'", "''")}'`).join(", ");
  return [
    "# Who may read this dataset's mock (written by `syft dataset create`).",
    "# Edit with `syft perm grant|revoke public/syft_datasets/<name>/ <email>`.",
    "rules:",
    "  - pattern: '**'",
    "    access:",
    `      read: [${list}]`,
    "",
  ].join("\n");
}
