import { assertEquals } from "../../assert.ts";
import { denoFs } from "../../../core/fs/deno_fs.ts";
import { tempDir } from "../../_temp.ts";

Deno.test("denoFs.existsSync answers the same before node:fs is loaded and after: symlinks followed", async () => {
  const dir = await tempDir("syft-exists-");
  await Deno.writeTextFile(`${dir}/file`, "x");
  await Deno.symlink(`${dir}/file`, `${dir}/link`);
  await Deno.symlink(`${dir}/gone`, `${dir}/dangling`);
  const paths = ["file", "link", "dangling", "gone", "file/under", ""].map((p) => `${dir}/${p}`);
  const expected = [true, true, false, false, false, true];
  // The first call answers through Deno.statSync and starts loading node:fs.
  assertEquals(paths.map((p) => denoFs.existsSync(p)), expected);
  await new Promise((r) => setTimeout(r, 50));
  assertEquals(paths.map((p) => denoFs.existsSync(p)), expected);
  await Deno.remove(dir, { recursive: true });
});
