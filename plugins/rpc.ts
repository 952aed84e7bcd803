/**
 * The wire format between the plugin host (`host.ts`, main thread) and a plugin
 * (`serve.ts`, inside the Worker). Both sides import this module, so a message
 * shape changes in one place. Messages are structured-cloned; `Uint8Array`
 * buffers and `ReadableStream`s travel in the transfer list.
 *
 * One exchange: the host sends `init` (id 0) and waits for its reply, then any
 * number of concurrent `call`s, each answered by exactly one `ok` or `err` with
 * the same id. `ping`/`pong` is the liveness check while calls are pending, and
 * `closing` is the worker's last word before it exits on its own (a Deno Worker
 * that closes itself fires no event in the host, so it has to say so).
 * @module
 */
import { describeError, isSyftError, SyftError, type SyftErrorCode } from "../core/errors/mod.ts";

/** The Transport methods a plugin serves (everything but `close`, which the host does itself). */
export const RPC_METHODS = [
  "capabilities",
  "whoami",
  "openChannel",
  "listIncoming",
  "put",
  "list",
  "get",
  "delete",
  "changes",
] as const;

/** A method name that can cross the wire. */
export type RpcMethod = typeof RPC_METHODS[number];

/** Host → worker, once, before any call: the manifest's `init` options. */
export interface InitMessage {
  kind: "init";
  id: number;
  /** The plugin's short name, so worker-side messages can name it. */
  name: string;
  init: Record<string, unknown>;
}

/** Host → worker: one Transport call. */
export interface CallMessage {
  kind: "call";
  id: number;
  method: RpcMethod;
  args: unknown[];
}

/** Host → worker: are you still there? */
export interface PingMessage {
  kind: "ping";
  seq: number;
}

/** Every message the host sends. */
export type HostMessage = InitMessage | CallMessage | PingMessage;

/** A SyftError flattened for the wire (class identity does not survive structured clone). */
export interface SerializedError {
  code: SyftErrorCode;
  message: string;
  hint?: string | undefined;
}

/** Worker → host: a call (or init) succeeded. */
export interface OkReply {
  kind: "ok";
  id: number;
  value: unknown;
}

/** Worker → host: a call (or init) failed. */
export interface ErrReply {
  kind: "err";
  id: number;
  error: SerializedError;
}

/** Worker → host: answer to a ping. */
export interface PongMessage {
  kind: "pong";
  seq: number;
}

/** Worker → host: the worker is about to exit by itself (`self.close()`, `Deno.exit()`). */
export interface ClosingMessage {
  kind: "closing";
  reason: string;
}

/** Every message the worker sends. */
export type WorkerMessage = OkReply | ErrReply | PongMessage | ClosingMessage;

const ERROR_CODES: ReadonlySet<string> = new Set<SyftErrorCode>([
  "E_DENIED",
  "E_USAGE",
  "E_INPUT",
  "E_NOT_INITIALIZED",
  "E_EXISTS",
  "E_BAD_MESSAGE",
  "E_PERMISSION",
  "E_TRANSPORT",
  "E_SANDBOX",
  "E_UNIMPLEMENTED",
  "E_INTERNAL",
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** True when `name` is a method that may be called over the wire. */
export function isRpcMethod(name: unknown): name is RpcMethod {
  return typeof name === "string" && (RPC_METHODS as readonly string[]).includes(name);
}

/**
 * Turn anything thrown inside a plugin into its wire form. A SyftError keeps its
 * code, message and hint; anything else (a bug, a `NotCapable` from a missing
 * grant, an fs error) becomes `E_TRANSPORT` naming the plugin and operation,
 * because to the core every such failure means "the transport failed".
 */
export function serializeError(err: unknown, plugin: string, op: string): SerializedError {
  if (isSyftError(err)) {
    return { code: err.code, message: err.message, hint: err.hint };
  }
  const kind = err instanceof Error && err.name !== "Error" ? `${err.name}: ` : "";
  return {
    code: "E_TRANSPORT",
    message: `${plugin} transport failed during ${op}: ${kind}${describeError(err)}`,
    hint:
      "this is a failure inside the transport plugin; retry, and run with --debug if it repeats",
  };
}

/** Rebuild a SyftError in the host from its wire form. */
export function deserializeError(error: SerializedError): SyftError {
  return new SyftError(error.code, error.message, { hint: error.hint });
}

function parseSerializedError(value: unknown): SerializedError | null {
  if (!isRecord(value)) return null;
  const { code, message, hint } = value;
  if (typeof code !== "string" || !ERROR_CODES.has(code)) return null;
  if (typeof message !== "string") return null;
  if (hint !== undefined && typeof hint !== "string") return null;
  return { code: code as SyftErrorCode, message, hint };
}

/** Parse a message received from a worker; `null` when it is not one of ours. */
export function parseWorkerMessage(data: unknown): WorkerMessage | null {
  if (!isRecord(data)) return null;
  switch (data.kind) {
    case "ok":
      return isId(data.id) ? { kind: "ok", id: data.id, value: data.value } : null;
    case "err": {
      const error = parseSerializedError(data.error);
      return isId(data.id) && error ? { kind: "err", id: data.id, error } : null;
    }
    case "pong":
      return isId(data.seq) ? { kind: "pong", seq: data.seq } : null;
    case "closing":
      return typeof data.reason === "string" ? { kind: "closing", reason: data.reason } : null;
    default:
      return null;
  }
}

/** Parse a message received from the host; `null` when it is not one of ours. */
export function parseHostMessage(data: unknown): HostMessage | null {
  if (!isRecord(data)) return null;
  switch (data.kind) {
    case "init":
      return isId(data.id) && typeof data.name === "string" && isRecord(data.init)
        ? { kind: "init", id: data.id, name: data.name, init: data.init }
        : null;
    case "call":
      return isId(data.id) && isRpcMethod(data.method) && Array.isArray(data.args)
        ? { kind: "call", id: data.id, method: data.method, args: data.args }
        : null;
    case "ping":
      return isId(data.seq) ? { kind: "ping", seq: data.seq } : null;
    default:
      return null;
  }
}

/**
 * The objects in `values` (one level deep, and inside plain objects one more
 * level) that should move rather than be copied: ReadableStreams (which cannot
 * be cloned at all) and whole-buffer Uint8Arrays. A Uint8Array that is a view on
 * a larger buffer is left to be copied, since transferring would detach memory
 * its owner still uses.
 */
export function transferablesOf(...values: unknown[]): Transferable[] {
  const out: Transferable[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (value instanceof ReadableStream) {
      out.push(value);
    } else if (value instanceof Uint8Array) {
      const buffer = value.buffer;
      if (
        buffer instanceof ArrayBuffer && value.byteOffset === 0 &&
        value.byteLength === buffer.byteLength && !out.includes(buffer)
      ) {
        out.push(buffer);
      }
    } else if (depth > 0 && isRecord(value)) {
      for (const inner of Object.values(value)) visit(inner, depth - 1);
    } else if (depth > 0 && Array.isArray(value)) {
      for (const inner of value) visit(inner, depth - 1);
    }
  };
  for (const value of values) visit(value, 2);
  return out;
}
