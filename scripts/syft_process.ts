/**
 * Start the syft CLI as a child process with the permissions `deno task syft`
 * grants: used by the demo, the benchmarks and the end-to-end tests. It uses
 * the running deno binary directly (`Deno.execPath()`), never npx.
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";

/** The permission flags of the `syft` task in deno.json. */
export const SYFT_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-sys",
  "--allow-run",
];

/** Absolute path of main.ts. */
export const MAIN = fromFileUrl(new URL("../main.ts", import.meta.url));

/** Absolute path of deno.json (so the child finds the import map from any cwd). */
export const CONFIG = fromFileUrl(new URL("../deno.json", import.meta.url));

/** The argv that runs `syft <args>`. */
export function syftArgv(args: string[]): string[] {
  return ["run", "--quiet", "--config", CONFIG, ...SYFT_PERMISSIONS, MAIN, ...args];
}

/**
 * Deno's cache folder as this process sees it. Children often get another HOME
 * (tests isolate it); without this they would re-download every npm package.
 */
export function denoDir(): string | undefined {
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/deno`;
  const home = Deno.env.get("HOME");
  return home ? `${home}/.cache/deno` : undefined;
}

/** The environment for a child syft: ours, plus `extra`, keeping the deno cache. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const cache = denoDir();
  return { NO_COLOR: "1", ...(cache ? { DENO_DIR: cache } : {}), ...extra };
}

/** What a finished syft run printed. */
export interface SyftRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `syft <args>` to completion with extra environment variables. */
export async function runSyft(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<SyftRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: syftArgv(args),
    env: childEnv(options.env),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}
