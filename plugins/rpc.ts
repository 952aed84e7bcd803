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
 *
 * Streams (a `put` body, a `get` result) do not travel as transferred
 * `ReadableStream`s, which copy every chunk twice and leave each copy as
 * garbage in the Worker. Each side keeps its streams and names them in calls
 * and results by a {@linkcode StreamRef}; the reader sends `pull`, the owner
 * answers with one `chunk` (bytes moved in the transfer list, or `done`, or an
 * error), and either side may `cancel`. A chunk that was moved is handed back
 * (`release`, moved again) once the receiver has copied or written it, and the
 * sender reuses that buffer for a later chunk: V8 collects buffers that arrived
 * from another thread only after tens of MiB of them pile up, in each isolate,
 * so without this a large object's stream doubled the peak memory of syft.
 * @module
 */
import { describeError, isSyftError, SyftError, type SyftErrorCode } from "../core/errors/mod.ts";
import { isRecord } from "../core/encoding/record.ts";

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
  "poolPut",
  "poolAddReaders",
  "poolGet",
  "poolList",
  "poolDelete",
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

/** A stream kept by the side that sent this, in place of the stream itself. */
export interface StreamRef {
  "syft.stream": number;
}

/** Make the reference to stream `id` of the sending side. */
export function streamRef(id: number): StreamRef {
  return { "syft.stream": id };
}

/** The stream id when `value` is a {@linkcode StreamRef}, else null. */
export function streamIdOf(value: unknown): number | null {
  if (!isRecord(value)) return null;
  const keys = Object.keys(value);
  const id = value["syft.stream"];
  return keys.length === 1 && isId(id) ? id : null;
}

/** Asks the other side for the next chunk of its stream `stream`. */
export interface PullMessage {
  kind: "pull";
  stream: number;
}

/**
 * The answer to a `pull`: `bytes`, or the end (`done`), or the stream's failure
 * (`error`: a SyftError's wire form, or just a message for anything else).
 */
export interface ChunkMessage {
  kind: "chunk";
  stream: number;
  bytes?: Uint8Array;
  /** `bytes` was moved (transferred): the receiver hands its buffer back with `release`. */
  moved?: true;
  done?: true;
  error?: SerializedError | { message: string };
}

/** The reader of stream `stream` stops reading it. */
export interface CancelMessage {
  kind: "cancel";
  stream: number;
}

/** A moved chunk the receiver is done with, handed back (moved) for the sender to reuse. */
export interface ReleaseMessage {
  kind: "release";
  bytes: Uint8Array;
}

/** Every message the host sends. */
export type HostMessage =
  | InitMessage
  | CallMessage
  | PingMessage
  | PullMessage
  | ChunkMessage
  | CancelMessage
  | ReleaseMessage;

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
export type WorkerMessage =
  | OkReply
  | ErrReply
  | PongMessage
  | ClosingMessage
  | PullMessage
  | ChunkMessage
  | CancelMessage
  | ReleaseMessage;

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

/** The fields of a `pull`, `chunk` or `cancel`; null when malformed. */
function parseStreamMessage(
  data: Record<string, unknown>,
): PullMessage | ChunkMessage | CancelMessage | null {
  if (!isId(data.stream)) return null;
  const stream = data.stream;
  switch (data.kind) {
    case "pull":
      return { kind: "pull", stream };
    case "cancel":
      return { kind: "cancel", stream };
    case "chunk": {
      if (data.bytes instanceof Uint8Array) {
        return data.moved === true
          ? { kind: "chunk", stream, bytes: data.bytes, moved: true }
          : { kind: "chunk", stream, bytes: data.bytes };
      }
      if (data.done === true) return { kind: "chunk", stream, done: true };
      const error = parseSerializedError(data.error);
      if (error) return { kind: "chunk", stream, error };
      if (isRecord(data.error) && typeof data.error.message === "string") {
        return { kind: "chunk", stream, error: { message: data.error.message } };
      }
      return null;
    }
    default:
      return null;
  }
}

/**
 * A stream read across the plugin boundary one pull at a time: `pull` asks the
 * other side for a chunk, `take` turns the bytes that came back into ours, and
 * `cancel` tells the other side to stop (without waiting: a dead Worker would
 * never acknowledge it). Used by both the host and the Worker.
 */
export function pulledStream(io: {
  pull(): Promise<ChunkMessage>;
  take(bytes: Uint8Array, answer: ChunkMessage): Uint8Array;
  cancel(): void;
}): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const answer = await io.pull();
      if (answer.bytes) controller.enqueue(io.take(answer.bytes, answer));
      else if (answer.done) {
        finished = true;
        controller.close();
      } else {
        finished = true;
        controller.error(deserializeStreamError(answer.error ?? { message: "stream failed" }));
      }
    },
    cancel: () => {
      if (finished) return;
      finished = true;
      io.cancel();
    },
  }, { highWaterMark: 0 });
}

/** Parse a message received from a worker; `null` when it is not one of ours. */
export function parseWorkerMessage(data: unknown): WorkerMessage | null {
  if (!isRecord(data)) return null;
  switch (data.kind) {
    case "pull":
    case "chunk":
    case "cancel":
      return parseStreamMessage(data);
    case "release":
      return data.bytes instanceof Uint8Array ? { kind: "release", bytes: data.bytes } : null;
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
    case "pull":
    case "chunk":
    case "cancel":
      return parseStreamMessage(data);
    case "release":
      return data.bytes instanceof Uint8Array ? { kind: "release", bytes: data.bytes } : null;
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

/** A stream error for the wire: a SyftError keeps its code, anything else its message. */
export function serializeStreamError(err: unknown): SerializedError | { message: string } {
  if (isSyftError(err)) return { code: err.code, message: err.message, hint: err.hint };
  return { message: describeError(err) };
}

/** Rebuild a stream error sent by {@linkcode serializeStreamError}. */
export function deserializeStreamError(error: SerializedError | { message: string }): Error {
  return "code" in error ? deserializeError(error) : new Error(error.message);
}

/** Whether `bytes` spans its whole buffer, so moving the buffer moves exactly it. */
export function isWholeBuffer(bytes: Uint8Array): bytes is Uint8Array<ArrayBuffer> {
  const buffer = bytes.buffer;
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength;
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

/**
 * Buffers handed back by the other side (see `release`), kept for reuse by
 * exact size. Bounded: a spare beyond the cap is simply dropped.
 */
export class SparePool {
  readonly #spare: Uint8Array<ArrayBuffer>[] = [];
  readonly #max: number;

  constructor(max = 4) {
    this.#max = max;
  }

  /** Keep `bytes` (whole-buffer only) for a later {@linkcode take}. */
  give(bytes: Uint8Array): void {
    if (isWholeBuffer(bytes) && this.#spare.length < this.#max) this.#spare.push(bytes);
  }

  /** A spare buffer of exactly `length` bytes, or null. */
  take(length: number): Uint8Array<ArrayBuffer> | null {
    const i = this.#spare.findIndex((b) => b.byteLength === length);
    if (i < 0) return null;
    const [bytes] = this.#spare.splice(i, 1);
    return bytes ?? null;
  }
}
