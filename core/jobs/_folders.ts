/**
 * Listing the folders of the job tree, where a missing folder is simply empty.
 * @module
 */

/** Names of the folders directly under `dir`, sorted; none when `dir` is missing. */
export async function subfolderNames(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isDirectory) out.push(e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) return [];
    throw err;
  }
  return out.sort();
}
