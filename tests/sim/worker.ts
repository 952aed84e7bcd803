/**
 * A Worker of `runBlock` (batch.ts): says when it is loaded, then runs each
 * seed it is sent (several at once, as they arrive) and answers with its result. Nothing but the seed's
 * options crosses over, so a seed runs here as it does in the main isolate.
 * @module
 */
/// <reference lib="deno.worker" />
import type { WorkerReply } from "./batch.ts";
import { runSeed, type SeedOptions } from "./run.ts";

self.onmessage = async (e: MessageEvent<SeedOptions>) => {
  let reply: WorkerReply;
  try {
    reply = { result: await runSeed(e.data) };
  } catch (err) {
    reply = {
      seed: e.data.seed,
      error: err instanceof Error ? err.stack ?? err.message : String(err),
    };
  }
  self.postMessage(reply);
};

// Loaded (and, under `deno test`, type-checked): runBlock may start the other Workers.
self.postMessage({ ready: true } satisfies WorkerReply);
