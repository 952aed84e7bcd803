/**
 * A test plugin that misbehaves on request, to prove the host never hangs.
 * `openChannel(<command>)` picks the misbehaviour; `put` and `get` exercise
 * streams; `whoami` returns an id unique to this Worker, so a test can tell a
 * restarted Worker from the old one.
 * @module
 */
import "./_capture_close.ts";
import { createHash } from "node:crypto";
import { serve } from "../../../plugins/serve.ts";
import type { ChannelRef, ListPage } from "../../../core/transport/contract.ts";
import { SyftError } from "../../../core/errors/mod.ts";

const workerId = crypto.randomUUID();
const never = new Promise<never>(() => {});
let lastPut = { hash: "", size: 0 };

function crashSoon(): void {
  setTimeout(() => {
    throw new Error("boom from the faulty plugin");
  }, 0);
}

serve((init) => {
  if (init.failInit === true) {
    throw new SyftError("E_INPUT", "the faulty plugin refuses this init", { hint: "fix init" });
  }
  return {
    capabilities: () => Promise.resolve({ enforcesSharing: false, canWatch: false }),
    whoami: () => Promise.resolve({ email: workerId, authenticated: false }),
    async openChannel(to: string): Promise<ChannelRef> {
      const [command, arg] = to.split(":");
      switch (command) {
        case "hang":
          return await never;
        case "throw":
          crashSoon();
          return await never;
        case "reject":
          void Promise.reject(new Error("unhandled rejection in the faulty plugin"));
          return await never;
        case "close":
          (globalThis as unknown as { close(): void }).close();
          return await never;
        case "exit":
          Deno.exit(7);
          return await never;
        case "silent-exit":
          (globalThis as unknown as { __realClose(): void }).__realClose();
          return await never;
        case "spin":
          // A synchronous loop: no pong can be sent, only termination stops it.
          for (;;) { /* spin */ }
        case "error":
          throw new Error("plain failure inside the plugin");
        case "syft-error":
          throw new SyftError("E_EXISTS", "a custom refusal", { hint: "a custom hint" });
        case "crash-later":
          setTimeout(() => {
            throw new Error("late boom from the faulty plugin");
          }, 30);
          return { sender: "t@example.org", recipient: "later@example.org" };
        case "slow":
          await new Promise((resolve) => setTimeout(resolve, Number(arg)));
          return { sender: "t@example.org", recipient: "slow@example.org" };
        case "bad-result":
          return 42 as unknown as ChannelRef;
        default:
          return { sender: "t@example.org", recipient: to };
      }
    },
    listIncoming: () => Promise.resolve([]),
    async put(_channel: ChannelRef, name: string, body: Uint8Array | ReadableStream<Uint8Array>) {
      if (name === "refuse") throw new SyftError("E_EXISTS", "refused before reading");
      const hash = createHash("sha256");
      let size = 0;
      const [mode, arg] = name.split(":");
      if (body instanceof Uint8Array) {
        hash.update(body);
        size = body.byteLength;
      } else {
        for await (const chunk of body) {
          hash.update(chunk);
          size += chunk.byteLength;
          if (mode === "hang-after" && size >= Number(arg)) await never;
          if (mode === "crash-after" && size >= Number(arg)) {
            crashSoon();
            await never;
          }
        }
      }
      lastPut = { hash: hash.digest("hex"), size };
    },
    list(): Promise<ListPage> {
      return Promise.resolve({ objects: [{ name: lastPut.hash, size: lastPut.size }] });
    },
    get(_channel: ChannelRef, name: string): Promise<ReadableStream<Uint8Array>> {
      const [mode, arg] = name.split(":");
      let sent = 0;
      const total = Number(arg ?? 0);
      return Promise.resolve(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (mode === "bytes") {
              if (sent >= total) return controller.close();
              const n = Math.min(65536, total - sent);
              controller.enqueue(new Uint8Array(n).fill(sent % 251));
              sent += n;
              return;
            }
            if (sent === 0) {
              sent = 1;
              controller.enqueue(new Uint8Array([1, 2, 3]));
              return;
            }
            if (mode === "crash-mid") crashSoon();
            await never; // hang-mid (and crash-mid until the crash lands)
          },
        }),
      );
    },
    delete: () => Promise.resolve(),
    async changes(_cursor: string | null, options: { waitMs?: number | undefined } = {}) {
      await new Promise((resolve) => setTimeout(resolve, options.waitMs ?? 0));
      return { cursor: "c", channels: [] };
    },
  };
});
