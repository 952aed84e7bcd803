/**
 * Reading requests once, into typed values: bounded bodies, file metadata as
 * a client sends it, and the query parameters Drive validates.
 * @module
 */
import { badRequest, DriveError, invalidParameter } from "./_errors.ts";
import { FILE } from "./_fields.ts";

/** The most metadata JSON the fake reads. */
export const MAX_METADATA_BYTES = 1024 * 1024;

/** The writable part of a file's metadata, as a client sends it. */
export interface Metadata {
  id?: string;
  name?: string;
  mimeType?: string;
  parents?: string[];
  description?: string;
  starred?: boolean;
  trashed?: boolean;
  appProperties?: Record<string, string | null>;
  properties?: Record<string, string | null>;
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers });
}

/** A string map (appProperties, properties); null values delete keys. */
function stringMap(v: unknown, key: string): Record<string, string | null> | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw badRequest(`Invalid ${key}`);
  for (const x of Object.values(v)) {
    if (x !== null && typeof x !== "string") throw badRequest(`Invalid ${key}`);
  }
  return v as Record<string, string | null>;
}

/** Parse a file metadata body once; unknown keys are refused as Drive refuses them. */
export function parseMetadata(raw: unknown): Metadata {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw badRequest("Metadata must be an object");
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(key in FILE)) {
      throw badRequest(
        `Invalid JSON payload received. Unknown name "${key}" at 'resource': Cannot find field.`,
      );
    }
  }
  const str = (k: string) => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw badRequest(`Invalid value at 'resource.${k}'`);
    return v;
  };
  const bool = (k: string) => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") throw badRequest(`Invalid value at 'resource.${k}'`);
    return v;
  };
  let parents: string[] | undefined;
  if (o.parents !== undefined) {
    if (!Array.isArray(o.parents) || o.parents.some((p) => typeof p !== "string")) {
      throw badRequest("Invalid value at 'resource.parents'");
    }
    parents = o.parents as string[];
  }
  const m: Metadata = {};
  const id = str("id"), name = str("name"), mimeType = str("mimeType");
  const description = str("description");
  const starred = bool("starred"), trashed = bool("trashed");
  if (id !== undefined) m.id = id;
  if (name !== undefined) m.name = name;
  if (mimeType !== undefined) m.mimeType = mimeType;
  if (description !== undefined) m.description = description;
  if (starred !== undefined) m.starred = starred;
  if (trashed !== undefined) m.trashed = trashed;
  if (parents !== undefined) m.parents = parents;
  const app = stringMap(o.appProperties, "appProperties");
  const props = stringMap(o.properties, "properties");
  if (app) m.appProperties = app;
  if (props) m.properties = props;
  return m;
}

/** A map without its null (deleting) values. */
export function definedOnly(m: Record<string, string | null> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).filter(([, v]) => v !== null)) as Record<
    string,
    string
  >;
}

/** Read a request body, refusing more than `limit` bytes. */
export async function readBytes(req: Request, limit: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of req.body) {
    size += part.length;
    if (size > limit) {
      throw new DriveError(413, { reason: "uploadTooLarge" }, "Request is too large.");
    }
    parts.push(part);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A JSON body (undefined when empty); malformed JSON is a 400 parseError. */
export async function readJson(req: Request): Promise<unknown> {
  const bytes = await readBytes(req, MAX_METADATA_BYTES);
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new DriveError(400, { reason: "parseError" }, "Invalid JSON payload received.");
  }
}

/** A true/false query parameter. */
export function boolParam(url: URL, name: string, fallback: boolean): boolean {
  const v = url.searchParams.get(name);
  if (v === null) return fallback;
  if (v === "true") return true;
  if (v === "false") return false;
  throw invalidParameter(name, `Invalid value '${v}'. Values must be true or false.`);
}

/** `pageSize`, 1 to 1000 as on Drive. */
export function pageSizeParam(url: URL, fallback: number): number {
  const v = url.searchParams.get("pageSize");
  if (v === null) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw invalidParameter(
      "pageSize",
      `Invalid value '${v}'. Values must be within the range: [1, 1000]`,
    );
  }
  return n;
}

/** Read up to `n` bytes of a body, then stop reading. */
export async function readSome(req: Request, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    while (size < n) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
      size += r.value.length;
    }
    await reader.cancel().catch(() => {});
  }
  return concat(parts, Math.min(size, n));
}

/** The first `size` bytes of `parts`, joined. */
export function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    if (at >= size) break;
    const take = p.subarray(0, size - at);
    out.set(take, at);
    at += take.length;
  }
  return out;
}
