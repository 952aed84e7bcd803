/**
 * Put bodies whose producer never touches a chunk again once it is read, so
 * a transport may keep the chunk (the plugin host moves its buffer to the
 * Worker) instead of copying it. Unmarked streams are copied: their producer
 * may reuse or still hold what it enqueued.
 * @module
 */

const given = new WeakSet<ReadableStream<Uint8Array>>();

/** Mark `stream` as one whose chunks nobody else keeps or reuses. Returns it. */
export function givesAwayChunks(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  given.add(stream);
  return stream;
}

/** Whether `stream` was marked with {@linkcode givesAwayChunks}. */
export function chunksGivenAway(stream: ReadableStream<Uint8Array>): boolean {
  return given.has(stream);
}
