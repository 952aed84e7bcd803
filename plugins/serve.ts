/**
 * The worker side of the plugin RPC. A plugin's Worker entry calls
 * {@linkcode serve} once with a factory for its Transport implementation; this
 * module does the rest, identically for every plugin: waiting for `init`,
 * dispatching calls concurrently, answering pings, serialising errors and
 * transferring streams and buffers.
 *
 * @example
 * ```ts
 * // plugins/example/worker.ts
 * import { serve } from "../serve.ts";
 * serve((init) => new ExampleTransport(String(init.dir)));
 * ```
 * @module
 */
import type { Transport } from "./contract.ts";
import {
  type CallMessage,
  type InitMessage,
  parseHostMessage,
  serializeError,
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
    const { id, method, args } = message;
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
        post({ kind: "ok", id, value }, transferablesOf(value));
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
