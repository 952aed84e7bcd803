/**
 * The round lock (docs/architecture.md "Concurrency"): one round at a time per
 * $SYFT_HOME, an exclusive `Deno.FsFile.lock` on `state/sync.lock`, released by
 * the kernel if the process dies. Others wait instead of failing.
 * @module
 */
import { posix } from "node:path";
import { SyftError } from "../errors/mod.ts";
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";

/** A held lock; `release()` is idempotent. */
export interface RoundLock {
  release(): void;
}

/**
 * Take the lock (`name`, default `sync.lock`; the job runner uses its own), waiting up to `timeoutMs`. `onWait` is called once if the lock
 * is not free within a second (so the CLI can say it waits).
 */
export async function acquireRoundLock(
  stateDir: string,
  options: { timeoutMs?: number; onWait?: () => void; name?: string; fs?: LocalFs } = {},
): Promise<RoundLock> {
  const fs = options.fs ?? denoFs;
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const name = options.name ?? "sync.lock";
  const file = await fs.open(posix.join(stateDir, name), {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  let settled = false;
  const waitNote = setTimeout(() => {
    if (!settled) options.onWait?.();
  }, 1000);
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      file.lock(true),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new SyftError(
                "E_INPUT",
                `another syft process has held ${stateDir}/${name} for ${timeoutMs / 1000} s`,
                {
                  hint: "wait for it to finish, or stop the other syft process",
                },
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    file.close();
    throw err;
  } finally {
    settled = true;
    clearTimeout(waitNote);
    clearTimeout(timer);
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        file.unlockSync();
      } finally {
        file.close();
      }
    },
  };
}
