/**
 * Where syft keeps its own state ($SYFT_HOME) and the user's files (the root).
 * @module
 */
import { posix } from "node:path";
import { SyftError } from "../errors/mod.ts";

/** The environment values the location rules read; passed in so tests need no real env. */
export interface LocationEnv {
  SYFT_HOME?: string | undefined;
  HOME?: string | undefined;
}

/** Read the variables {@linkcode resolveHome} needs from the process environment. */
export function processEnv(): LocationEnv {
  return { SYFT_HOME: Deno.env.get("SYFT_HOME"), HOME: Deno.env.get("HOME") };
}

function userHome(env: LocationEnv): string {
  if (!env.HOME) {
    throw new SyftError("E_INPUT", "the HOME environment variable is not set", {
      hint: "pass --home <dir> (and --root <dir> to init), or set HOME",
    });
  }
  return env.HOME;
}

/** Turn `~`, `~/x` and relative paths into an absolute path. */
export function expandPath(raw: string, env: LocationEnv, cwd: string): string {
  if (raw === "~") return userHome(env);
  if (raw.startsWith("~/")) return posix.join(userHome(env), raw.slice(2));
  return posix.resolve(cwd, raw);
}

/** `--home`, else `$SYFT_HOME`, else `~/.syft`, always absolute. */
export function resolveHome(flag: string | undefined, env: LocationEnv, cwd: string): string {
  if (flag) return expandPath(flag, env, cwd);
  if (env.SYFT_HOME) return expandPath(env.SYFT_HOME, env, cwd);
  return posix.join(userHome(env), ".syft");
}

/** The default datasite root, `~/SyftBox`. */
export function defaultRoot(env: LocationEnv): string {
  return posix.join(userHome(env), "SyftBox");
}

/** The fixed layout under $SYFT_HOME (docs/architecture.md "Where state lives"). */
export interface HomeLayout {
  home: string;
  config: string;
  keys: string;
  peers: string;
  credentials: string;
  state: string;
  logs: string;
  auditLog: string;
}

/** The paths of everything under a home folder. */
export function homeLayout(home: string): HomeLayout {
  return {
    home,
    config: posix.join(home, "config.yaml"),
    keys: posix.join(home, "keys"),
    peers: posix.join(home, "peers"),
    credentials: posix.join(home, "credentials"),
    state: posix.join(home, "state"),
    logs: posix.join(home, "logs"),
    auditLog: posix.join(home, "audit.log"),
  };
}
