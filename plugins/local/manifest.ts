/**
 * How the host starts the local-folder transport: its Worker entry, its grants
 * (read and write of the shared folder, nothing else) and its preflight.
 * @module
 */
import type { PluginManifest } from "../manifest.ts";
import { describeError, SyftError } from "../../core/errors/mod.ts";

/**
 * The manifest of the local transport on folder `dir` (absolute, normalised)
 * for `identity`.
 *
 * @example
 * ```ts
 * import { startPlugin } from "../host.ts";
 * const transport = await startPlugin(localManifest("/srv/shared", "alice@example.org"));
 * ```
 */
export function localManifest(dir: string, identity: string): PluginManifest {
  return {
    name: "local",
    entry: new URL("./worker.ts", import.meta.url),
    permissions: { read: [dir], write: [dir], net: [] },
    init: { dir, identity },
    preflight: () => preflightLocalFolder(dir),
  };
}

/**
 * Check, from the host, that `dir` exists, is a folder, and can be read and
 * written, so a wrong `--transport` is one clear error (`E_TRANSPORT`, exit 4)
 * rather than a failure deep inside the plugin.
 */
export async function preflightLocalFolder(dir: string): Promise<void> {
  const where = `local transport folder ${JSON.stringify(dir)}`;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new SyftError("E_TRANSPORT", `${where} does not exist`, {
        hint: "create it, or pass --transport local:<an existing folder>",
      });
    }
    throw new SyftError("E_TRANSPORT", `${where} cannot be read: ${describeError(err)}`, {
      hint: "check its permissions, or pass --transport local:<another folder>",
      cause: err,
    });
  }
  if (!info.isDirectory) {
    throw new SyftError("E_TRANSPORT", `${where} is not a folder`, {
      hint: "pass --transport local:<a folder>",
    });
  }
  try {
    for await (const _ of Deno.readDir(dir)) break;
  } catch (err) {
    throw new SyftError("E_TRANSPORT", `${where} cannot be read: ${describeError(err)}`, {
      hint: "check its permissions, or pass --transport local:<another folder>",
      cause: err,
    });
  }
  const problem = await notWritable(dir);
  if (problem !== null) {
    throw new SyftError("E_TRANSPORT", `${where} is not writable: ${problem}`, {
      hint: "make it writable for this user, or pass --transport local:<a writable folder>",
    });
  }
}

/**
 * Why `dir` cannot be written, or null. Mode bits do not tell (ACLs,
 * read-only mounts, root), so the kernel is asked: access(2) through
 * `test -w`, which writes nothing. A probe file would change the shared
 * root's mtime at every start, and every identity on the folder would see the
 * root as changed. Without `test`, the probe file it is.
 */
async function notWritable(dir: string): Promise<string | null> {
  try {
    const out = await new Deno.Command("test", {
      args: ["-w", dir],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success ? null : "access(2) says no for this user";
  } catch {
    // No `test` binary or no permission to run one.
  }
  try {
    const probe = await Deno.makeTempFile({ dir, prefix: ".tmp-preflight-" });
    await Deno.remove(probe);
    return null;
  } catch (err) {
    return describeError(err);
  }
}
