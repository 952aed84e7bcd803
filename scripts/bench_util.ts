/**
 * Helpers the bench's scenarios share: timing, shelling out, medians, big test
 * files and the check that a peer's mirror holds what the owner published.
 * @module
 */
import { posix } from "node:path";

export async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

export async function sh(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Nearest-rank percentile: an actual sample, never an interpolation. */
export function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)] ?? NaN;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Write `mib` MiB to `path`; a random head per MiB keeps it from compressing to nothing. */
export async function writeBigFile(path: string, mib: number): Promise<void> {
  const chunk = new Uint8Array(1 << 20);
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    for (let i = 0; i < mib; i++) {
      crypto.getRandomValues(chunk.subarray(0, 65536));
      await f.write(chunk);
    }
  } finally {
    f.close();
  }
}

/** Read exactly `buf.length` bytes (fewer only at end of file); returns how many. */
export async function readFull(f: Deno.FsFile, buf: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < buf.length) {
    const n = await f.read(buf.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

/** Compare two files chunk by chunk (a 1 GiB file must not be read into memory). */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [fa, fb] = [await Deno.open(a), await Deno.open(b).catch(() => undefined)];
  if (!fb) {
    fa.close();
    return false;
  }
  try {
    const [ba, bb] = [new Uint8Array(1 << 20), new Uint8Array(1 << 20)];
    for (;;) {
      const [na, nb] = [await readFull(fa, ba), await readFull(fb, bb)];
      if (na !== nb) return false;
      if (na === 0) return true;
      for (let i = 0; i < na; i++) if (ba[i] !== bb[i]) return false;
    }
  } finally {
    fa.close();
    fb.close();
  }
}

/** Throw unless every file of `src` (one level, regular files) arrived intact in `dst`. */
export async function assertMirrored(scenario: string, src: string, dst: string): Promise<void> {
  const names = (await Array.fromAsync(Deno.readDir(src))).filter((e) => e.isFile).map((e) =>
    e.name
  );
  for (const name of names) {
    if (!(await sameFile(posix.join(src, name), posix.join(dst, name)))) {
      throw new Error(`${scenario}: ${name} did not arrive intact in the peer's mirror (${dst})`);
    }
  }
}
