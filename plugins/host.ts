/**
 * The plugin host: runs a transport plugin in a Deno Worker that has exactly the
 * permissions its manifest declares, and exposes it as a {@linkcode Transport}
 * by RPC (wire format in `rpc.ts`, worker side in `serve.ts`).
 *
 * Failure model: a call that gets no answer within its timeout, a Worker that
 * throws an uncaught error, exits, or stops answering heartbeats makes *every*
 * pending call (and every stream being read) fail with `E_TRANSPORT` naming the
 * plugin and the operation, and the Worker is terminated. Nothing hangs. The
 * next call starts a fresh Worker, so a crash costs one failed round, not a
 * restart of syft.
 *
 * An idle Worker keeps the Deno process alive (there is no `unref`), so callers
 * must `close()` the transport when done.
 * @module
 */
import type {
  ChangesOptions,
  ChangesResult,
  ChannelRef,
  ListOptions,
  ListPage,
  ObjectBody,
  ObjectInfo,
  Transport,
  TransportCapabilities,
  WhoAmI,
} from "../core/transport/contract.ts";
import type { PluginManifest, PluginPermissions } from "./manifest.ts";
import {
  type CallMessage,
  type ChunkMessage,
  deserializeError,
  type HostMessage,
  type InitMessage,
  isWholeBuffer,
  parseWorkerMessage,
  pulledStream,
  type RpcMethod,
  serializeStreamError,
  SparePool,
  streamIdOf,
  streamRef,
} from "./rpc.ts";
import { describeError, SyftError } from "../core/errors/mod.ts";
import { isRecord } from "../core/encoding/record.ts";
import { chunksGivenAway } from "../core/transport/given_chunks.ts";

/** Tuning for {@linkcode startPlugin}; the defaults suit real use, tests shorten them. */
export interface StartPluginOptions {
  /**
   * How long a call may go without an answer (default 30000 ms). `changes()`
   * gets its `waitMs` on top; a streamed `put` or a `get` stream restarts the
   * clock at every chunk the plugin moves, so large objects are not cut off.
   */
  callTimeoutMs?: number | undefined;
  /** How long the Worker may take to load and run `init` (default: `callTimeoutMs`). */
  startTimeoutMs?: number | undefined;
  /** How often a busy host pings the Worker (default 1000 ms). */
  heartbeatMs?: number | undefined;
  /**
   * A busy Worker silent for this long is declared dead (default 10000 ms).
   * This catches a Worker that vanished without a word, or one stuck in a
   * synchronous loop, sooner than the call timeout would.
   */
  livenessTimeoutMs?: number | undefined;
}

interface Settings {
  callTimeoutMs: number;
  startTimeoutMs: number;
  heartbeatMs: number;
  livenessTimeoutMs: number;
}

const RESTART_HINT =
  "syft restarts the plugin on the next call; if this keeps happening, run with --debug and report it";

/**
 * Start `manifest`'s plugin in a Worker, run its `init`, and return it as a Transport.
 *
 * @example
 * ```ts
 * import { manifestFor } from "./registry.ts";
 * const ctx = { identity: "alice@example.org", home: "/home/alice/.syft" };
 * const transport = await startPlugin(manifestFor("local:/srv/shared", ctx));
 * try {
 *   await transport.openChannel("bob@example.org");
 * } finally {
 *   await transport.close();
 * }
 * ```
 * @throws {SyftError} the preflight's error, the plugin's `init` error, or
 * `E_TRANSPORT` when the Worker cannot start.
 */
export async function startPlugin(
  manifest: PluginManifest,
  options: StartPluginOptions = {},
): Promise<Transport> {
  const callTimeoutMs = positive(options.callTimeoutMs, 30_000, "callTimeoutMs");
  const settings: Settings = {
    callTimeoutMs,
    startTimeoutMs: positive(options.startTimeoutMs, callTimeoutMs, "startTimeoutMs"),
    heartbeatMs: positive(options.heartbeatMs, 1_000, "heartbeatMs"),
    livenessTimeoutMs: positive(options.livenessTimeoutMs, 10_000, "livenessTimeoutMs"),
  };
  checkPermissions(manifest);
  // The Worker loads its modules on its own thread while the preflight runs
  // (the local one starts a process). The preflight's error still comes first:
  // it is the clear one.
  const host = new PluginHost(manifest, settings);
  const started = host.start();
  started.catch(() => {}); // awaited below, once the preflight passed
  try {
    await manifest.preflight?.();
  } catch (err) {
    await host.close();
    throw err;
  }
  await started;
  return host;
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new SyftError("E_INTERNAL", `startPlugin option ${what} must be a positive number`);
  }
  return value;
}

/**
 * Deno resolves a relative grant against the module that creates the Worker
 * (this file), not the working directory: refuse them rather than grant the
 * wrong folder.
 */
function checkPermissions(manifest: PluginManifest): void {
  for (const path of [...manifest.permissions.read, ...manifest.permissions.write]) {
    if (!path.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(path)) {
      throw new SyftError(
        "E_INTERNAL",
        `the ${manifest.name} plugin manifest grants a relative path ${JSON.stringify(path)}`,
      );
    }
  }
}

/** The manifest's grants in Deno's Worker form: nothing else, and `false` for empty lists. */
export function workerPermissions(permissions: PluginPermissions): Deno.PermissionOptionsObject {
  const list = (values: string[]): string[] | false => values.length > 0 ? [...values] : false;
  return {
    read: list(permissions.read),
    write: list(permissions.write),
    net: list(permissions.net),
    env: false,
    run: false,
    ffi: false,
    sys: false,
    import: false,
  };
}

/** The Transport the host hands out; each method is one RPC on the live session. */
class PluginHost implements Transport {
  readonly #manifest: PluginManifest;
  readonly #settings: Settings;
  #session: Session | null = null;
  #ready: Promise<void> | null = null;
  #closed = false;

  constructor(manifest: PluginManifest, settings: Settings) {
    this.#manifest = manifest;
    this.#settings = settings;
  }

  /** Start the first Worker, so configuration errors surface from `startPlugin`. */
  async start(): Promise<void> {
    await this.#live("start");
  }

  async #live(op: string): Promise<Session> {
    if (this.#closed) {
      throw new SyftError(
        "E_TRANSPORT",
        `${this.#manifest.name} transport failed during ${op}: the transport is closed`,
        { hint: "this is a bug in syft: a transport was used after close()" },
      );
    }
    let session = this.#session;
    if (!session || session.failed) {
      session = new Session(this.#manifest, this.#settings);
      this.#session = session;
      this.#ready = session.start();
    }
    await this.#ready;
    return session;
  }

  async #call(
    method: RpcMethod,
    args: unknown[],
    extra: { timeoutMs?: number; transfer?: Transferable[]; relay?: Relay } = {},
  ): Promise<unknown> {
    const session = await this.#live(method);
    const timeoutMs = extra.timeoutMs ?? this.#settings.callTimeoutMs;
    return await session.call(method, args, extra.transfer ?? [], timeoutMs, extra.relay);
  }

  #malformed(op: string, value: unknown): SyftError {
    return new SyftError(
      "E_TRANSPORT",
      `${this.#manifest.name} transport returned a malformed ${op} result: ${preview(value)}`,
      { hint: "this is a bug in the transport plugin" },
    );
  }

  async capabilities(): Promise<TransportCapabilities> {
    const value = await this.#call("capabilities", []);
    if (
      isRecord(value) && typeof value.enforcesSharing === "boolean" &&
      typeof value.canWatch === "boolean"
    ) {
      // `pool` is optional: a plugin that says nothing has none.
      return {
        enforcesSharing: value.enforcesSharing,
        canWatch: value.canWatch,
        ...(value.pool === true ? { pool: true } : {}),
      };
    }
    throw this.#malformed("capabilities", value);
  }

  async whoami(): Promise<WhoAmI> {
    const value = await this.#call("whoami", []);
    if (
      isRecord(value) && typeof value.email === "string" &&
      typeof value.authenticated === "boolean"
    ) {
      return { email: value.email, authenticated: value.authenticated };
    }
    throw this.#malformed("whoami", value);
  }

  async openChannel(to: string): Promise<ChannelRef> {
    const value = await this.#call("openChannel", [to]);
    return parseChannelRef(value) ?? failWith(this.#malformed("openChannel", value));
  }

  async listIncoming(): Promise<ChannelRef[]> {
    const value = await this.#call("listIncoming", []);
    return parseChannelRefs(value) ?? failWith(this.#malformed("listIncoming", value));
  }

  async put(channel: ChannelRef, name: string, body: ObjectBody): Promise<void> {
    const ref = { sender: channel.sender, recipient: channel.recipient };
    await this.#send("put", body, (sent) => [ref, name, sent]);
  }

  /**
   * One call carrying a body (`put`, `poolPut`); `args` places it among the
   * arguments. A buffer goes as a private copy, transferred: the caller keeps
   * its buffer intact (a retry after E_TRANSPORT must not find it detached),
   * and the copy moves without a second one in structured clone. (`new
   * Uint8Array`, not `slice`: a Node Buffer's slice is a view of its pool.) A
   * stream is relayed chunk by chunk as the Worker pulls.
   */
  async #send(
    method: "put" | "poolPut",
    body: ObjectBody,
    args: (sent: unknown) => unknown[],
  ): Promise<void> {
    if (body instanceof Uint8Array) {
      const copy = new Uint8Array(body);
      await this.#call(method, args(copy), { transfer: [copy.buffer] });
      return;
    }
    if (!(body instanceof ReadableStream)) {
      throw new SyftError("E_INTERNAL", `${method} body must be a Uint8Array or a ReadableStream`);
    }
    const relay = new Relay(body);
    try {
      await this.#call(method, args(relay), { relay });
    } finally {
      relay.release();
    }
  }

  async list(channel: ChannelRef, options: ListOptions = {}): Promise<ListPage> {
    const ref = { sender: channel.sender, recipient: channel.recipient };
    const value = await this.#call("list", [ref, listArgs(options)]);
    return parseListPage(value) ?? failWith(this.#malformed("list", value));
  }

  async get(channel: ChannelRef, name: string): Promise<ReadableStream<Uint8Array>> {
    const ref = { sender: channel.sender, recipient: channel.recipient };
    return await this.#stream("get", [ref, name]);
  }

  /** A call answered with a stream of the Worker's (`get`, `poolGet`). */
  async #stream(method: "get" | "poolGet", args: unknown[]): Promise<ReadableStream<Uint8Array>> {
    const session = await this.#live(method);
    const value = await session.call(method, args, [], this.#settings.callTimeoutMs);
    const stream = streamIdOf(value);
    if (stream === null) throw this.#malformed(method, value);
    return session.readStream(stream, method);
  }

  async delete(channel: ChannelRef, name: string): Promise<void> {
    const ref = { sender: channel.sender, recipient: channel.recipient };
    await this.#call("delete", [ref, name]);
  }

  async poolPut(name: string, body: ObjectBody, readers: string[]): Promise<void> {
    const who = [...readers];
    await this.#send("poolPut", body, (sent) => [name, sent, who]);
  }

  async poolAddReaders(name: string, readers: string[]): Promise<void> {
    await this.#call("poolAddReaders", [name, [...readers]]);
  }

  async poolGet(sender: string, name: string): Promise<ReadableStream<Uint8Array>> {
    return await this.#stream("poolGet", [sender, name]);
  }

  async poolList(options: ListOptions = {}): Promise<ListPage> {
    const { all: _, ...opts } = listArgs(options);
    const value = await this.#call("poolList", [opts]);
    return parseListPage(value) ?? failWith(this.#malformed("poolList", value));
  }

  async poolDelete(name: string): Promise<void> {
    await this.#call("poolDelete", [name]);
  }

  async changes(cursor: string | null, options: ChangesOptions = {}): Promise<ChangesResult> {
    const waitMs = Math.max(0, options.waitMs ?? 0);
    const value = await this.#call("changes", [cursor, { waitMs }], {
      timeoutMs: this.#settings.callTimeoutMs + waitMs,
    });
    if (isRecord(value) && typeof value.cursor === "string") {
      const channels = parseChannelRefs(value.channels);
      if (channels) return { cursor: value.cursor, channels };
    }
    throw this.#malformed("changes", value);
  }

  close(): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = null;
    session?.fail("the transport was closed", {
      hint: "the transport was closed while this call was running",
    });
    return Promise.resolve();
  }
}

/** A call, or a read of a plugin stream, waiting on the Worker. */
interface Pending {
  op: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timeoutMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** One Worker's lifetime: from `new Worker` to its first failure or close. */
class Session {
  readonly #manifest: PluginManifest;
  readonly #settings: Settings;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #failure: { reason: string; hint: string } | null = null;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #lastSeen = 0;
  #pingSeq = 0;
  /** Put bodies the Worker is reading, by stream id. */
  readonly #bodies = new Map<number, Relay>();
  #nextStream = 1;
  /** Reads of the Worker's streams waiting for their chunk, by stream id. */
  readonly #reads = new Map<number, (message: ChunkMessage) => void>();
  /** Put chunk buffers the Worker handed back, reused for the next chunks. */
  readonly #spare = new SparePool();
  /** No heartbeat before init answers: a Worker still loading its modules cannot pong. */
  #started = false;

  constructor(manifest: PluginManifest, settings: Settings) {
    this.#manifest = manifest;
    this.#settings = settings;
    try {
      this.#worker = new Worker(manifest.entry, {
        type: "module",
        name: manifest.name,
        deno: { permissions: workerPermissions(manifest.permissions) },
      });
    } catch (err) {
      throw new SyftError(
        "E_TRANSPORT",
        `${manifest.name} transport failed during start: ${describeError(err)}`,
        {
          hint: "syft itself must be allowed everything the plugin needs (read, write, net)",
          cause: err,
        },
      );
    }
    this.#worker.onmessage = (event) => this.#onMessage(event.data);
    this.#worker.onmessageerror = () => this.fail("a message from the plugin could not be read");
    this.#worker.onerror = (event) => {
      // Without preventDefault the Worker's error is re-thrown in the host
      // and takes the whole process down.
      event.preventDefault();
      this.fail(`the plugin crashed (${event.message || "unknown error"})`);
    };
  }

  /** True once this Worker failed or was closed; a new Session must be started. */
  get failed(): boolean {
    return this.#failure !== null;
  }

  /** Send `init` and wait for the plugin to be ready. */
  async start(): Promise<void> {
    const message: InitMessage = {
      kind: "init",
      id: 0,
      name: this.#manifest.name,
      init: this.#manifest.init,
    };
    const done = this.#register(0, "start", this.#settings.startTimeoutMs);
    this.#post(message, []);
    try {
      await done;
      this.#started = true;
      if (this.#pending.size > 0) this.#startHeartbeat();
    } catch (err) {
      // A plugin whose init fails is useless; stop it instead of leaving it idle.
      this.fail(`the plugin failed to start (${describeError(err)})`);
      throw err;
    }
  }

  /**
   * One RPC. `relay` (a streamed put body, passed among `args` as itself) is
   * sent as a stream reference; it pauses the clock while the caller's stream
   * produces.
   */
  call(
    method: RpcMethod,
    args: unknown[],
    transfer: Transferable[],
    timeoutMs: number,
    relay?: Relay,
  ): Promise<unknown> {
    const id = this.#nextId++;
    const done = this.#register(id, method, timeoutMs);
    let wireArgs = args;
    if (relay) {
      const stream = this.#nextStream++;
      this.#bodies.set(stream, relay);
      relay.attach(this, id, () => this.#bodies.delete(stream));
      wireArgs = args.map((arg) => arg === relay ? streamRef(stream) : arg);
    }
    const message: CallMessage = { kind: "call", id, method, args: wireArgs };
    this.#post(message, transfer);
    return done;
  }

  /**
   * The Worker's stream `stream` (a call's result), read here one pull at a
   * time. Every read is timed like a call and fails with `E_TRANSPORT` if the
   * Worker dies, instead of waiting forever.
   */
  readStream(stream: number, op: string): ReadableStream<Uint8Array> {
    return pulledStream({
      pull: () =>
        this.track(
          op,
          new Promise<ChunkMessage>((resolve) => {
            this.#reads.set(stream, resolve);
            this.#post({ kind: "pull", stream }, []);
          }),
        ),
      take: (bytes, answer) => {
        if (!answer.moved || !isWholeBuffer(bytes)) return bytes;
        // Ours is a copy; the moved buffer goes back for the Worker's next read.
        const copy = bytes.slice();
        this.#post({ kind: "release", bytes }, [bytes.buffer]);
        return copy;
      },
      cancel: () => {
        this.#reads.delete(stream);
        this.#post({ kind: "cancel", stream }, []);
      },
    });
  }

  /** The Worker asks for the next chunk of put body `stream`. */
  async #onPull(stream: number): Promise<void> {
    const relay = this.#bodies.get(stream);
    if (!relay) {
      this.#post({ kind: "chunk", stream, error: { message: "the put already ended" } }, []);
      return;
    }
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await relay.read();
    } catch (err) {
      this.#post({ kind: "chunk", stream, error: serializeStreamError(err) }, []);
      return;
    }
    if (next.done) {
      this.#post({ kind: "chunk", stream, done: true }, []);
      return;
    }
    const chunk = next.value;
    if (relay.givesAway && isWholeBuffer(chunk)) {
      // The producer never touches it again (a sealed envelope's): it moves as is.
      this.#post({ kind: "chunk", stream, bytes: chunk, moved: true }, [chunk.buffer]);
      return;
    }
    // A private copy moves to the Worker: the caller may still hold (or reuse)
    // its chunk. Its buffer is one the Worker handed back when there is one.
    const spare = this.#spare.take(chunk.byteLength);
    let bytes: Uint8Array<ArrayBuffer>;
    if (spare) {
      spare.set(chunk);
      bytes = spare;
    } else {
      bytes = new Uint8Array(chunk);
    }
    this.#post({ kind: "chunk", stream, bytes, moved: true }, [bytes.buffer]);
  }

  /** Time `promise` like a call: it rejects when the session fails or the clock runs out. */
  track<T>(op: string, promise: Promise<T>): Promise<T> {
    const id = this.#nextId++;
    const done = this.#register(id, op, this.#settings.callTimeoutMs);
    promise.then(
      (value) => this.#settle(id)?.resolve(value),
      (err) => this.#settle(id)?.reject(err),
    );
    return done as Promise<T>;
  }

  /** Stop the clock of call `id` (while the host itself is the slow side). */
  pause(id: number): void {
    const pending = this.#pending.get(id);
    if (pending) {
      clearTimeout(pending.timer);
      pending.timer = undefined;
    }
  }

  /** Restart the full clock of call `id` (the plugin made progress). */
  resume(id: number): void {
    const pending = this.#pending.get(id);
    if (pending) this.#arm(id, pending);
  }

  /**
   * Fail this session: terminate the Worker and reject everything pending with
   * `E_TRANSPORT` naming each one's operation. Later calls get a new session.
   */
  fail(reason: string, options: { culprit?: number; hint?: string } = {}): void {
    if (this.#failure) return;
    const name = this.#manifest.name;
    const hint = options.hint ?? RESTART_HINT;
    this.#failure = { reason, hint };
    this.#worker.terminate();
    this.#reads.clear();
    this.#stopHeartbeat();
    const culprit = options.culprit === undefined
      ? undefined
      : this.#pending.get(options.culprit)?.op;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      const why = culprit === undefined || id === options.culprit
        ? reason
        : `the plugin was stopped because ${culprit} ${reason}`;
      pending.reject(
        new SyftError("E_TRANSPORT", `${name} transport failed during ${pending.op}: ${why}`, {
          hint,
        }),
      );
    }
    this.#pending.clear();
  }

  #register(id: number, op: string, timeoutMs: number): Promise<unknown> {
    if (this.#failure) {
      const { reason, hint } = this.#failure;
      return Promise.reject(
        new SyftError(
          "E_TRANSPORT",
          `${this.#manifest.name} transport failed during ${op}: ${reason}`,
          { hint },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = { op, resolve, reject, timeoutMs, timer: undefined };
      this.#pending.set(id, pending);
      this.#arm(id, pending);
      if (this.#started && this.#pending.size === 1) this.#startHeartbeat();
    });
  }

  #arm(id: number, pending: Pending): void {
    clearTimeout(pending.timer);
    pending.timer = setTimeout(
      () => this.fail(`got no answer within ${pending.timeoutMs} ms`, { culprit: id }),
      pending.timeoutMs,
    );
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#stopHeartbeat();
    return pending;
  }

  #post(message: HostMessage, transfer: Transferable[]): void {
    if (this.#failure) return; // the pending entry was already rejected by fail()
    try {
      this.#worker.postMessage(message, transfer);
    } catch (err) {
      // An argument that cannot be cloned: fail that call only, the Worker is fine.
      const id = message.kind === "call" || message.kind === "init" ? message.id : undefined;
      if (id !== undefined) {
        this.#settle(id)?.reject(
          new SyftError(
            "E_INTERNAL",
            `could not send ${
              message.kind === "call" ? message.method : "init"
            } to the ${this.#manifest.name} plugin: ${describeError(err)}`,
          ),
        );
      }
    }
  }

  #onMessage(data: unknown): void {
    this.#lastSeen = Date.now();
    const message = parseWorkerMessage(data);
    if (!message) return;
    switch (message.kind) {
      case "ok":
        this.#settle(message.id)?.resolve(message.value);
        break;
      case "err":
        this.#settle(message.id)?.reject(deserializeError(message.error));
        break;
      case "closing":
        this.fail(message.reason);
        break;
      case "pong":
        break;
      case "chunk": {
        const resolve = this.#reads.get(message.stream);
        this.#reads.delete(message.stream);
        resolve?.(message);
        break;
      }
      case "pull":
        void this.#onPull(message.stream);
        break;
      case "cancel":
        this.#bodies.get(message.stream)?.cancel();
        break;
      case "release":
        this.#spare.give(message.bytes);
        break;
    }
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined) return;
    this.#lastSeen = Date.now();
    this.#heartbeat = setInterval(() => {
      const silent = Date.now() - this.#lastSeen;
      if (silent > this.#settings.livenessTimeoutMs) {
        this.fail(`the plugin stopped responding (no sign of life for ${silent} ms)`);
        return;
      }
      this.#post({ kind: "ping", seq: this.#pingSeq++ }, []);
    }, this.#settings.heartbeatMs);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

/**
 * A streamed put body on its way to the Worker. The Worker pulls it one chunk
 * at a time (see `rpc.ts`), so backpressure holds end to end, the call's clock
 * only runs while the plugin (not the caller's stream) is the slow side, and
 * the caller's stream is cancelled if the call ends early.
 */
class Relay {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #done = false;
  #session: Session | null = null;
  #id = 0;
  #detach: (() => void) | null = null;

  /** The caller marked its stream as giving its chunks away: they move to the Worker uncopied. */
  readonly givesAway: boolean;

  constructor(source: ReadableStream<Uint8Array>) {
    this.givesAway = chunksGivenAway(source);
    this.#reader = source.getReader();
  }

  attach(session: Session, id: number, detach: () => void): void {
    this.#session = session;
    this.#id = id;
    this.#detach = detach;
  }

  /** The caller's next chunk, with the call's clock stopped while it is made. */
  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (this.#done) return { done: true } as ReadableStreamReadDoneResult<Uint8Array>;
    const session = this.#session;
    session?.pause(this.#id);
    try {
      const result = await this.#reader.read();
      if (result.done) this.#done = true;
      else if (!(result.value instanceof Uint8Array)) {
        throw new SyftError("E_INTERNAL", "a put body stream yielded something other than bytes");
      }
      return result;
    } finally {
      session?.resume(this.#id);
    }
  }

  /** The plugin stopped reading: cancel the caller's stream. */
  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    this.#reader.cancel("the plugin stopped reading the body").catch(() => {});
  }

  /** The call ended: if the plugin did not read everything, cancel the caller's stream. */
  release(): void {
    this.#session = null;
    this.#detach?.();
    this.#detach = null;
    if (!this.#done) {
      this.#done = true;
      this.#reader.cancel("the put ended before the body was read").catch(() => {});
    }
  }
}

/** List options as they cross the wire: only those set, nothing else the caller's object holds. */
function listArgs(options: ListOptions): ListOptions {
  const opts: ListOptions = {};
  if (options.prefix !== undefined) opts.prefix = options.prefix;
  if (options.after !== undefined) opts.after = options.after;
  if (options.limit !== undefined) opts.limit = options.limit;
  if (options.all === true) opts.all = true;
  return opts;
}

function failWith(error: SyftError): never {
  throw error;
}

function preview(value: unknown): string {
  if (value instanceof ReadableStream) return "a stream";
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 80);
  } catch {
    return String(value).slice(0, 80);
  }
}

function parseChannelRef(value: unknown): ChannelRef | null {
  if (
    isRecord(value) && typeof value.sender === "string" && typeof value.recipient === "string"
  ) {
    return { sender: value.sender, recipient: value.recipient };
  }
  return null;
}

function parseChannelRefs(value: unknown): ChannelRef[] | null {
  if (!Array.isArray(value)) return null;
  const out: ChannelRef[] = [];
  for (const item of value) {
    const ref = parseChannelRef(item);
    if (!ref) return null;
    out.push(ref);
  }
  return out;
}

function parseListPage(value: unknown): ListPage | null {
  if (!isRecord(value) || !Array.isArray(value.objects)) return null;
  const objects: ObjectInfo[] = [];
  for (const item of value.objects) {
    if (!isRecord(item) || typeof item.name !== "string" || typeof item.size !== "number") {
      return null;
    }
    const special = item.special;
    if (special === undefined) objects.push({ name: item.name, size: item.size });
    else if (special === "folder" || special === "symlink" || special === "other") {
      objects.push({ name: item.name, size: item.size, special });
    } else return null;
  }
  if (value.next !== undefined && typeof value.next !== "string") return null;
  return value.next === undefined ? { objects } : { objects, next: value.next };
}
