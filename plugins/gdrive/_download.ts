/**
 * Downloads (issue 13 item 4): an object's bytes as a stream, read on demand;
 * a connection that drops or stalls mid-way is resumed with
 * `Range: bytes=<received>-`, so a large object is not read again from the
 * start.
 * @module
 */
import { type BackoffPolicy, DriveError, transportError, withBackoff } from "./_backoff.ts";
import { describe, throwFor } from "./_errors.ts";
import type { DriveHttp } from "./_http.ts";

/** Reads files' contents from Drive. */
export class Downloader {
  readonly #http: DriveHttp;
  readonly #base: string;
  readonly #backoff: BackoffPolicy;

  constructor(http: DriveHttp, base: string, backoff: BackoffPolicy) {
    this.#http = http;
    this.#base = base;
    this.#backoff = backoff;
  }

  /**
   * The bytes of file `fileId` as a stream. A connection dropped mid-way is
   * resumed with `Range: bytes=<received>-`, so a large object is not read
   * again from the start.
   */
  async download(op: string, fileId: string): Promise<ReadableStream<Uint8Array>> {
    const url = `${this.#base}drive/v3/files/${encodeURIComponent(fileId)}?alt=media`;
    let received = 0;
    /** Bytes to drop from a resumed answer that ignored `Range` (200, not 206). */
    let toSkip = 0;
    const open = async (): Promise<ReadableStreamDefaultReader<Uint8Array>> =>
      await withBackoff(op, async () => {
        const headers: Record<string, string> = {};
        if (received > 0) headers.range = `bytes=${received}-`;
        const response = await this.#http.fetch(op, url, { headers });
        if (!response.ok) await throwFor(response);
        toSkip = received > 0 && response.status !== 206 ? received : 0;
        return (response.body ?? new ReadableStream<Uint8Array>()).getReader();
      }, this.#backoff);
    let reader = await open();
    let retries = 0;
    const tries = this.#backoff.tries;
    const idleMs = this.#http.timeoutMs;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          let result: ReadableStreamReadResult<Uint8Array>;
          try {
            result = await readWithin(reader, idleMs);
          } catch (err) {
            // The connection dropped mid-way: ask for the rest only.
            reader.releaseLock();
            if (++retries >= tries) {
              controller.error(
                transportError(op, new DriveError(0, "", describe(err), { cause: err }), retries),
              );
              return;
            }
            try {
              reader = await open();
            } catch (reopenErr) {
              controller.error(reopenErr);
              return;
            }
            continue;
          }
          if (result.done) {
            controller.close();
            return;
          }
          let bytes = result.value;
          if (toSkip > 0) {
            const n = Math.min(toSkip, bytes.byteLength);
            toSkip -= n;
            bytes = bytes.subarray(n);
            if (bytes.byteLength === 0) continue;
          }
          received += bytes.byteLength;
          controller.enqueue(bytes);
          return;
        }
      },
      cancel(reason) {
        return reader.cancel(reason).catch(() => {});
      },
    }, { highWaterMark: 0 });
  }
}

/** A read that gives up (cancelling the reader) when no bytes come for `ms`. */
async function readWithin<T>(
  reader: ReadableStreamDefaultReader<T>,
  ms: number,
): Promise<ReadableStreamReadResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reader.cancel().catch(() => {});
      reject(new Error(`no bytes for ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([reader.read(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}
