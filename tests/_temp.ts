/**
 * Temp folders for tests that are removed when the test module unloads, even
 * after a failed assertion skipped the test's own clean-up.
 * @module
 */

const made = new Set<string>();
globalThis.addEventListener("unload", () => {
  for (const dir of made) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Removed already by its test.
    }
  }
});

/** A new temp folder (named `prefix…` when given), removed at the latest at unload. */
export async function tempDir(prefix?: string): Promise<string> {
  const dir = await Deno.makeTempDir(prefix === undefined ? {} : { prefix });
  made.add(dir);
  return dir;
}
