/**
 * A large put's concurrent upload session, scheduled against a recording
 * session API (the wire path, cut appends and all, is proven against the
 * fake in dropbox_edges_test.ts and the contract suite): a few appends in
 * flight, each at its own offset with its own hash, the last one closing,
 * the bytes reassembled whatever order they land in, memory bounded, and a
 * failed append failing the put without a commit.
 */
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import {
  APPENDS_IN_FLIGHT,
  SESSION_CHUNK,
  SESSION_PIECES_HELD,
  type SessionApi,
  uploadSession,
} from "../../../plugins/dropbox/_transfer.ts";
import { contentHash } from "../../../plugins/dropbox/_content_hash.ts";
import type { Entry } from "../../../plugins/dropbox/_entries.ts";

const MiB = 1024 * 1024;

/** A producer of `size` patterned bytes in 1 MiB chunks, counting what was pulled. */
function source(size: number): { stream: ReadableStream<Uint8Array>; pulled(): number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= size) return controller.close();
      const chunk = new Uint8Array(Math.min(MiB, size - pulled));
      for (let i = 0; i < chunk.length; i += 997) chunk[i] = ((pulled + i) / 997) & 0xff;
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

/** A session API that stores appends after a delay (so they land out of order) and records. */
function recorder(pulled: () => number, failAt?: number) {
  const pieces = new Map<number, Uint8Array>();
  const log = {
    concurrent: false,
    inFlight: 0,
    maxInFlight: 0,
    maxHeld: 0,
    stored: 0,
    closedAt: [] as number[],
    finished: false,
  };
  let turn = 0;
  const api: SessionApi = {
    sessionStart(_op, concurrent = false) {
      log.concurrent = concurrent;
      return Promise.resolve("session-1");
    },
    async sessionAppend(_op, _id, offset, bytes, hash, close = false) {
      log.inFlight++;
      log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
      log.maxHeld = Math.max(log.maxHeld, pulled() - log.stored);
      try {
        await new Promise((resolve) => setTimeout(resolve, [30, 5, 15][turn++ % 3]));
        if (offset === failAt) throw new Error("the append was refused");
        assertEquals(hash, contentHash(bytes), `the hash of the piece at ${offset}`);
        pieces.set(offset, bytes.slice());
        log.stored += bytes.byteLength;
        if (close) log.closedAt.push(offset);
        return offset + bytes.byteLength;
      } finally {
        log.inFlight--;
      }
    },
    sessionFinish(_op, _id, offset, path, hash) {
      log.finished = true;
      const whole = new Uint8Array(offset);
      for (const [at, bytes] of pieces) whole.set(bytes, at);
      assertEquals(hash, contentHash(whole), "the whole body's hash");
      const entry: Entry = { tag: "file", name: path.slice(1), pathLower: path, size: offset };
      return Promise.resolve(entry);
    },
  };
  return { api, log, pieces };
}

Deno.test("a large put sends a few 8 MiB appends at once, the last one closing, in bounded memory", async () => {
  const size = 7 * SESSION_CHUNK + 12_345;
  const body = source(size);
  const { api, log, pieces } = recorder(body.pulled);
  const entry = await uploadSession(api, "put", "/x-big.syft", body.stream);
  assert(entry !== "conflict");
  assertEquals(entry.size, size);
  assert(log.concurrent, "a concurrent session");
  assertEquals(log.maxInFlight, APPENDS_IN_FLIGHT, "appends overlap, up to the bound");
  assertEquals(log.closedAt, [7 * SESSION_CHUNK], "only the last append closes the session");
  assertEquals(
    [...pieces.keys()].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => i * SESSION_CHUNK),
  );
  // Held: the appends in flight, the piece being read, and the producer's chunk being cut.
  assert(
    log.maxHeld <= SESSION_PIECES_HELD * SESSION_CHUNK + MiB,
    `held ${log.maxHeld / MiB} MiB`,
  );
});

Deno.test("a body of whole 8 MiB pieces is closed by an empty append at its end", async () => {
  const size = 3 * SESSION_CHUNK;
  const body = source(size);
  const { api, log, pieces } = recorder(body.pulled);
  const entry = await uploadSession(api, "put", "/x-big.syft", body.stream);
  assert(entry !== "conflict");
  assertEquals([entry.size, log.closedAt], [size, [size]]);
  assertEquals(pieces.get(size)?.byteLength, 0);
});

Deno.test("an append that fails for good fails the put, and nothing is committed", async () => {
  const body = source(6 * SESSION_CHUNK);
  const { api, log } = recorder(body.pulled, 2 * SESSION_CHUNK);
  const err = await assertRejects(
    () => uploadSession(api, "put", "/x-big.syft", body.stream),
    Error,
  );
  assertEquals(err.message, "the append was refused");
  assert(!log.finished, "no finish after a failed append");
});
