/**
 * The in-memory file system behaves as the disk does where the engine relies
 * on it (errors, create-only links, renames, modes, symlinks), and its crash
 * keeps only what was fsynced.
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";

/** Throws an instance of `kind`. */
function throwsA(fn: () => unknown, kind: abstract new (...args: never[]) => Error): void {
  assertThrows(fn, (err) => assert(err instanceof kind, `${err} is not a ${kind.name}`));
}
import { MemoryFs } from "../../../core/testing/memory_fs.ts";
import { ManualClock } from "../../../core/testing/manual_clock.ts";
import { syncDir, writeFileAtomic } from "../../../core/fs/atomic.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("a crash keeps what was fsynced and loses what was written after", async () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d", { recursive: true });
  await writeFileAtomic("/d/kept.txt", "kept", { fs });
  fs.writeFileSync("/d/lost.txt", text("never synced"));
  fs.crash();
  assertEquals(await fs.readTextFile("/d/kept.txt"), "kept");
  assertEquals(fs.existsSync("/d/lost.txt"), false);
  assertEquals(fs.listTree("/"), ["/d/kept.txt"]);
});

Deno.test("an atomic write leaves no temp file, and createOnly refuses an existing name", async () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d");
  await writeFileAtomic("/d/a.json", "{}", { fs, mode: 0o600 });
  assertEquals(fs.listTree("/d"), ["/d/a.json"]);
  assertEquals(fs.lstatSync("/d/a.json").mode! & 0o777, 0o600);
  let refused = false;
  await writeFileAtomic("/d/a.json", "new", { fs, createOnly: true }).catch((err) => {
    refused = err instanceof Deno.errors.AlreadyExists;
  });
  assert(refused, "createOnly over an existing file is AlreadyExists");
  assertEquals(await fs.readTextFile("/d/a.json"), "{}");
  assertEquals(fs.listTree("/d"), ["/d/a.json"]);
  await syncDir("/d", fs);
});

Deno.test("missing paths, files in the way and non-empty folders fail as on a disk", () => {
  const fs = new MemoryFs();
  throwsA(() => fs.lstatSync("/nope"), Deno.errors.NotFound);
  throwsA(() => fs.mkdirSync("/a/b"), Deno.errors.NotFound);
  fs.mkdirSync("/a/b", { recursive: true });
  throwsA(() => fs.mkdirSync("/a"), Deno.errors.AlreadyExists);
  fs.writeFileSync("/a/f", text("x"));
  throwsA(() => fs.readDirSync("/a/f/x"), Deno.errors.NotADirectory);
  throwsA(() => fs.renameSync("/a/f", "/a/b"), Deno.errors.IsADirectory);
  fs.writeFileSync("/a/b/g", text("y"));
  assertThrows(() => fs.removeSync("/a/b"));
  fs.removeSync("/a/b", { recursive: true });
  assertEquals([...fs.readDirSync("/a")].map((e) => e.name), ["f"]);
  throwsA(
    () => fs.writeFileSync("/a/f", text("z"), { createNew: true }),
    Deno.errors.AlreadyExists,
  );
});

Deno.test("symlinks are seen by lstat and followed by reads", () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d");
  fs.writeFileSync("/d/real", text("data"));
  fs.symlinkSync("real", "/d/link");
  assert(fs.lstatSync("/d/link").isSymlink);
  assertEquals(new TextDecoder().decode(fs.readFileSync("/d/link")), "data");
  const entries = [...fs.readDirSync("/d")];
  assertEquals(entries.find((e) => e.name === "link")?.isSymlink, true);
});

Deno.test("files are stamped with the clock, and utime sets the mtime in seconds", () => {
  const clock = new ManualClock(1_000_000);
  const fs = new MemoryFs(clock);
  fs.writeFileSync("/f", text("1"));
  assertEquals(fs.lstatSync("/f").mtime?.getTime(), 1_000_000);
  clock.advance(5000);
  fs.writeFileSync("/f", text("22"));
  assertEquals(fs.lstatSync("/f").mtime?.getTime(), 1_005_000);
  fs.utimeSync("/f", 900, 900);
  assertEquals(fs.lstatSync("/f").mtime?.getTime(), 900_000);
  assertEquals(fs.lstatSync("/f").size, 2);
});

Deno.test("a file lock is exclusive until the holder closes the file", async () => {
  const fs = new MemoryFs();
  const first = await fs.open("/lock", { read: true, write: true, create: true });
  await first.lock(true);
  const second = await fs.open("/lock", { read: true, write: true, create: true });
  let took = false;
  const waiting = second.lock(true).then(() => took = true);
  await new Promise((r) => setTimeout(r, 5));
  assertEquals(took, false);
  first.close();
  await waiting;
  assertEquals(took, true);
  second.close();
});

Deno.test("the manual clock moves only when told", () => {
  const clock = new ManualClock(10);
  assertEquals(clock.now(), 10);
  clock.advance(5);
  assertEquals(clock.now(), 15);
  clock.set(3);
  assertEquals(clock.now(), 3);
});

Deno.test("the change count moves with every write, name change and crash, never with a read", async () => {
  const fs = new MemoryFs();
  const enc = (s: string) => new TextEncoder().encode(s);
  let last = fs.changes;
  const moved = (what: string) => {
    assert(fs.changes > last, `${what} did not move the count`);
    last = fs.changes;
  };
  fs.mkdirSync("/d/e", { recursive: true });
  moved("mkdir");
  fs.writeFileSync("/d/a.txt", enc("one"));
  moved("write");
  await fs.readTextFile("/d/a.txt");
  fs.lstatSync("/d/a.txt");
  [...fs.readDirSync("/d")];
  fs.listTree("/");
  fs.peekFileSync("/d/a.txt");
  assertEquals(fs.changes, last, "a read moved the count");
  fs.renameSync("/d/a.txt", "/d/b.txt");
  moved("rename");
  fs.utimeSync("/d/b.txt", 1, 1);
  moved("utime");
  await fs.syncAll("/");
  fs.writeFileSync("/d/b.txt", enc("two")); // after the last fsync: a crash takes it back
  moved("rewrite");
  fs.crash();
  moved("crash");
  assertEquals(await fs.readTextFile("/d/b.txt"), "one");
  fs.removeSync("/d", { recursive: true });
  moved("remove");
});

Deno.test("peekFileSync gives a file's bytes as they stand, and a later write replaces them, never changes them", async () => {
  const fs = new MemoryFs();
  fs.writeFileSync("/a.txt", new TextEncoder().encode("before"));
  const seen = fs.peekFileSync("/a.txt");
  fs.writeFileSync("/a.txt", new TextEncoder().encode("after!"));
  assertEquals(new TextDecoder().decode(seen), "before");
  assert(fs.peekFileSync("/a.txt") !== seen, "the same array for other bytes");
  assertEquals(await fs.readTextFile("/a.txt"), "after!");
  assert(assertThrows(() => fs.peekFileSync("/")) instanceof Deno.errors.IsADirectory);
  assert(assertThrows(() => fs.peekFileSync("/none")) instanceof Deno.errors.NotFound);
});
