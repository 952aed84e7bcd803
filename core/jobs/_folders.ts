/**
 * Listing the folders of the job tree, where a missing folder is simply empty.
 * @module
 */
import { denoFs } from "../fs/deno_fs.ts";
import type { LocalFs } from "../fs/local_fs.ts";

/** Names of the folders directly under `dir`, sorted; none when `dir` is missing. */
export async function subfolderNames(dir: string, fs: LocalFs = denoFs): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of fs.readDir(dir)) if (e.isDirectory) out.push(e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) return [];
    throw err;
  }
  return out.sort();
}
