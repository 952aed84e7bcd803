/**
 * Loading a datasite's permission files again (each sync round does) reuses
 * what was compiled for the same folder and text, and compiles anew what
 * changed: the cache must never make a decision by another file's rules.
 * All in memory.
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { loadDatasitePermissions } from "../../../core/permissions/mod.ts";
import { MemoryFs } from "../../../core/testing/memory_fs.ts";

const OWNER = "alice@example.com";
const BOB = "bob@example.com";
const DIR = `/sb/${OWNER}`;
const READ_X = "rules:\n  - pattern: 'x/**'\n    access:\n      read: ['*']\n";
const WRITE_ALL = "rules:\n  - pattern: '**'\n    access:\n      write: ['bob@example.com']\n";

function site(files: Record<string, string>): MemoryFs {
  const fs = new MemoryFs();
  for (const [path, text] of Object.entries(files)) write(fs, path, text);
  return fs;
}

function write(fs: MemoryFs, path: string, text: string): void {
  const abs = `${DIR}/${path}`;
  fs.mkdirSync(abs.slice(0, abs.lastIndexOf("/")), { recursive: true });
  fs.writeFileSync(abs, new TextEncoder().encode(text));
}

function may(
  engine: Awaited<ReturnType<typeof loadDatasitePermissions>>,
  path: string,
  level: "read" | "write",
): boolean {
  return engine.check(OWNER, path, BOB, level).allowed;
}

Deno.test("a permission file loaded again with the same text is compiled once and decides the same", async () => {
  const fs = site({ "public/syft.pub.yaml": READ_X, "public/x/a.csv": "1" });
  const first = await loadDatasitePermissions(DIR, { fs });
  const again = await loadDatasitePermissions(DIR, { fs });
  // The same compiled file (its frozen info) serves both engines.
  assert(first.getFile("public") === again.getFile("public"), "compiled twice");
  for (const engine of [first, again]) {
    assert(may(engine, "public/x/a.csv", "read"));
    assert(!may(engine, "public/y/a.csv", "read"));
  }
});

Deno.test("a permission file rewritten is compiled anew: the next load decides by the new text", async () => {
  const fs = site({ "public/syft.pub.yaml": READ_X });
  const before = await loadDatasitePermissions(DIR, { fs });
  assert(!may(before, "public/y/a.csv", "write"));
  write(fs, "public/syft.pub.yaml", WRITE_ALL);
  const after = await loadDatasitePermissions(DIR, { fs });
  assert(may(after, "public/y/a.csv", "write"));
  assert(may(after, "public/x/a.csv", "read"), "write implies read");
  // And back: the old text decides again, as it did.
  write(fs, "public/syft.pub.yaml", READ_X);
  const back = await loadDatasitePermissions(DIR, { fs });
  assert(!may(back, "public/y/a.csv", "write"));
  assert(may(back, "public/x/a.csv", "read"));
});

Deno.test("the same text in two folders is compiled for each folder", async () => {
  const fs = site({ "public/syft.pub.yaml": READ_X, "shared/syft.pub.yaml": READ_X });
  const engine = await loadDatasitePermissions(DIR, { fs });
  assertEquals(engine.getFile("public")?.folder, "public");
  assertEquals(engine.getFile("shared")?.folder, "shared");
  assert(may(engine, "public/x/a.csv", "read"));
  assert(may(engine, "shared/x/a.csv", "read"));
  assert(!may(engine, "x/a.csv", "read"));
  assertEquals(
    engine.check(OWNER, "shared/x/a.csv", BOB, "read").governing_file,
    "shared/syft.pub.yaml",
  );
});
