/**
 * $SYFT_HOME and the folders holding keys, peers, state and credentials must be
 * the user's own: another local user who can write there (or owns them) could
 * swap keys, pin peers or plant state. {@linkcode judgeHome} is the pure rule,
 * given what stat saw; {@linkcode inspectHome} gathers that at the edge.
 * @module
 */
import { posix } from "node:path";
import { describeError, SyftError } from "../errors/mod.ts";
import { homeLayout } from "./home.ts";

/** One path the guard looks at, as stat saw it (symlinks followed). */
export interface PathFacts {
  path: string;
  /** Folders must be 0700-able (fix: chmod 700), files 0600 (fix: chmod 600). */
  kind: "folder" | "file";
  /** Where the path points, when it is itself a symbolic link. */
  linkTarget?: string | undefined;
  /** Owner of what the path leads to (null where the platform does not say). */
  uid: number | null;
  /** Mode bits of what the path leads to (null where the platform does not say). */
  mode: number | null;
}

/** Something about a home path that makes it unsafe. */
export interface HomeProblem {
  path: string;
  /** Sentence fragment naming the path, what is wrong and the mode, e.g. "/h is world-writable (mode 0777)". */
  message: string;
  /** A shell command that fixes it. */
  fix: string;
  /** True when `doctor --fix` may repair it: a real folder or file of ours, not a link, only its mode wrong. */
  fixable: boolean;
}

/** Mode bits as `ls` shows them in octal, e.g. `0755` or `1777`. */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/**
 * Judge each path: writable by group or others, or owned by another user, is a
 * problem. A symbolic link is judged by what it points to, and never marked
 * fixable (chmod would change a folder the link merely names).
 *
 * @example
 * ```ts
 * judgeHome([{ path: "/h", kind: "folder", uid: 1000, mode: 0o40777 }], 1000);
 * // [{ path: "/h", message: "/h is world-writable (mode 0777)", fix: "chmod 700 /h", fixable: true }]
 * ```
 */
export function judgeHome(facts: readonly PathFacts[], uid: number | null): HomeProblem[] {
  const problems: HomeProblem[] = [];
  for (const f of facts) {
    const why: string[] = [];
    const foreign = uid !== null && f.uid !== null && f.uid !== uid;
    if (foreign) why.push(`owned by another user (uid ${f.uid}, you are uid ${uid})`);
    if (f.mode !== null && (f.mode & 0o002)) why.push("world-writable");
    else if (f.mode !== null && (f.mode & 0o020)) why.push("group-writable");
    if (!why.length) continue;
    const mode = f.mode === null ? "" : ` (mode ${formatMode(f.mode)})`;
    const subject = f.linkTarget === undefined ? f.path : `${f.path} (a link to ${f.linkTarget})`;
    const target = f.linkTarget ?? f.path;
    const chmod = `chmod ${f.kind === "folder" ? "700" : "600"} ${target}`;
    const fix = foreign
      ? `use a home of your own (or chown $(id -u) ${target} && ${chmod})`
      : f.linkTarget === undefined
      ? chmod
      : `${chmod} (or replace the link ${f.path} with a folder of your own)`;
    problems.push({
      path: f.path,
      message: `${subject} is ${why.join(" and ")}${mode}`,
      fix,
      fixable: !foreign && f.linkTarget === undefined,
    });
  }
  return problems;
}

/** The paths the guard checks under a home: the home, its folders, config, audit log and keys. */
export function guardedPaths(home: string): { path: string; kind: PathFacts["kind"] }[] {
  const l = homeLayout(home);
  return [
    { path: l.home, kind: "folder" },
    { path: l.keys, kind: "folder" },
    { path: l.peers, kind: "folder" },
    { path: l.state, kind: "folder" },
    { path: l.credentials, kind: "folder" },
    { path: l.logs, kind: "folder" },
    { path: l.config, kind: "file" },
    { path: l.auditLog, kind: "file" },
    { path: posix.join(l.keys, "sign.key"), kind: "file" },
    { path: posix.join(l.keys, "agree.key"), kind: "file" },
  ];
}

/** The file-system calls {@linkcode inspectHome} makes; passed in so tests can fake them. */
export interface StatFs {
  lstat(path: string): Promise<Deno.FileInfo>;
  stat(path: string): Promise<Deno.FileInfo>;
  realPath(path: string): Promise<string>;
}

const denoFs: StatFs = {
  lstat: (p) => Deno.lstat(p),
  stat: (p) => Deno.stat(p),
  realPath: (p) => Deno.realPath(p),
};

/**
 * Stat every guarded path under `home`. Paths that do not exist (a fresh home,
 * a dangling link) are left out: there is nothing there another user controls.
 */
export async function inspectHome(home: string, fs: StatFs = denoFs): Promise<PathFacts[]> {
  const out: PathFacts[] = [];
  for (const { path, kind } of guardedPaths(home)) {
    let linkTarget: string | undefined;
    let info: Deno.FileInfo;
    try {
      if ((await fs.lstat(path)).isSymlink) linkTarget = await fs.realPath(path);
      info = await fs.stat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
        continue;
      }
      // A folder above it we may not enter: that folder is judged (and refused) itself.
      if (err instanceof Deno.errors.PermissionDenied && path !== home) continue;
      throw new SyftError("E_PERMISSION", `cannot inspect ${path}: ${describeError(err)}`, {
        hint: `make it your own: chmod ${kind === "folder" ? "700" : "600"} ${path}`,
        cause: err,
      });
    }
    out.push({ path, kind, linkTarget, uid: info.uid, mode: info.mode });
  }
  return out;
}

/** The error every command gives for an unsafe home (exit 3). */
export function homeRefusal(problems: readonly HomeProblem[]): SyftError {
  return new SyftError(
    "E_PERMISSION",
    `refusing an unsafe home: ${problems.map((p) => p.message).join("; ")}`,
    { hint: problems.map((p) => p.fix).join("; ") },
  );
}

/** The user's uid, or null where the platform has none (the owner check is then skipped). */
export function currentUid(): number | null {
  return Deno.uid();
}

/**
 * Refuse to go on when `home` is not the user's own.
 * @throws {SyftError} `E_PERMISSION` naming each unsafe path and its mode
 */
export async function requireOwnHome(home: string): Promise<void> {
  const problems = judgeHome(await inspectHome(home), currentUid());
  if (problems.length) throw homeRefusal(problems);
}
