/**
 * Start a process tree in its own session and process group, with a hard
 * deadline that kills the whole group, and capped readers for its pipes.
 * @module
 */

/** A running process group. */
export interface Spawned {
  child: Deno.ChildProcess;
  /** SIGKILL the whole group (and the leader): idempotent. */
  killGroup(): void;
  /** Resolves when the hard deadline fired (never otherwise). */
  deadline: Promise<"deadline">;
  /** Whether the deadline fired. */
  readonly expired: boolean;
  /** Stop the deadline timer. */
  clear(): void;
}

/**
 * Spawn `argv` through `setsid`, so its pid is the id of a new session and group
 * that nothing else shares; killing `-pid` then reaches every process that did
 * not start a session of its own.
 */
export function spawnGroup(
  argv: readonly string[],
  options: {
    env: Record<string, string>;
    cwd?: string;
    deadlineMs: number;
    stdout: "piped" | "null";
  },
): Spawned {
  const cmd = new Deno.Command("setsid", {
    args: [...argv],
    clearEnv: true,
    env: options.env,
    stdin: "null",
    stdout: options.stdout,
    stderr: "piped",
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const child = cmd.spawn();
  let expired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killGroup = () => {
    for (const target of [-child.pid, child.pid]) {
      try {
        Deno.kill(target, "SIGKILL");
      } catch { /* already gone */ }
    }
  };
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => {
      expired = true;
      killGroup();
      resolve("deadline");
    }, options.deadlineMs);
  });
  return {
    child,
    killGroup,
    deadline,
    get expired() {
      return expired;
    },
    clear: () => clearTimeout(timer),
  };
}
