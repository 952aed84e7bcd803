/**
 * Reading a Dropbox request once, into typed values: the argument (JSON body
 * for RPC routes; `Dropbox-API-Arg` header or `?arg=` for content routes),
 * bounded bodies, and field checks that answer as Dropbox does, in plain-text
 * 400s naming the field.
 * @module
 */
import { DriveError } from "../gdrive/_errors.ts";
import { readBytes as readLimited } from "../gdrive/_request.ts";
import { badInput, DbxError, routeError } from "./_errors.ts";

/** The most JSON an argument may hold. */
export const MAX_ARG_BYTES = 1024 * 1024;
/** The most bytes one content call may carry (Dropbox's 150 MiB). */
export const MAX_CONTENT_BYTES = 150 * 1024 * 1024;

/** A parsed JSON object argument. */
export type Arg = Record<string, unknown>;

const RPC_TYPES = ["application/json", "text/plain; charset=dropbox-cors-hack"];
const CONTENT_TYPES = ["application/octet-stream", "text/plain; charset=dropbox-cors-hack"];

function mediaType(req: Request): string | null {
  const raw = req.headers.get("content-type");
  if (raw === null) return null;
  return raw.split(";").map((s) => s.trim().toLowerCase()).filter((s) => s !== "charset=utf-8")
    .join("; ");
}

/** The JSON argument of an RPC call; `null`/empty only where the route takes none. */
export async function rpcArg(req: Request, takesArg: boolean): Promise<Arg | null> {
  const type = mediaType(req);
  const bytes = await readBytes(req, MAX_ARG_BYTES);
  if (bytes.length === 0 && type === null && !takesArg) return null;
  if (type === null || !RPC_TYPES.includes(type)) {
    throw badInput(
      `Bad HTTP "Content-Type" header: "${req.headers.get("content-type") ?? ""}".  ` +
        `Expecting one of "application/json", "application/json; charset=utf-8", ` +
        `"text/plain; charset=dropbox-cors-hack".`,
    );
  }
  const value = parseJson(new TextDecoder().decode(bytes), "request body");
  if (!takesArg) {
    if (value !== null) throw badInput(`request body: expected null, got value`);
    return null;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badInput("request body: expected object, got " + kindOf(value));
  }
  return value as Arg;
}

/** The argument of a content call: `Dropbox-API-Arg`, else `?arg=`; exactly one of them. */
export function contentArg(req: Request, url: URL): Arg {
  const header = req.headers.get("dropbox-api-arg");
  const query = url.searchParams.get("arg");
  if (header !== null && query !== null) {
    throw badInput(`Cannot specify both "Dropbox-API-Arg" header and "arg" URL parameter`);
  }
  const text = header ?? query;
  if (text === null) {
    throw badInput(`Must provide HTTP header "Dropbox-API-Arg" or URL parameter "arg".`);
  }
  if (text.length > MAX_ARG_BYTES) throw badInput(`HTTP header "Dropbox-API-Arg": too large`);
  const where = header !== null ? `HTTP header "Dropbox-API-Arg"` : `URL parameter "arg"`;
  // A header carries ASCII only: Dropbox wants every other character escaped as \uXXXX.
  if (header !== null && [...header].some((ch) => ch.charCodeAt(0) > 0x7e)) {
    throw badInput(
      `${where}: could not decode input as JSON (non-ASCII characters must be escaped)`,
    );
  }
  const value = parseJson(text, where);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badInput(`${where}: expected object, got ${kindOf(value)}`);
  }
  return value as Arg;
}

/** The body of an upload call, checked for its Content-Type and bounded. */
export async function contentBody(req: Request, limit = MAX_CONTENT_BYTES): Promise<Uint8Array> {
  const type = mediaType(req);
  if (type === null || !CONTENT_TYPES.includes(type)) {
    throw badInput(
      `Bad HTTP "Content-Type" header: "${req.headers.get("content-type") ?? ""}".  ` +
        `Expecting one of "application/octet-stream", "text/plain; charset=dropbox-cors-hack".`,
    );
  }
  try {
    return await readBytes(req, limit);
  } catch (err) {
    // Every upload route's error union has `payload_too_large` for a body over 150 MiB.
    if (err instanceof DbxError && err.status === 413) {
      throw routeError({ ".tag": "payload_too_large" });
    }
    throw err;
  }
}

function kindOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "list" : typeof v;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badInput(`${where}: could not decode input as JSON`);
  }
}

/** Refuse fields the route does not define, as Dropbox's strict decoding does. */
export function known(arg: Arg, fields: readonly string[], where = "request body"): void {
  for (const k of Object.keys(arg)) {
    if (!fields.includes(k)) throw badInput(`${where}: unknown field '${k}'`);
  }
}

/** A required or optional string field. */
export function str(arg: Arg, key: string, fallback?: string): string {
  const v = arg[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw badInput(`request body: missing required field '${key}'`);
  }
  if (typeof v !== "string") {
    throw badInput(`request body: ${key}: expected string, got ${kindOf(v)}`);
  }
  return v;
}

/** An optional boolean field. */
export function bool(arg: Arg, key: string, fallback: boolean): boolean {
  const v = arg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") {
    throw badInput(`request body: ${key}: expected boolean, got ${kindOf(v)}`);
  }
  return v;
}

/** An optional integer field within [min, max]. */
export function int(
  arg: Arg,
  key: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number {
  const v = arg[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw badInput(`request body: missing required field '${key}'`);
  }
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw badInput(`request body: ${key}: expected integer, got ${kindOf(v)}`);
  }
  if (v < min || v > max) {
    throw badInput(`request body: ${key}: value must be between ${min} and ${max}, got ${v}`);
  }
  return v;
}

/** A struct field (object). */
export function struct(arg: Arg, key: string): Arg {
  const v = arg[key];
  if (v === undefined || v === null) {
    throw badInput(`request body: missing required field '${key}'`);
  }
  if (typeof v !== "object" || Array.isArray(v)) {
    throw badInput(`request body: ${key}: expected object, got ${kindOf(v)}`);
  }
  return v as Arg;
}

/**
 * A union field: a bare string for a tag without a value, or `{".tag": …}`;
 * returns the tag and the object (empty for the bare form).
 */
export function union(
  arg: Arg,
  key: string,
  tags: readonly string[],
  fallback?: string,
): { tag: string; value: Arg } {
  const v = arg[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return { tag: fallback, value: {} };
    throw badInput(`request body: missing required field '${key}'`);
  }
  let tag: unknown, value: Arg = {};
  if (typeof v === "string") tag = v;
  else if (typeof v === "object" && !Array.isArray(v)) {
    value = v as Arg;
    tag = value[".tag"];
  }
  if (typeof tag !== "string" || !tags.includes(tag)) {
    throw badInput(`request body: ${key}: unknown tag '${String(tag)}'`);
  }
  return { tag, value };
}

/** A SHA-256 hex (content_hash) field, optional. */
export function hexHash(arg: Arg, key: string): string | null {
  const v = arg[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || !/^[0-9a-f]{64}$/.test(v)) {
    throw badInput(`request body: ${key}: '${String(v)}' did not match pattern '[0-9a-f]{64}'`);
  }
  return v;
}

/** Read a request body, refusing more than `limit` bytes (413, as Dropbox's front ends). */
export async function readBytes(req: Request, limit: number): Promise<Uint8Array> {
  try {
    return await readLimited(req, limit);
  } catch (err) {
    if (err instanceof DriveError && err.status === 413) {
      throw new DbxError(413, "Request Entity Too Large");
    }
    throw err;
  }
}
