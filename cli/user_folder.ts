/**
 * The folder the user typed the command in. `deno task syft` runs main.ts in
 * the folder of deno.json (the clone) and passes the user's folder as
 * `INIT_CWD`; every path argument must mean what it means in that folder.
 * @module
 */
import { posix } from "node:path";
import { fileURLToPath } from "node:url";

/** The clone's folder: where `deno task` starts main.ts. */
const TASK_DIR = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/**
 * The folder to work in, or null to stay. Only when cwd is the clone, as
 * `deno task` leaves it: an `INIT_CWD` inherited from an outer `npm run` or
 * `deno task` while syft was started elsewhere (a script, the installed
 * wrapper) names someone else's folder.
 */
export function userFolder(
  cwd: string,
  initCwd: string | undefined,
  taskDir: string,
): string | null {
  if (initCwd === undefined || !initCwd.startsWith("/")) return null;
  if (folder(cwd) !== folder(taskDir)) return null;
  const target = folder(initCwd);
  return target === folder(cwd) ? null : target;
}

function folder(path: string): string {
  return posix.normalize(path).replace(/(.)\/$/, "$1");
}

/** Move into the user's folder when started by `deno task`; the process entry calls this once. */
export function enterUserFolder(): void {
  let initCwd: string | undefined;
  try {
    initCwd = Deno.env.get("INIT_CWD");
  } catch {
    return; // no env permission: nothing to honour
  }
  const target = userFolder(Deno.cwd(), initCwd, TASK_DIR);
  if (target === null) return;
  try {
    Deno.chdir(target);
  } catch {
    return; // gone or not a folder: paths stay as deno task gave them
  }
  // Not passed on: a child syft must not move again.
  Deno.env.delete("INIT_CWD");
}
