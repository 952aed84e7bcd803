/**
 * The per-run staging folder: read-only copies of what a job may see, under
 * `$SYFT_HOME` in 0700 folders, owned by the run's own uid when syft runs as
 * root (the run reaches them through a private mount, see `ROOT_PRELUDE`), and
 * the code copy of mode "none".
 * @module
 */

/**
 * A fresh per-run folder under the scratch folder (which lies under
 * `$SYFT_HOME`), 0700: what is staged there is for the run alone, never in a
 * shared folder like /tmp.
 */
export async function makeRunDir(scratchDir: string): Promise<string> {
  await Deno.mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const dir = await Deno.makeTempDir({ dir: scratchDir, prefix: "syft-run-" });
  await Deno.chmod(dir, 0o700);
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
 * readable by its owner alone (the caller hands it to the run's uid) and
 * writable by nobody. Links and special files are dropped: a link to a host
 * path would point outside the sandbox without namespaces. Set-id bits are
 * cleared by the exact `chmod`.
 */
export async function stageReadOnly(src: string, dest: string): Promise<void> {
  await run("cp", ["-R", "-P", "--reflink=auto", "--preserve=mode", "--", src, dest]);
  await run("find", [dest, "-mindepth", "1", "!", "-type", "f", "!", "-type", "d", "-delete"]);
  await run("chmod", ["-R", "u=rX,go=", "--", dest]);
}

/** Hand a folder (recursively) to `uid`. */
export async function chownTree(path: string, uid: number): Promise<void> {
  await run("chown", ["-R", "-h", `${uid}:${uid}`, "--", path]);
}

/**
 * Remove what a run's uid left in the host's shared writable folders (only
 * possible without a sandbox), so the next run given that uid finds nothing.
 */
export async function removeFilesOf(uid: number): Promise<void> {
  await run("find", [
    "/dev/shm",
    "/var/tmp",
    "/tmp",
    "-xdev",
    "-mindepth",
    "1",
    "-user",
    String(uid),
    "-delete",
  ]).catch(() => {});
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
