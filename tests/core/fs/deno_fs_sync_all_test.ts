/** The disk's syncAll is syncfs(2) through `sync -f`: it runs here (Linux with coreutils). */
import { assert } from "../../assert.ts";
import { denoFs } from "../../../core/fs/deno_fs.ts";
import { tempDir } from "../../_temp.ts";

Deno.test("syncAll flushes the file system of a folder in one call", async () => {
  const dir = await tempDir("syft-syncall-");
  try {
    await Deno.writeTextFile(`${dir}/a.txt`, "a");
    assert(await denoFs.syncAll(dir), "sync -f failed");
    assert(!(await denoFs.syncAll(`${dir}/missing/folder`)), "a missing path is no success");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
