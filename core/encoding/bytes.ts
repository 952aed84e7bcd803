/**
 * Byte helpers shared by the envelope, the peer service and the sandbox's
 * result reader and log capture.
 * @module
 */

/** The concatenation of `parts`. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Read a stream keeping the first `cap` bytes; past the cap it stops reading
 * (a pipe's writer then dies of SIGPIPE) and says `truncated`.
 */
export async function readCapped(
  stream: ReadableStream<Uint8Array>,
  cap: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let truncated = false;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const room = cap - kept;
      if (value.length > room) {
        chunks.push(value.subarray(0, room));
        kept += room;
        truncated = true;
        // The writer then dies of SIGPIPE instead of us draining a flood.
        await reader.cancel().catch(() => {});
        break;
      }
      chunks.push(value);
      kept += value.length;
    }
  } finally {
    reader.releaseLock();
  }
  return { bytes: concatBytes(...chunks), truncated };
}
