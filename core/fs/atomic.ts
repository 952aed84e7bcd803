/**
 * Every write to a user's folder or to $SYFT_HOME is temp file + fsync + rename,
 * so a crash at any instant leaves the old file or the new one, never half.
 * @module
 */
import { posix } from "node:path";
import { syftTempName } from "../datasite/names.ts";
import { denoFs } from "./deno_fs.ts";
import type { LocalFile, LocalFs } from "./local_fs.ts";

/** Options for {@linkcode writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** File mode of the new file (e.g. 0o600 for secrets). */
  mode?: number | undefined;
  /** Refuse to replace an existing file (the rename becomes a link, which fails if the name exists). */
  createOnly?: boolean | undefined;
  /** The file system to write on; the disk unless a test passes another. */
  fs?: LocalFs | undefined;
}

/** A temp name beside `path` that readers and globs of real names ignore. */
export function tempNameFor(path: string): string {
  return posix.join(posix.dirname(path), syftTempName(posix.basename(path)));
}

/** Write `data` to `path` atomically and durably. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const fs = options.fs ?? denoFs;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const temp = tempNameFor(path);
  const file = await fs.open(temp, {
    write: true,
    createNew: true,
    mode: options.mode ?? 0o644,
  });
  try {
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    // The umask may have narrowed the mode; secrets must end up exactly as asked.
    if (options.mode !== undefined) await fs.chmod(temp, options.mode);
    if (options.createOnly) {
      await fs.link(temp, path);
      await fs.remove(temp);
    } else {
      await fs.rename(temp, path);
    }
  } catch (err) {
    await fs.remove(temp).catch(() => {});
    throw err;
  }
  await syncDir(posix.dirname(path), fs);
}

/** fsync a folder so a rename or create in it survives a power cut. */
export async function syncDir(dir: string, fs: LocalFs = denoFs): Promise<void> {
  let handle: LocalFile | undefined;
  try {
    handle = await fs.open(dir, { read: true });
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder; the rename itself is still atomic.
  } finally {
    handle?.close();
  }
}

/** True when something exists at `path` (without following a final symlink). */
export async function exists(path: string, fs: LocalFs = denoFs): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
