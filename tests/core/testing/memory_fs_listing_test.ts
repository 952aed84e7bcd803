/**
 * The in-memory file system's shortcuts change nothing it answers: listings
 * (kept sorted between changes) follow every create, rename, link and
 * removal, and a crash; paths that are not normal name the same files as
 * their normal form; an absent file is still a NotFound naming it.
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { MemoryFs } from "../../../core/testing/memory_fs.ts";

const text = (s: string) => new TextEncoder().encode(s);
/** Throws an instance of `kind` whose message holds `part`. */
function throwsA(
  fn: () => unknown,
  kind: abstract new (...args: never[]) => Error,
  part = "",
): void {
  assertThrows(fn, (err) => {
    assert(err instanceof kind, `${err} is not a ${kind.name}`);
    assert(err.message.includes(part), `${err.message} does not name ${part}`);
  });
}
const names = (fs: MemoryFs, dir: string) => [...fs.readDirSync(dir)].map((e) => e.name);

Deno.test("a folder's listing follows every create, rename, link, removal and crash", async () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d/sub", { recursive: true });
  fs.writeFileSync("/d/b", text("b"));
  assertEquals(names(fs, "/d"), ["b", "sub"]);
  fs.writeFileSync("/d/a", text("a"));
  assertEquals(names(fs, "/d"), ["a", "b", "sub"]);
  const file = await fs.open("/d/b", { read: true });
  await file.sync(); // durable: a, b, sub
  file.close();
  fs.renameSync("/d/a", "/d/sub/z");
  assertEquals(names(fs, "/d"), ["b", "sub"]);
  assertEquals(names(fs, "/d/sub"), ["z"]);
  await fs.link("/d/b", "/d/c");
  fs.symlinkSync("/d/b", "/d/0");
  assertEquals(names(fs, "/d"), ["0", "b", "c", "sub"]);
  fs.removeSync("/d/b");
  assertEquals(fs.listTree("/d"), ["/d/0", "/d/c", "/d/sub/z"]);
  assertEquals([...fs.readDirSync("/d")][0]!.isSymlink, true);
  fs.crash();
  assertEquals(fs.listTree("/d"), ["/d/a", "/d/b"]);
  assertEquals(names(fs, "/d/sub"), []);
  fs.writeFileSync("/d/sub/y", text("y"));
  assertEquals(names(fs, "/d/sub"), ["y"]);
});

Deno.test("a path with //, . or .. names the file its normal form names", () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/a/b", { recursive: true });
  fs.writeFileSync("/a//b/./f.txt", text("one"));
  assertEquals(fs.listTree("/"), ["/a/b/f.txt"]);
  assertEquals(new TextDecoder().decode(fs.readFileSync("/a/b/../b/f.txt")), "one");
  assert(fs.existsSync("/a/b/"));
  assert(fs.existsSync("/a/./b/f.txt"));
  fs.renameSync("/a/b//f.txt", "/a/./g.txt");
  assertEquals(fs.listTree("/"), ["/a/g.txt"]);
  throwsA(() => fs.removeSync("/a/.."), Deno.errors.PermissionDenied);
});

Deno.test("an absent file is a NotFound naming the operation and the path", () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d");
  throwsA(() => fs.readFileSync("/d/none"), Deno.errors.NotFound, "readfile '/d/none'");
  throwsA(() => fs.lstatSync("/d/x/y"), Deno.errors.NotFound, "lstat '/d/x/y'");
  // A missing folder on the way is named as the folder, as on a disk's rename(2) caller.
  throwsA(() => fs.renameSync("/d/x/y", "/d/z"), Deno.errors.NotFound, "rename '/d/x'");
  throwsA(
    () => fs.openSync("/d/none", { read: true }),
    Deno.errors.NotFound,
    "open '/d/none'",
  );
  assertEquals(fs.existsSync("/d/none"), false);
  fs.writeFileSync("/d/f", text("f"));
  throwsA(() => fs.readFileSync("/d/f/deeper"), Deno.errors.NotADirectory);
  assertEquals(fs.existsSync("/d/f/deeper"), false);
});
