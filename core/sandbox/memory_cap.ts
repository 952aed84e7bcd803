/**
 * The job's memory cap: a memory cgroup of its own where one can be had (a
 * child of our own cgroup, cgroup v1 or v2), else RLIMIT_AS. A cgroup counts
 * what the job really uses (tmpfs and shared memory included) and kills it
 * inside; RLIMIT_AS only bounds each process's address space, which is the
 * best a user without a writable cgroup can do.
 * @module
 */

/** Which mechanism holds the cap. */
export type MemoryCapMode = "cgroup" | "rlimit";

/** A cap in force for one run. */
export interface MemoryCap {
  mode: MemoryCapMode;
  bytes: number;
  /** The cgroup folder whose `cgroup.procs` the job's first process joins (mode "cgroup"). */
  cgroup?: string;
  /** Remove the cgroup (after every process in it has died); idempotent. */
  release(): Promise<void>;
}

/** Where our own memory cgroup is, from `/proc/self/cgroup` (pure). */
export function ownMemoryCgroup(
  procSelfCgroup: string,
  v2HasMemory: boolean,
): { version: 1 | 2; dir: string } | null {
  let v2: string | null = null;
  for (const line of procSelfCgroup.split("\n")) {
    const [, controllers, path] = line.match(/^\d+:([^:]*):(\/.*)$/) ?? [];
    if (controllers === undefined || path === undefined) continue;
    if (controllers.split(",").includes("memory")) {
      return { version: 1, dir: `/sys/fs/cgroup/memory${path === "/" ? "" : path}` };
    }
    if (controllers === "") v2 = path;
  }
  if (v2 !== null && v2HasMemory) {
    return { version: 2, dir: `/sys/fs/cgroup${v2 === "/" ? "" : v2}` };
  }
  return null;
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return "";
  }
}

async function removeCgroup(dir: string): Promise<void> {
  // The kernel refuses while a dying process is still counted: retry briefly.
  for (let i = 0; i < 50; i++) {
    try {
      await Deno.remove(dir);
      return;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A cgroup this old and empty was left by a runner that died; younger ones may await their job. */
const DEAD_CGROUP_MS = 6 * 3600_000;

/**
 * Remove the cgroups of runs whose runner died before removing them. The
 * kernel refuses to remove one that still holds a process, so a running job's
 * cgroup (of any syft home) is never touched; the age spares one whose job is
 * still being staged.
 */
async function removeDeadCgroups(parent: string): Promise<void> {
  try {
    for await (const e of Deno.readDir(parent)) {
      if (!e.isDirectory || !e.name.startsWith("syft-run-")) continue;
      const path = `${parent}/${e.name}`;
      const made = (await Deno.stat(path)).mtime?.getTime() ?? Date.now();
      if (Date.now() - made > DEAD_CGROUP_MS) await Deno.remove(path).catch(() => {});
    }
  } catch { /* unreadable: nothing to sweep */ }
}

/** Try to make a child memory cgroup capped at `bytes`; null when none can be had here. */
async function makeCgroup(bytes: number): Promise<string | null> {
  const v2HasMemory = (await readText("/sys/fs/cgroup/cgroup.controllers"))
    .split(/\s+/).includes("memory");
  const own = ownMemoryCgroup(await readText("/proc/self/cgroup"), v2HasMemory);
  if (own === null) return null;
  await removeDeadCgroups(own.dir);
  const dir = `${own.dir}/syft-run-${crypto.randomUUID()}`;
  try {
    await Deno.mkdir(dir);
  } catch {
    return null;
  }
  try {
    if (own.version === 1) {
      await Deno.writeTextFile(`${dir}/memory.limit_in_bytes`, String(bytes));
      // Swap would let the job grow past the cap; absent when swap accounting is off.
      await Deno.writeTextFile(`${dir}/memory.memsw.limit_in_bytes`, String(bytes)).catch(() => {});
    } else {
      await Deno.writeTextFile(`${dir}/memory.max`, String(bytes));
      await Deno.writeTextFile(`${dir}/memory.swap.max`, "0").catch(() => {});
    }
    return dir;
  } catch {
    await removeCgroup(dir);
    return null;
  }
}

/**
 * The cap for one run: a fresh cgroup when we may make one, else RLIMIT_AS
 * (the caller then passes `bytes` to `prlimit --as`).
 */
export async function memoryCap(bytes: number): Promise<MemoryCap> {
  const dir = await makeCgroup(bytes);
  if (dir === null) return { mode: "rlimit", bytes, release: () => Promise.resolve() };
  let released = false;
  return {
    mode: "cgroup",
    bytes,
    cgroup: dir,
    release: async () => {
      if (released) return;
      released = true;
      await removeCgroup(dir);
    },
  };
}

/** One line naming the cap mechanism, e.g. "memory cap 4096 MiB (cgroup)". */
export function memoryCapLine(mode: MemoryCapMode, mib: number): string {
  return `memory cap ${mib} MiB (${mode === "cgroup" ? "cgroup" : "RLIMIT_AS"})`;
}

/** Which cap a run would get here now (tries, then removes, a cgroup): for doctor and `job run`. */
export async function describeMemoryCap(mib: number): Promise<string> {
  const cap = await memoryCap(mib * 1024 * 1024);
  await cap.release();
  return memoryCapLine(cap.mode, mib);
}

/** `syft doctor`'s line for the memory cap: which mechanism a run would get here. */
export async function memoryCapCheck(
  mib: number,
): Promise<{ name: string; status: "ok"; detail: string }> {
  return { name: "memory", status: "ok", detail: await describeMemoryCap(mib) };
}
