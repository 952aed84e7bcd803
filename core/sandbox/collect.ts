/**
 * Reading a job's outputs and logs back onto the host, safely. Whatever the job
 * left is hostile: only regular files and folders with safe relative paths are
 * written, never a symlink, hard link or special file; files are created
 * exclusively (an existing name, or a link planted in between, is never
 * followed); and the total stays under the cap.
 * @module
 */

import { concatBytes } from "../encoding/bytes.ts";
import { join } from "node:path";
import { checkInboundPath } from "../paths/mod.ts";
import { createTarDecoder, type ParsedTarEntry, type TarHeader } from "modern-tar";

/** What was released into `outputs/`. */
export interface OutputsSummary {
  files: number;
  bytes: number;
  truncated: boolean;
  skipped: Array<{ path: string; reason: string }>;
}

/** At most this many entries are written, whatever the byte cap says. */
export const MAX_OUTPUT_ENTRIES = 10_000;

/** The line that ends a capped log. */
export function truncationLine(cap: number): string {
  return `[syft: output truncated at ${cap} bytes]\n`;
}

/** Writes output entries under one host folder, enforcing every rule of this module. */
export class OutputSink {
  readonly #root: string;
  readonly #cap: number;
  readonly #dirs = new Set<string>([""]);
  #entries = 0;
  readonly summary: OutputsSummary = { files: 0, bytes: 0, truncated: false, skipped: [] };

  /** `root` must be a fresh folder this process created. */
  constructor(root: string, cap: number) {
    this.#root = root;
    this.#cap = cap;
  }

  /** Record an entry that is not released. */
  skip(path: string, reason: string): void {
    if (this.summary.skipped.length < 1000) this.summary.skipped.push({ path, reason });
    else this.summary.truncated = true;
  }

  /** A checked relative path, or `undefined` (and a skip record) when it is unsafe. */
  #check(path: string): string[] | undefined {
    const c = checkInboundPath(path);
    if (!c.ok) {
      this.skip(path, `unsafe path: ${c.reason}`);
      return undefined;
    }
    if (++this.#entries > MAX_OUTPUT_ENTRIES) {
      this.summary.truncated = true;
      this.skip(path, `more than ${MAX_OUTPUT_ENTRIES} entries`);
      return undefined;
    }
    return path.split("/");
  }

  async #mkdirs(segments: readonly string[]): Promise<boolean> {
    for (let i = 1; i <= segments.length; i++) {
      const rel = segments.slice(0, i).join("/");
      if (this.#dirs.has(rel)) continue;
      try {
        // Not recursive: each level is created here, so no level can be a link.
        await Deno.mkdir(join(this.#root, rel), { mode: 0o755 });
      } catch {
        return false;
      }
      this.#dirs.add(rel);
    }
    return true;
  }

  /** Create a folder (and its parents). */
  async dir(path: string): Promise<void> {
    const segs = this.#check(path);
    if (segs === undefined) return;
    if (!(await this.#mkdirs(segs))) this.skip(path, "conflicts with another entry");
  }

  /**
   * Write a regular file of `size` bytes from `data`, or skip it when it does not
   * fit the cap. Returns false when the data was not consumed (the caller drains it).
   */
  async file(path: string, size: number, data: AsyncIterable<Uint8Array>): Promise<boolean> {
    const segs = this.#check(path);
    if (segs === undefined) return false;
    if (this.summary.bytes + size > this.#cap) {
      this.summary.truncated = true;
      this.skip(path, `over the output cap of ${this.#cap} bytes`);
      return false;
    }
    if (!(await this.#mkdirs(segs.slice(0, -1)))) {
      this.skip(path, "conflicts with another entry");
      return false;
    }
    let f: Deno.FsFile;
    try {
      // createNew is O_CREAT|O_EXCL: fails on any existing name, links included.
      f = await Deno.open(join(this.#root, path), { createNew: true, write: true, mode: 0o644 });
    } catch {
      this.skip(path, "conflicts with another entry");
      return false;
    }
    let written = 0;
    try {
      for await (const chunk of data) {
        const room = Math.min(chunk.length, size - written);
        if (room <= 0) break;
        await writeAll(f, chunk.subarray(0, room));
        written += room;
      }
    } finally {
      f.close();
    }
    this.summary.files++;
    this.summary.bytes += written;
    return true;
  }
}

async function writeAll(f: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await f.write(bytes.subarray(off));
}

/** Write a log to `path`, keeping at most `cap` bytes and marking the cut. */
export async function writeLog(
  path: string,
  size: number,
  data: AsyncIterable<Uint8Array>,
  cap: number,
): Promise<boolean> {
  const f = await Deno.open(path, { createNew: true, write: true, mode: 0o644 });
  let written = 0;
  let last = 0x0a;
  try {
    for await (const chunk of data) {
      const room = Math.min(chunk.length, cap - written);
      if (room > 0) {
        await writeAll(f, chunk.subarray(0, room));
        written += room;
        last = chunk[room - 1] ?? last;
      }
    }
    const truncated = size > cap;
    if (truncated) {
      const line = (last === 0x0a ? "" : "\n") + truncationLine(cap);
      await writeAll(f, new TextEncoder().encode(line));
    }
    return truncated;
  } finally {
    f.close();
  }
}

/** What the wrapper's tar stream said. */
export interface TarResult {
  /** `null` when the stream carried no (valid) return code. */
  returncode: number | null;
  timedOut: boolean;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  outputs: OutputsSummary;
  /** One line when the stream was missing or garbled. */
  error?: string;
  /** Reading stopped early (the stream was over its budget); the producer should be killed. */
  stoppedEarly: boolean;
}

/** The stream is not a well-formed tar (anything the strict decoder refuses). */
class GarbledStream extends Error {}

/** The stream is longer than its budget. */
class StreamTooLong extends Error {}

/** Longest name or link target a GNU long-name (`L`/`K`) entry may carry. */
const MAX_NAME_BYTES = 4096;
/** Longest name or link target a pax record may carry. */
const MAX_PAX_NAME_BYTES = 65536;

/**
 * Parse the wrapper's tar stream into `outDir` (which exists, with an empty `outputs/`).
 *
 * The stream is read with modern-tar's strict decoder (header checksums, octal
 * numbers, no truncation, only zeros after the end-of-archive blocks; GNU long
 * names and pax paths applied). It is hostile input: every byte read counts
 * against a budget, and whatever the decoder refuses makes the result garbled.
 */
export async function collectFromTar(
  stream: ReadableStream<Uint8Array>,
  outDir: string,
  caps: { outputs: number; logs: number },
): Promise<TarResult> {
  // Room for the logs, the outputs and generous per-entry header overhead.
  const budget = 2 * (caps.logs + 8192) + caps.outputs + (MAX_OUTPUT_ENTRIES + 16) * 2048;
  const sink = new OutputSink(join(outDir, "outputs"), caps.outputs);
  const res: TarResult = {
    returncode: null,
    timedOut: false,
    stdoutTruncated: false,
    stderrTruncated: false,
    outputs: sink.summary,
    stoppedEarly: false,
  };

  // Errors of the caller's stream itself: rethrown as they are.
  const foreign = new Set<unknown>();
  // Stage 1: the caller's stream, every byte counted against the budget before
  // the decoder sees it (so the decoder never buffers more than the budget).
  const source = stream.getReader();
  let total = 0;
  const counted = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await source.read();
      } catch (err) {
        foreign.add(err);
        throw err;
      }
      if (result.done) return controller.close();
      total += result.value.byteLength;
      if (total > budget) throw new StreamTooLong();
      controller.enqueue(result.value);
    },
    cancel: (reason) => source.cancel(reason),
  }, { highWaterMark: 0 });

  // Stage 2: tar entries.
  const abort = new AbortController();
  const entries = counted
    .pipeThrough(createTarDecoder({ strict: true }), { signal: abort.signal })
    .getReader();
  /** An error out of the decoder (an entry or a body): garbled unless it is ours or the caller's. */
  const classify = (err: unknown): unknown => {
    if (err instanceof StreamTooLong || err instanceof GarbledStream || foreign.has(err)) {
      return err;
    }
    return new GarbledStream(decoderMessage(err));
  };
  async function* chunksOf(
    reader: ReadableStreamDefaultReader<Uint8Array>,
  ): AsyncGenerator<Uint8Array> {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (err) {
        throw classify(err);
      }
      if (next.done) return;
      yield next.value;
    }
  }

  let sawRc = false;
  const logsDone = { stdout: false, stderr: false };
  try {
    for (;;) {
      let next: ReadableStreamReadResult<ParsedTarEntry>;
      try {
        next = await entries.read();
      } catch (err) {
        // An empty stream is no result, not a garbled one.
        if (total === 0 && !foreign.has(err) && !(err instanceof StreamTooLong)) break;
        throw classify(err);
      }
      if (next.done) break;
      const { header, body } = next.value;
      const reader = body.getReader();
      try {
        checkNames(header);
        const type = header.type ?? "file";
        const isFile = type === "file";
        const data = chunksOf(reader);
        if (header.name === "meta/rc" && isFile && !sawRc && header.size <= 64) {
          const bytes: Uint8Array[] = [];
          for await (const chunk of data) bytes.push(chunk);
          const text = new TextDecoder().decode(concatBytes(...bytes));
          const m = /^(\d{1,3}) ([01])\n$/.exec(text);
          if (m !== null) {
            sawRc = true;
            res.timedOut = m[2] === "1";
            res.returncode = res.timedOut ? null : Number(m[1]);
          }
        } else if (
          (header.name === "stdout/stdout.txt" || header.name === "stderr/stderr.txt") && isFile
        ) {
          const which = header.name.startsWith("stdout") ? "stdout" : "stderr";
          if (!logsDone[which]) {
            logsDone[which] = true;
            const t = await writeLog(join(outDir, `${which}.txt`), header.size, data, caps.logs);
            if (which === "stdout") res.stdoutTruncated = t;
            else res.stderrTruncated = t;
          }
        } else if (header.name.startsWith("outputs/") && header.name !== "outputs/") {
          const rel = header.name.slice("outputs/".length).replace(/\/+$/, "");
          if (type === "directory") await sink.dir(rel);
          else if (isFile) await sink.file(rel, header.size, data);
          else sink.skip(rel, entryKind(type));
        }
      } finally {
        // Skips whatever was not read (the decoder then moves past it).
        await reader.cancel().catch(() => {});
      }
    }
  } catch (err) {
    abort.abort(err);
    if (err instanceof StreamTooLong) {
      res.stoppedEarly = true;
      res.outputs.truncated = true;
    } else if (err instanceof GarbledStream) {
      res.error = `the sandbox returned a garbled result stream: ${err.message}`;
      res.returncode = null;
      res.stoppedEarly = true;
    } else throw err;
  } finally {
    // The producer sees a closed pipe. Each stage is cancelled directly: one
    // that errored by itself no longer forwards a cancel upstream.
    for (const r of [entries, source]) await r.cancel().catch(() => {});
  }
  if (!sawRc && res.error === undefined) {
    res.error =
      "the sandbox returned no result (it failed to start, or the job killed its wrapper)";
  }
  for (const which of ["stdout", "stderr"] as const) {
    if (!logsDone[which]) await Deno.writeFile(join(outDir, `${which}.txt`), new Uint8Array());
  }
  return res;
}

/**
 * Names the decoder read leniently that the stream must not carry: an entry
 * name that is not valid UTF-8 (decoded to U+FFFD, so a name really holding
 * U+FFFD is refused too), or a name or link target longer than a GNU long-name
 * entry (4 KiB) or a pax record (64 KiB) may carry.
 */
function checkNames(header: TarHeader): void {
  if (header.name.includes("\uFFFD")) throw new GarbledStream("a name is not valid UTF-8");
  const names: Array<[string | undefined, boolean]> = [
    [header.name, header.pax?.["path"] !== undefined],
    [header.linkname, header.pax?.["linkpath"] !== undefined],
  ];
  for (const [name, fromPax] of names) {
    if (name === undefined) continue;
    const limit = fromPax ? MAX_PAX_NAME_BYTES : MAX_NAME_BYTES;
    // A UTF-16 code unit is at most three UTF-8 bytes: measure only when it may matter.
    if (name.length > limit / 3 && new TextEncoder().encode(name).length > limit) {
      throw new GarbledStream("an extended header is too long");
    }
  }
}

/** The decoder's message, as the tail of our one line. */
function decoderMessage(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\.$/, "");
  return message.charAt(0).toLowerCase() + message.slice(1);
}

function entryKind(type: string): string {
  switch (type) {
    case "link":
      return "hard link";
    case "symlink":
      return "symlink";
    case "character-device":
    case "block-device":
      return "device";
    case "fifo":
      return "fifo";
    default:
      return "unsupported entry type";
  }
}

/**
 * Copy a host folder of outputs (mode "none") into `dest`: folders and regular
 * files only, symlinks and special files skipped. A file is opened and then
 * checked to be the very inode `lstat` saw, so a swap for a link in between is caught.
 */
export async function collectFromDir(
  src: string,
  dest: string,
  cap: number,
): Promise<OutputsSummary> {
  const sink = new OutputSink(dest, cap);
  async function walk(rel: string): Promise<void> {
    const here = rel === "" ? src : join(src, rel);
    let names: string[];
    try {
      names = [];
      for await (const e of Deno.readDir(here)) names.push(e.name);
    } catch {
      sink.skip(rel, "unreadable folder");
      return;
    }
    names.sort();
    for (const name of names) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const path = join(src, childRel);
      let st: Deno.FileInfo;
      try {
        st = await Deno.lstat(path);
      } catch {
        continue;
      }
      if (st.isSymlink) sink.skip(childRel, "symlink");
      else if (st.isDirectory) {
        await sink.dir(childRel);
        if (checkInboundPath(childRel).ok) await walk(childRel);
      } else if (!st.isFile) sink.skip(childRel, "special file");
      else if ((st.nlink ?? 1) > 1) sink.skip(childRel, "hard link");
      else await copyChecked(sink, childRel, path, st);
    }
  }
  await walk("");
  return sink.summary;
}

async function copyChecked(sink: OutputSink, rel: string, path: string, st: Deno.FileInfo) {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch {
    sink.skip(rel, "unreadable file");
    return;
  }
  try {
    const now = await f.stat();
    if (!now.isFile || now.ino !== st.ino || now.dev !== st.dev) {
      sink.skip(rel, "changed while being collected");
      return;
    }
    await sink.file(rel, now.size, f.readable.values({ preventCancel: true }));
  } finally {
    try {
      f.close();
    } catch { /* closed by the stream */ }
  }
}
