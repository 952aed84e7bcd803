/**
 * The per-run staging folder: read-only copies of what a job may see, placed where
 * the unprivileged uid can reach them. Used when syft runs as root (its own
 * folders, e.g. /root, are 0700) and for the code copy of mode "none".
 * @module
 */

import { dirname, resolve } from "node:path";
import { NOBODY } from "./limits.ts";

/** Can `uid` (not root, in no group of the owners) traverse every folder down to `path`? */
export async function reachableBy(path: string, uid: number): Promise<boolean> {
  let p = resolve(path);
  for (;;) {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(p);
    } catch {
      return false;
    }
    const mode = st.mode ?? 0;
    const ok = st.uid === uid ? (mode & 0o100) !== 0 : (mode & 0o001) !== 0;
    if (st.isDirectory && !ok) return false;
    const up = dirname(p);
    if (up === p) return true;
    p = up;
  }
}

/** A fresh per-run folder, traversable (0711) but not listable by others. */
export async function makeRunDir(scratchDir: string, needReach: boolean): Promise<string> {
  await Deno.mkdir(scratchDir, { recursive: true });
  const underScratch = !needReach || await reachableBy(scratchDir, NOBODY);
  const dir = underScratch
    ? await Deno.makeTempDir({ dir: scratchDir, prefix: "syft-run-" })
    : await Deno.makeTempDir({ prefix: "syft-run-" });
  await Deno.chmod(dir, 0o711);
  return dir;
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped", stdin: "null" })
    .output();
  if (!out.success) {
    const msg = new TextDecoder().decode(out.stderr).trim().split("\n")[0] ?? "";
    throw new Error(`${cmd} failed: ${msg}`);
  }
}

/**
 * Copy a folder's regular files and folders to `dest` (which must not exist),
 * readable by everyone and writable by nobody but us. Links and special files are
 * dropped: a link to a host path would point outside the sandbox without namespaces.
 * Set-id bits are cleared by the exact `chmod`.
 */
export async function stageReadOnly(src: string, dest: string): Promise<void> {
  await run("cp", ["-R", "-P", "--reflink=auto", "--preserve=mode", "--", src, dest]);
  await run("find", [dest, "-mindepth", "1", "!", "-type", "f", "!", "-type", "d", "-delete"]);
  await run("chmod", ["-R", "u=rwX,go=rX", "--", dest]);
}

/** Copy a venv as is (its links point at the system python on purpose). */
export async function stageVenv(src: string, dest: string): Promise<void> {
  await run("cp", ["-a", "--reflink=auto", "--", src, dest]);
  await run("chmod", ["-R", "go+rX,go-w", "--", dest]);
}

/** Hand a folder (recursively) to `uid`. */
export async function chownTree(path: string, uid: number): Promise<void> {
  await run("chown", ["-R", "-h", `${uid}:${uid}`, "--", path]);
}

/** Remove a run folder even when the job left it unwritable. */
export async function removeRunDir(dir: string): Promise<void> {
  await run("chmod", ["-R", "u+rwX", "--", dir]).catch(() => {});
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/**
 * How many processes `uid` runs now (RLIMIT_NPROC counts them all). Asked of
 * `pgrep` because Deno only lets a fully privileged process list /proc; when
 * that fails, assume a busy desktop rather than starve the job.
 */
export async function countProcesses(uid: number): Promise<number> {
  try {
    const out = await new Deno.Command("pgrep", {
      args: ["-c", "-U", String(uid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    // pgrep exits 1 (and prints 0) when there is none.
    if ((out.code === 0 || out.code === 1) && Number.isInteger(n)) return n;
  } catch { /* no pgrep */ }
  return 1024;
}
