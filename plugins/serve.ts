/**
 * The worker side of the plugin RPC. A plugin's Worker entry calls
 * {@linkcode serve} once with a factory for its Transport implementation; this
 * module does the rest, identically for every plugin: waiting for `init`,
 * dispatching calls concurrently, answering pings, serialising errors and
 * moving streams and buffers (see `rpc.ts`).
 *
 * @example
 * ```ts
 * // plugins/local/worker.ts: one line, the factory of its Transport
 * import { LocalFolderTransport, parseLocalInit } from "./local/transport.ts";
 * serve((init) => new LocalFolderTransport(parseLocalInit(init)));
 * ```
 * @module
 */
import type { Transport } from "../core/transport/contract.ts";
import {
  type CallMessage,
  type ChunkMessage,
  type InitMessage,
  isWholeBuffer,
  parseHostMessage,
  pulledStream,
  serializeError,
  serializeStreamError,
  SparePool,
  streamIdOf,
  streamRef,
  transferablesOf,
  type WorkerMessage,
} from "./rpc.ts";
import { SyftError } from "../core/errors/mod.ts";

/**
 * What a plugin implements: every Transport method but `close` (the host stops
 * a plugin by terminating its Worker, so there is nothing to flush).
 */
export type PluginImpl = Omit<Transport, "close">;

/** Builds the implementation from the manifest's `init` options; may throw a SyftError. */
export type PluginFactory = (init: Record<string, unknown>) => PluginImpl | Promise<PluginImpl>;

/** Chunks of `put` bodies the host sent, which {@linkcode releaseChunk} may hand back. */
const fromHost = new WeakSet<ArrayBuffer>();
/** Buffers of `get` chunks the host handed back after copying them. */
const spare = new SparePool();
/** Streams whose chunks their producer gives away, so they may move instead of being copied. */
const giveaway = new WeakSet<ReadableStream<Uint8Array>>();
let releaseHook: ((bytes: Uint8Array<ArrayBuffer>) => void) | null = null;

/**
 * A plugin is done with `chunk`, a piece of a `put` body it read: when the
 * host sent it, it goes back to the host (moved, not copied), where its
 * memory is reclaimed with the host's own garbage instead of piling up in the
 * Worker. The chunk must not be used afterwards. Anything else is left alone,
 * so calling it is always safe (and optional).
 */
export function releaseChunk(chunk: Uint8Array): void {
  if (!isWholeBuffer(chunk) || !fromHost.has(chunk.buffer)) return;
  fromHost.delete(chunk.buffer);
  releaseHook?.(chunk);
}

/**
 * A buffer of `length` bytes for a chunk of a stream marked with
 * {@linkcode givesAwayChunks}: one the host handed back when it can, so the
 * Worker does not pile up garbage buffers. It may hold old bytes.
 */
export function chunkBuffer(length: number): Uint8Array<ArrayBuffer> {
  return spare.take(length) ?? new Uint8Array(length);
}

/** Keep `buffer` (from {@linkcode chunkBuffer}, never handed out) for the next one. */
export function spareBuffer(buffer: Uint8Array): void {
  spare.give(buffer);
}

/**
 * Mark `stream` (a plugin's `get` result) as one whose chunks nobody else
 * keeps, so they move to the host instead of being copied. Returns it.
 */
export function givesAwayChunks(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  giveaway.add(stream);
  return stream;
}

/** The parts of the Worker global scope we use (the project type-checks with the window lib). */
interface WorkerScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
  addEventListener(type: "error" | "unhandledrejection", listener: (event: Event) => void): void;
}

function describeThrown(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return String(value);
}

/**
 * Serve `factory`'s implementation to the host over the Worker's message port.
 * Call it exactly once, from the Worker entry module.
 */
export function serve(factory: PluginFactory): void {
  const scope = globalThis as unknown as WorkerScope;
  let name = "plugin";
  let impl: Promise<PluginImpl> | null = null;

  const post = (message: WorkerMessage, transfer: Transferable[] = []): void => {
    scope.postMessage(message, transfer);
  };

  announceOwnExit(scope, post);
  releaseHook = (bytes) => post({ kind: "release", bytes }, [bytes.buffer]);

  /** Host streams being read here (put bodies): the answer each one waits for. */
  const waiting = new Map<number, (message: ChunkMessage) => void>();

  /** A `put` body: pulls chunks of the host's stream `id` one at a time. */
  const hostBody = (id: number): ReadableStream<Uint8Array> =>
    pulledStream({
      pull: () =>
        new Promise<ChunkMessage>((resolve) => {
          waiting.set(id, resolve);
          post({ kind: "pull", stream: id });
        }),
      take: (bytes) => {
        if (isWholeBuffer(bytes)) fromHost.add(bytes.buffer);
        return bytes;
      },
      cancel: () => {
        waiting.delete(id);
        post({ kind: "cancel", stream: id });
      },
    });

  /**
   * Our streams the host reads (get results). After each chunk is sent, the
   * next is read at once (`next`), so reading overlaps the transfer.
   */
  const outgoing = new Map<
    number,
    {
      reader: ReadableStreamDefaultReader<Uint8Array>;
      next: Promise<ReadableStreamReadResult<Uint8Array>> | null;
      giveaway: boolean;
    }
  >();
  let nextStream = 1;

  const share = (stream: ReadableStream<Uint8Array>): number => {
    const id = nextStream++;
    outgoing.set(id, { reader: stream.getReader(), next: null, giveaway: giveaway.has(stream) });
    return id;
  };

  const onPull = async (id: number): Promise<void> => {
    const entry = outgoing.get(id);
    if (!entry) {
      post({ kind: "chunk", stream: id, error: { message: "no such stream" } });
      return;
    }
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await (entry.next ?? entry.reader.read());
      entry.next = null;
    } catch (err) {
      outgoing.delete(id);
      post({ kind: "chunk", stream: id, error: serializeStreamError(err) });
      return;
    }
    if (result.done) {
      outgoing.delete(id);
      post({ kind: "chunk", stream: id, done: true });
      return;
    }
    // Read the next piece while this one travels and is used.
    entry.next = entry.reader.read();
    entry.next.catch(() => {});
    const bytes = result.value;
    if (!(bytes instanceof Uint8Array)) {
      outgoing.delete(id);
      entry.reader.cancel().catch(() => {});
      post({
        kind: "chunk",
        stream: id,
        error: { message: "the stream yielded something other than bytes" },
      });
      return;
    }
    if (entry.giveaway && isWholeBuffer(bytes)) {
      post({ kind: "chunk", stream: id, bytes, moved: true }, [bytes.buffer]);
    } else {
      post({ kind: "chunk", stream: id, bytes });
    }
  };

  const onCancel = (id: number): void => {
    const entry = outgoing.get(id);
    if (!entry) return;
    outgoing.delete(id);
    entry.reader.cancel().catch(() => {});
  };

  const onInit = (message: InitMessage): void => {
    name = message.name;
    if (impl) {
      post({
        kind: "err",
        id: message.id,
        error: { code: "E_INTERNAL", message: `${name} plugin was initialised twice` },
      });
      return;
    }
    impl = Promise.resolve().then(() => factory(message.init));
    impl.then(
      () => post({ kind: "ok", id: message.id, value: null }),
      (err) => post({ kind: "err", id: message.id, error: serializeError(err, name, "start") }),
    );
  };

  const onCall = async (message: CallMessage): Promise<void> => {
    const { id, method } = message;
    const args = message.args.map((arg) => {
      const stream = streamIdOf(arg);
      return stream === null ? arg : hostBody(stream);
    });
    try {
      if (!impl) {
        throw new SyftError("E_INTERNAL", `${name} plugin got ${method} before init`);
      }
      const target = await impl;
      const fn = (target as unknown as Record<string, unknown>)[method];
      if (typeof fn !== "function") {
        throw new SyftError("E_TRANSPORT", `${name} transport does not support ${method}`);
      }
      const value: unknown = await fn.apply(target, args);
      try {
        if (value instanceof ReadableStream) {
          post({ kind: "ok", id, value: streamRef(share(value)) });
        } else {
          post({ kind: "ok", id, value }, transferablesOf(value));
        }
      } catch (err) {
        // A result that cannot be cloned is a plugin bug; the call must still end.
        post({ kind: "err", id, error: serializeError(err, name, method) });
      }
    } catch (err) {
      post({ kind: "err", id, error: serializeError(err, name, method) });
    } finally {
      // A body stream the implementation never read (e.g. put refused early)
      // is cancelled, so the host's side of the pipe is released too.
      for (const arg of args) {
        if (arg instanceof ReadableStream && !arg.locked) arg.cancel().catch(() => {});
      }
    }
  };

  scope.onmessage = (event: MessageEvent) => {
    const message = parseHostMessage(event.data);
    if (!message) return; // not ours: ignore rather than crash the plugin
    switch (message.kind) {
      case "ping":
        post({ kind: "pong", seq: message.seq });
        break;
      case "init":
        onInit(message);
        break;
      case "call":
        void onCall(message);
        break;
      case "chunk": {
        const resolve = waiting.get(message.stream);
        waiting.delete(message.stream);
        resolve?.(message);
        break;
      }
      case "pull":
        void onPull(message.stream);
        break;
      case "cancel":
        onCancel(message.stream);
        break;
      case "release":
        spare.give(message.bytes);
        break;
    }
  };
}

/**
 * A Deno Worker that closes itself (or calls `Deno.exit`, which in a Worker
 * only ends the Worker) fires no event in the host, so pending calls would wait
 * for their timeout. Wrapping both lets the host fail them at once. The host's
 * heartbeat still catches an exit that bypasses these wrappers.
 *
 * An uncaught error or unhandled rejection ends the Worker the same way: its
 * state is unknown, and the host restarts it on the next call. Handling it here
 * (rather than letting it reach the host's `error` event, which also works)
 * keeps Deno from printing a stack trace on the user's terminal; the host
 * reports it as one E_TRANSPORT line.
 */
function announceOwnExit(
  scope: WorkerScope,
  post: (message: WorkerMessage) => void,
): void {
  const realClose = scope.close.bind(scope);
  let closing = false;
  const die = (reason: string): void => {
    if (closing) return;
    closing = true;
    post({ kind: "closing", reason });
    realClose();
  };
  scope.close = () => die("the plugin closed its worker");
  scope.addEventListener("error", (event) => {
    event.preventDefault();
    const error = (event as ErrorEvent).error ?? (event as ErrorEvent).message;
    die(`the plugin crashed (uncaught ${describeThrown(error)})`);
  });
  scope.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    const reason = (event as PromiseRejectionEvent).reason;
    die(`the plugin crashed (unhandled rejection: ${describeThrown(reason)})`);
  });
  const realExit = Deno.exit;
  Object.defineProperty(Deno, "exit", {
    configurable: true,
    writable: true,
    value: (code?: number): never => {
      if (!closing) {
        closing = true;
        post({ kind: "closing", reason: `the plugin called Deno.exit(${code ?? ""})` });
      }
      return realExit(code);
    },
  });
}
