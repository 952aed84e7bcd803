/**
 * A uid of its own for each run when syft runs as root, the way systemd's
 * DynamicUser does. A shared uid (65534 is every `nobody` process on the
 * machine) could read a running job's files through `/proc/<pid>/root` and
 * signal it; a uid that no account, no process and no other run holds cannot.
 * @module
 */

/** The range systemd leaves for dynamic users; no account is ever made there. */
export const RUN_UID_MIN = 61184;
export const RUN_UID_MAX = 65519;

/** Where runs of every syft home on this machine record the uids they hold. */
export const RUN_UID_LOCKS = "/run/syft/uids";

/** A uid held for one run. */
export interface RunUid {
  uid: number;
  /** Kill every process left with the uid, then let the uid go; idempotent. */
  release(): Promise<void>;
}

/** The uids and gids named in passwd/group-style text (pure). */
export function accountIds(text: string): Set<number> {
  const ids = new Set<number>();
  for (const line of text.split("\n")) {
    const id = Number(line.split(":")[2]);
    if (line.trim() !== "" && Number.isSafeInteger(id)) ids.add(id);
  }
  return ids;
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return "";
  }
}

async function hasProcesses(uid: number): Promise<boolean> {
  const out = await new Deno.Command("pgrep", {
    args: ["-U", String(uid)],
    stdout: "null",
    stderr: "null",
  }).output();
  // 1: none; anything else (2, 3: error) counts as "maybe", so the uid is skipped.
  return out.code !== 1;
}

async function pidAlive(pid: number): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Kill every process of `uid` (kill -1 as that uid reaches exactly them). */
export async function killUid(uid: number): Promise<void> {
  await new Deno.Command("setpriv", {
    args: [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--", "kill", "-KILL", "-1"],
    clearEnv: true,
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    stdout: "null",
    stderr: "null",
  }).output().catch(() => {});
}

/**
 * Take an unused uid for one run: outside every account, with no process, and
 * not held by another run (an exclusive lock file naming our pid; a lock whose
 * pid is gone is taken over).
 * @throws Error when no uid of the range is free.
 */
export async function acquireRunUid(lockDir = RUN_UID_LOCKS): Promise<RunUid> {
  await Deno.mkdir(lockDir, { recursive: true, mode: 0o700 });
  const taken = new Set([
    ...accountIds(await readText("/etc/passwd")),
    ...accountIds(await readText("/etc/group")),
  ]);
  const span = RUN_UID_MAX - RUN_UID_MIN + 1;
  const start = crypto.getRandomValues(new Uint32Array(1))[0]! % span;
  for (let i = 0; i < span; i++) {
    const uid = RUN_UID_MIN + (start + i) % span;
    if (taken.has(uid)) continue;
    const lock = `${lockDir}/${uid}`;
    if (!(await tryLock(lock))) continue;
    if (await hasProcesses(uid)) {
      await Deno.remove(lock).catch(() => {});
      continue;
    }
    let released = false;
    return {
      uid,
      release: async () => {
        if (released) return;
        released = true;
        await killUid(uid);
        await Deno.remove(lock).catch(() => {});
      },
    };
  }
  throw new Error(`no free uid in ${RUN_UID_MIN}-${RUN_UID_MAX} for the run`);
}

async function tryLock(path: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await Deno.writeTextFile(path, `${Deno.pid}\n`, { createNew: true, mode: 0o600 });
      return true;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    const holder = Number((await readText(path)).trim());
    if (Number.isSafeInteger(holder) && holder > 0 && await pidAlive(holder)) return false;
    // The run that held it died: its processes are killed before the uid is reused.
    const uid = Number(path.split("/").at(-1));
    await killUid(uid);
    await Deno.remove(path).catch(() => {});
  }
  return false;
}
