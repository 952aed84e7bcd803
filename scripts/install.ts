/**
 * `deno task install [--bin-dir <dir>] [--uninstall]`: put a `syft` command on
 * the PATH that runs this clone with exactly the `syft` task's permissions and
 * needs no global `deno`. The running Deno (npx's copy, usually) is hard-linked
 * (or copied) to `~/.local/share/syft/deno`, where no npx cache clean-up can
 * take it, and `~/.local/bin/syft` is a two-line wrapper that `exec`s it: no
 * `Task …` line and no npx start-up per command. Running it again replaces both.
 * @module
 */
import { posix } from "node:path";
import { fileURLToPath } from "node:url";
import { Output, processSink } from "../cli/output.ts";
import { userFolder } from "../cli/user_folder.ts";

/** The clone: where deno.json and main.ts are. */
export const CLONE = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** First line after the shebang: how the wrapper says it is ours. */
export const WRAPPER_MARK = "# syft: installed by `deno task install`";

/** Where the install goes. */
export interface InstallPaths {
  /** The folder that gets the `syft` command. */
  binDir: string;
  wrapper: string;
  /** The stable copy of the Deno binary. */
  deno: string;
}

/**
 * The permission flags of deno.json's `syft` task: one source of truth for
 * the task, the wrapper and the tests' child processes.
 * @throws {Error} when the task is not `deno run <flags> main.ts`
 */
export function taskPermissions(denoJson: string): string[] {
  const task = (JSON.parse(denoJson) as { tasks?: Record<string, unknown> }).tasks?.syft;
  const words = typeof task === "string" ? task.trim().split(/\s+/) : [];
  if (words[0] !== "deno" || words[1] !== "run" || words[words.length - 1] !== "main.ts") {
    throw new Error(`deno.json's syft task is not "deno run <flags> main.ts": ${String(task)}`);
  }
  const flags = words.slice(2, -1);
  const other = flags.find((f) => !/^--(allow|deny)-[a-z-]+(=\S+)?$/.test(f));
  if (other !== undefined) {
    throw new Error(`deno.json's syft task has a flag that is not a permission: ${other}`);
  }
  return flags;
}

/** Where things go: `--bin-dir` or ~/.local/bin; the binary under $XDG_DATA_HOME or ~/.local/share. */
export function installPaths(
  env: { HOME?: string | undefined; XDG_DATA_HOME?: string | undefined },
  binDir: string | undefined,
): InstallPaths {
  const home = env.HOME;
  if (!home?.startsWith("/")) throw new Error("HOME is not set to an absolute folder");
  const bin = binDir ?? posix.join(home, ".local", "bin");
  const data = env.XDG_DATA_HOME?.startsWith("/")
    ? env.XDG_DATA_HOME
    : posix.join(home, ".local", "share");
  return { binDir: bin, wrapper: posix.join(bin, "syft"), deno: posix.join(data, "syft", "deno") };
}

/** A POSIX shell word for `s`. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The `syft` wrapper: Deno with the task's permissions, this clone's config and main.ts. */
export function wrapperScript(
  p: { deno: string; clone: string; permissions: readonly string[] },
): string {
  const argv = [
    p.deno,
    "run",
    ...p.permissions,
    "--config",
    posix.join(p.clone, "deno.json"),
    posix.join(p.clone, "main.ts"),
  ].map(shellWord);
  return [
    "#!/bin/sh",
    `${WRAPPER_MARK} from ${p.clone}; run it again to update, or with --uninstall.`,
    // Paths are the caller's own folder here; an inherited INIT_CWD names another's.
    // No update notice from Deno between syft's lines.
    `unset INIT_CWD; DENO_NO_UPDATE_CHECK=1 exec ${argv.join(" ")} "$@"`,
    "",
  ].join("\n");
}

/** The line to add to a shell's start-up file when `binDir` is not on PATH; null when it is. */
export function pathLine(
  binDir: string,
  path: string | undefined,
  home: string | undefined,
): string | null {
  const on = (path ?? "").split(":").some((d) => d.replace(/(.)\/$/, "$1") === binDir);
  if (on) return null;
  const shown = home && binDir.startsWith(home + "/")
    ? `$HOME${binDir.slice(home.length)}`
    : binDir;
  return `export PATH="${shown}:$PATH"`;
}

/** Parse `--bin-dir <dir>` and `--uninstall`; relative folders mean the user's folder. */
export function parseArgs(
  args: readonly string[],
  cwd: string,
): { binDir?: string; uninstall: boolean } {
  let binDir: string | undefined;
  let uninstall = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--uninstall") uninstall = true;
    else if (a === "--bin-dir" && args[i + 1] !== undefined) {
      binDir = posix.resolve(cwd, args[++i]!);
    } else if (a.startsWith("--bin-dir=")) {
      binDir = posix.resolve(cwd, a.slice("--bin-dir=".length));
    } else {throw new Error(
        `unknown argument ${JSON.stringify(a)} (use --bin-dir <dir>, --uninstall)`,
      );}
  }
  return { ...(binDir === undefined ? {} : { binDir }), uninstall };
}

/** Link the running Deno into place (a copy across file systems), atomically replacing the old one. */
async function placeDeno(target: string): Promise<void> {
  const source = Deno.execPath();
  await Deno.mkdir(posix.dirname(target), { recursive: true });
  const [from, to] = await Promise.all([Deno.stat(source), Deno.stat(target).catch(() => null)]);
  if (to !== null && to.dev === from.dev && to.ino === from.ino) return;
  const temp = `${target}.new-${crypto.randomUUID()}`;
  try {
    await Deno.link(source, temp).catch(() => Deno.copyFile(source, temp));
    await Deno.chmod(temp, 0o755);
    await Deno.rename(temp, target);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

async function writeWrapper(path: string, text: string): Promise<void> {
  await Deno.mkdir(posix.dirname(path), { recursive: true });
  const old = await Deno.readTextFile(path).catch(() => null);
  if (old !== null && !old.includes(WRAPPER_MARK)) {
    throw new Error(`${path} exists and was not written by syft's installer; move it away first`);
  }
  const temp = `${path}.new-${crypto.randomUUID()}`;
  await Deno.writeTextFile(temp, text, { mode: 0o755 });
  await Deno.chmod(temp, 0o755);
  await Deno.rename(temp, path);
}

async function uninstall(out: Output, paths: InstallPaths): Promise<void> {
  const old = await Deno.readTextFile(paths.wrapper).catch(() => null);
  if (old !== null && !old.includes(WRAPPER_MARK)) {
    throw new Error(`${paths.wrapper} was not written by syft's installer; left as it is`);
  }
  const removed: string[] = [];
  for (const p of [paths.wrapper, paths.deno]) {
    if (await Deno.remove(p).then(() => true, () => false)) removed.push(p);
  }
  await Deno.remove(posix.dirname(paths.deno)).catch(() => {}); // only when empty
  out.line(removed.length === 0 ? "syft was not installed there" : `removed ${removed.join(", ")}`);
}

async function main(args: string[]): Promise<number> {
  const out = new Output({ json: false, quiet: false }, processSink);
  try {
    const env = Deno.env.toObject();
    const cwd = userFolder(Deno.cwd(), env.INIT_CWD, CLONE) ?? Deno.cwd();
    const flags = parseArgs(args, cwd);
    const paths = installPaths(env, flags.binDir);
    if (flags.uninstall) {
      await uninstall(out, paths);
      return 0;
    }
    const permissions = taskPermissions(await Deno.readTextFile(posix.join(CLONE, "deno.json")));
    await placeDeno(paths.deno);
    await writeWrapper(
      paths.wrapper,
      wrapperScript({ deno: paths.deno, clone: CLONE, permissions }),
    );
    out.line(
      `installed ${paths.wrapper} (runs ${CLONE} with Deno ${Deno.version.deno} at ${paths.deno})`,
    );
    const line = pathLine(paths.binDir, env.PATH, env.HOME);
    if (line !== null) {
      out.line(`${paths.binDir} is not on your PATH; add this line to ~/.bashrc or ~/.zshrc:`);
      out.line(`  ${line}`);
    }
    return 0;
  } catch (err) {
    out.note(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
