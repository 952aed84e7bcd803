/**
 * The scan of a datasite (core/sync/scan.ts) hashes a file again whenever its
 * size, mtime or inode moved, and reuses the record of one that did not.
 * In memory.
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { MemoryFs } from "../../../core/testing/memory_fs.ts";
import { scanTree } from "../../../core/sync/scan.ts";
import { sha256Hex } from "../../../core/crypto/agree.ts";

const ROOT = "/ds";
const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("an unchanged tree keeps its records; a size, mtime or inode change is hashed again", async () => {
  const fs = new MemoryFs();
  fs.mkdirSync(`${ROOT}/public`, { recursive: true });
  for (const name of ["a", "b", "c", "d"]) {
    fs.writeFileSync(`${ROOT}/public/${name}`, bytes(`${name}1`));
  }
  const first = await scanTree(ROOT, { fs });
  const again = await scanTree(ROOT, { fs, previous: first.files });
  for (const [path, info] of first.files) assert(again.files.get(path) === info, `${path} kept`);
  // Same size, different content, each with one of size, mtime or inode moved.
  const before = (p: string) => first.files.get(`public/${p}`)!;
  fs.writeFileSync(`${ROOT}/public/a`, bytes("a22")); // size
  fs.writeFileSync(`${ROOT}/public/b`, bytes("b2"));
  fs.utimeSync(`${ROOT}/public/b`, 1, before("b").mtime / 1000 + 5); // mtime
  fs.writeFileSync(`${ROOT}/public/x`, bytes("c2"));
  fs.utimeSync(`${ROOT}/public/x`, 1, before("c").mtime / 1000);
  fs.renameSync(`${ROOT}/public/x`, `${ROOT}/public/c`); // inode only
  const third = await scanTree(ROOT, { fs, previous: again.files });
  assertEquals(third.files.get("public/a")!.hash, sha256Hex(bytes("a22")));
  assertEquals(third.files.get("public/b")!.hash, sha256Hex(bytes("b2")));
  assertEquals(third.files.get("public/c")!.hash, sha256Hex(bytes("c2")));
  const c = third.files.get("public/c")!;
  assertEquals([c.size, c.mtime], [before("c").size, before("c").mtime], "only the inode moved");
  assert(third.files.get("public/d") === again.files.get("public/d"), "d kept");
});
