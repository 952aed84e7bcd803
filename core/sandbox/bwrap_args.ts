/**
 * Pure builders of the bubblewrap command line: which host folders a job sees,
 * where, and with which environment. No effects here, so every policy decision
 * (what is bound, what is read-only, what is never there) is unit-tested.
 * @module
 */
import { DATASET_NAME_RE } from "../datasets/name.ts";

/** Where things live inside the sandbox; fixed so a venv built once works in every run. */
export const INSIDE = {
  code: "/job",
  datasets: "/datasets",
  outputs: "/outputs",
  tmp: "/tmp",
  home: "/tmp/home",
  venv: "/venv",
  findLinks: "/find-links",
  stdoutDir: "/syft/stdout",
  stderrDir: "/syft/stderr",
  metaDir: "/syft/meta",
} as const;

/**
 * The env var that points a job at a dataset.
 *
 * @example
 * ```ts
 * datasetEnvName("my-data"); // "SYFT_DATASET_MY_DATA"
 * ```
 */
export function datasetEnvName(name: string): string {
  if (!DATASET_NAME_RE.test(name)) throw new Error(`invalid dataset name ${JSON.stringify(name)}`);
  return `SYFT_DATASET_${name.toUpperCase().replaceAll("-", "_")}`;
}

/**
 * `/etc` files programs need (dynamic linker, user names, time zone, TLS roots).
 * Never the whole `/etc`: it holds host secrets and configuration a job has no
 * business reading. Missing ones are skipped (`--ro-bind-try`).
 */
export const ETC_FILES: readonly string[] = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/passwd",
  "/etc/group",
  "/etc/nsswitch.conf",
  "/etc/localtime",
  "/etc/alternatives",
  "/etc/ssl/certs",
  "/etc/ssl/openssl.cnf",
  "/etc/ca-certificates",
  "/etc/pki/tls/certs",
  "/etc/pki/ca-trust",
];

/** `/etc` files only a job with network needs (name resolution). */
export const ETC_NETWORK_FILES: readonly string[] = [
  "/etc/resolv.conf",
  "/etc/hosts",
  "/etc/host.conf",
  "/etc/gai.conf",
];

/** The device nodes a job gets; nothing else is in its `/dev`. */
export const DEV_NODES: readonly string[] = [
  "/dev/null",
  "/dev/zero",
  "/dev/full",
  "/dev/random",
  "/dev/urandom",
  "/dev/tty",
];

/** How a top-level system folder looks on the host: merged-/usr symlink, real folder, or absent. */
export type SystemEntry =
  | { path: string; kind: "symlink"; target: string }
  | { path: string; kind: "dir" };

/** The folders that hold programs and libraries; `/usr` must exist, the rest are per host. */
export const SYSTEM_DIRS: readonly string[] = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32"];

/** Everything {@linkcode buildBwrapArgs} needs, all host paths already resolved. */
export interface BwrapPlan {
  /** The host's system folders, as {@linkcode SYSTEM_DIRS} found them. */
  system: readonly SystemEntry[];
  /** Share the host network (and bind resolv.conf/hosts); otherwise an empty net namespace. */
  network: boolean;
  /** Host folder of the job code, bound read-only at {@linkcode INSIDE.code}. */
  codeDir?: string;
  /** Host folders of the granted datasets, each bound read-only at `/datasets/<name>`. */
  datasets: ReadonlyArray<{ name: string; dir: string }>;
  /** A venv folder bound at `/venv`, read-only unless `writable`. */
  venv?: { dir: string; writable: boolean };
  /** Find-links folders, bound read-only at `/find-links/<i>`. */
  findLinks?: readonly string[];
  /**
   * Size caps of the sandbox-only tmpfs mounts; omit `outputs`/`logs` for no such
   * mounts. `tmp` is the one scratch cap of /tmp, HOME and /dev/shm together.
   */
  sizes: { tmp: number; outputs?: number; logs?: number; meta?: number };
  /** The complete environment inside (the rest is cleared). */
  env: Readonly<Record<string, string>>;
  /** Working directory inside. */
  cwd: string;
}

/** Round a byte count up to whole pages: tmpfs sizes are page-granular, and 0 would mean "unlimited". */
export function tmpfsSize(bytes: number): number {
  const page = 4096;
  return Math.max(page, Math.ceil(Math.max(0, bytes) / page) * page);
}

/**
 * The bubblewrap options (everything between `bwrap` and the command) for a plan.
 *
 * The namespace set is fixed: all namespaces unshared, a user namespace so no
 * capability survives, no nested user namespaces (which would give them back),
 * a new session (no TIOCSTI into our terminal), and death with the parent so a
 * killed runner never leaves a sandbox behind.
 */
export function buildBwrapArgs(plan: BwrapPlan): string[] {
  const a: string[] = [
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--cap-drop",
    "ALL",
    "--new-session",
    "--die-with-parent",
  ];
  if (plan.network) a.push("--share-net");
  for (const entry of plan.system) {
    if (entry.kind === "symlink") a.push("--symlink", entry.target, entry.path);
    else a.push("--ro-bind", entry.path, entry.path);
  }
  const etc = plan.network ? [...ETC_FILES, ...ETC_NETWORK_FILES] : ETC_FILES;
  for (const f of etc) a.push("--ro-bind-try", f, f);
  a.push("--proc", "/proc");
  // Never `--dev`: it mounts an uncapped writable tmpfs (with /dev/shm) at /dev.
  // Only these nodes, bound from the host; /dev itself stays on the read-only root.
  for (const node of DEV_NODES) a.push("--dev-bind-try", node, node);
  a.push("--size", String(tmpfsSize(plan.sizes.tmp)), "--tmpfs", INSIDE.tmp, "--dir", INSIDE.home);
  // Shared memory lives in /tmp, so one cap (sandbox.scratch_mib) holds both.
  a.push("--symlink", INSIDE.tmp, "/dev/shm");
  if (plan.sizes.outputs !== undefined) {
    // One page over the cap: a job that fills it is then seen as over the cap (truncated).
    a.push("--size", String(tmpfsSize(plan.sizes.outputs + 1)), "--tmpfs", INSIDE.outputs);
  }
  if (plan.sizes.logs !== undefined) {
    // One page more than the cap, so "more than the cap was written" is visible.
    const size = String(tmpfsSize(plan.sizes.logs + 1));
    a.push(
      "--size",
      size,
      "--tmpfs",
      INSIDE.stdoutDir,
      "--size",
      size,
      "--tmpfs",
      INSIDE.stderrDir,
    );
  }
  if (plan.sizes.meta !== undefined) {
    a.push("--size", String(tmpfsSize(plan.sizes.meta)), "--tmpfs", INSIDE.metaDir);
  }
  if (plan.codeDir !== undefined) a.push("--ro-bind", plan.codeDir, INSIDE.code);
  for (const d of plan.datasets) {
    if (!DATASET_NAME_RE.test(d.name)) {
      throw new Error(`invalid dataset name ${JSON.stringify(d.name)}`);
    }
    a.push("--ro-bind", d.dir, `${INSIDE.datasets}/${d.name}`);
  }
  if (plan.venv !== undefined) {
    a.push(plan.venv.writable ? "--bind" : "--ro-bind", plan.venv.dir, INSIDE.venv);
  }
  (plan.findLinks ?? []).forEach((dir, i) => a.push("--ro-bind", dir, `${INSIDE.findLinks}/${i}`));
  // The root itself is bwrap's own tmpfs: read-only so it is no unbounded scratch space.
  a.push("--remount-ro", "/");
  // --clearenv must come before every --setenv, or it would wipe them.
  a.push("--clearenv");
  for (const [k, v] of Object.entries(plan.env)) a.push("--setenv", k, v);
  a.push("--chdir", plan.cwd);
  return a;
}

/** The PATH inside, with the venv's `bin/` first when there is one. */
export function sandboxPath(venvBin?: string): string {
  const base = "/usr/local/bin:/usr/bin:/bin";
  return venvBin === undefined ? base : `${venvBin}:${base}`;
}

/** The scrubbed environment of a job: a short allow-list plus the SYFT_* variables. */
export function jobEnv(input: {
  jobId: string;
  home: string;
  tmp: string;
  outputDir: string;
  datasets: ReadonlyArray<{ name: string; dir: string }>;
  venvBin?: string;
}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: sandboxPath(input.venvBin),
    HOME: input.home,
    LANG: "C.UTF-8",
    TMPDIR: input.tmp,
    SYFT_JOB_ID: input.jobId,
    SYFT_OUTPUT_DIR: input.outputDir,
  };
  if (input.venvBin !== undefined) env.VIRTUAL_ENV = input.venvBin.replace(/\/bin$/, "");
  for (const d of input.datasets) env[datasetEnvName(d.name)] = d.dir;
  return env;
}

/**
 * The trusted wrapper, run by bash inside the sandbox as `bash -c WRAPPER syft-wrapper
 * <entrypoint> <timeout seconds> <timeout µs>`.
 *
 * It runs the job with its logs on their own capped tmpfs mounts, enforces the
 * timeout itself (coreutils `timeout` kills the job's process group), then kills
 * every other process in the pid namespace (`kill -KILL -1`: background and
 * re-sessioned leftovers), and finally streams a tar of the return code, the
 * logs and the outputs on its stdout — in that order, so an output flood never
 * hides the return code. The host parses that stream as hostile: the job runs
 * as the same uid and could tamper with it.
 */
export const WRAPPER_SCRIPT = [
  "set -u",
  "entry=$1; secs=$2; limit_us=$3",
  `cd ${INSIDE.code} || exit 97`,
  "start=${EPOCHREALTIME/./}",
  `timeout --signal=KILL "$secs" bash -- "$entry" </dev/null >${INSIDE.stdoutDir}/stdout.txt 2>${INSIDE.stderrDir}/stderr.txt`,
  "rc=$?",
  "end=${EPOCHREALTIME/./}",
  "kill -KILL -1 2>/dev/null",
  "timed=0",
  'if [ "$rc" -eq 137 ] && [ $((end - start)) -ge "$limit_us" ]; then timed=1; fi',
  `printf '%s %s\\n' "$rc" "$timed" >${INSIDE.metaDir}/rc`,
  "cd /syft || exit 98",
  "exec tar --format=gnu --numeric-owner -cf - meta/rc stdout/stdout.txt stderr/stderr.txt -C / outputs 2>/dev/null",
].join("\n");

/** The command after the bwrap options that runs {@linkcode WRAPPER_SCRIPT}. */
export function wrapperCommand(entrypoint: string, timeoutMs: number): string[] {
  const secs = (Math.max(1, timeoutMs) / 1000).toFixed(3);
  return [
    "--",
    "bash",
    "-c",
    WRAPPER_SCRIPT,
    "syft-wrapper",
    entrypoint,
    secs,
    String(timeoutMs * 1000),
  ];
}
