/**
 * Every write to a user's folder or to $SYFT_HOME is temp file + fsync + rename,
 * so a crash at any instant leaves the old file or the new one, never half.
 * @module
 */
import { posix } from "node:path";
import { syftTempName } from "../datasite/names.ts";

/** Options for {@linkcode writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** File mode of the new file (e.g. 0o600 for secrets). */
  mode?: number | undefined;
  /** Refuse to replace an existing file (the rename becomes a link, which fails if the name exists). */
  createOnly?: boolean | undefined;
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
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const temp = tempNameFor(path);
  const file = await Deno.open(temp, {
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
    if (options.mode !== undefined) await Deno.chmod(temp, options.mode);
    if (options.createOnly) {
      await Deno.link(temp, path);
      await Deno.remove(temp);
    } else {
      await Deno.rename(temp, path);
    }
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  await syncDir(posix.dirname(path));
}

/** fsync a folder so a rename or create in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  let handle: Deno.FsFile | undefined;
  try {
    handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder; the rename itself is still atomic.
  } finally {
    handle?.close();
  }
}

/** True when something exists at `path` (without following a final symlink). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
