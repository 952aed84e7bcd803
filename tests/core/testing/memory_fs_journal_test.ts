/**
 * The recorder of MemoryFs: every mutating operation is kept in order with
 * its kind and path, and any prefix of them can be restored as a crash would
 * leave the disk, with every operation applied (in order) or only what the
 * last fsync made durable (at the barrier).
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { MemoryFs } from "../../../core/testing/memory_fs.ts";
import { writeFileAtomic } from "../../../core/fs/atomic.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** path → content of every file, for comparing trees. */
function contents(fs: MemoryFs): Record<string, string> {
  return Object.fromEntries(
    fs.listTree("/").map((p) => [p, new TextDecoder().decode(fs.readFileSync(p))]),
  );
}

Deno.test("every mutating operation is recorded with its kind and path, and reads are not", async () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d");
  fs.writeFileSync("/d/old", text("old"));
  const rec = fs.record();
  fs.mkdirSync("/d/a/b", { recursive: true });
  fs.writeFileSync("/d/f", text("x")); // create + write
  fs.writeFileSync("/d/old", text("new")); // truncate + write
  const handle = await fs.open("/d/f", { write: true, append: true });
  await handle.write(text("y"));
  await handle.sync();
  handle.close();
  fs.renameSync("/d/f", "/d/g");
  await fs.link("/d/g", "/d/h");
  fs.chmodSync("/d/g", 0o600);
  fs.utimeSync("/d/g", 1, 1);
  fs.symlinkSync("g", "/d/s");
  fs.note("put b-1");
  fs.removeSync("/d/a", { recursive: true });
  fs.readFileSync("/d/g");
  fs.lstatSync("/d/s");
  [...fs.readDirSync("/d")];
  fs.existsSync("/d/zzz");
  fs.stopRecording();
  fs.writeFileSync("/d/after", text("not recorded"));
  assertEquals(rec.ops, [
    { kind: "mkdir", path: "/d/a" },
    { kind: "mkdir", path: "/d/a/b" },
    { kind: "create", path: "/d/f" },
    { kind: "write", path: "/d/f" },
    { kind: "truncate", path: "/d/old" },
    { kind: "write", path: "/d/old" },
    { kind: "write", path: "/d/f" },
    { kind: "sync", path: "/d/f" },
    { kind: "rename", path: "/d/f", to: "/d/g" },
    { kind: "link", path: "/d/g", to: "/d/h" },
    { kind: "chmod", path: "/d/g" },
    { kind: "utime", path: "/d/g" },
    { kind: "symlink", path: "/d/s" },
    { kind: "note", path: "put b-1" },
    { kind: "remove", path: "/d/a" },
  ]);
  assertEquals(rec.length, 15);
});

Deno.test("in order, prefix i is the tree with exactly the first i operations applied", async () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d");
  fs.writeFileSync("/d/a", text("v1"));
  const rec = fs.record();
  await writeFileAtomic("/d/a", "v2", { fs });
  fs.stopRecording();
  // create temp, write, fsync, rename, fsync of the folder.
  assertEquals(rec.ops.map((o) => o.kind), ["create", "write", "sync", "rename", "sync"]);
  const temp = rec.ops[0]!.path;
  const seen = [0, 1, 2, 3, 4, 5].map((i) => {
    const crashed = new MemoryFs();
    crashed.restore(rec.at(i, "in-order"));
    return contents(crashed);
  });
  assertEquals(seen, [
    { "/d/a": "v1" },
    { "/d/a": "v1", [temp]: "" },
    { "/d/a": "v1", [temp]: "v2" },
    { "/d/a": "v1", [temp]: "v2" },
    { "/d/a": "v2" },
    { "/d/a": "v2" },
  ]);
});

Deno.test("at the barrier, prefix i keeps only what the last fsync of the prefix made durable", async () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d");
  fs.writeFileSync("/d/a", text("v1"));
  fs.flush();
  const rec = fs.record();
  fs.writeFileSync("/d/lost", text("never synced"));
  await writeFileAtomic("/d/a", "v2", { fs });
  fs.writeFileSync("/d/late", text("after the last fsync"));
  fs.stopRecording();
  const at = (i: number) => {
    const crashed = new MemoryFs();
    crashed.restore(rec.at(i, "barrier"));
    return contents(crashed);
  };
  // Before the temp's fsync nothing of the round is durable.
  for (let i = 0; i <= 3; i++) assertEquals(at(i), { "/d/a": "v1" }, `prefix ${i}`);
  const temp = rec.ops[2]!.path;
  assertEquals(at(5), { "/d/a": "v1", "/d/lost": "never synced", [temp]: "v2" });
  assertEquals(at(6), { "/d/a": "v1", "/d/lost": "never synced", [temp]: "v2" }, "rename unsynced");
  assertEquals(at(7), { "/d/a": "v2", "/d/lost": "never synced" });
  assertEquals(at(rec.length), at(7), "the late write never reached a barrier");
  assert(rec.same(7, rec.length, "barrier"));
  assert(!rec.same(7, rec.length, "in-order"));
});

Deno.test("without a flush, the barrier model starts from what was durable when recording began", () => {
  const fs = new MemoryFs();
  fs.writeFileSync("/unsynced", text("x"));
  const rec = fs.record();
  fs.stopRecording();
  const crashed = new MemoryFs();
  crashed.restore(rec.at(0, "barrier"));
  assertEquals(crashed.listTree("/"), []);
  crashed.restore(rec.at(0, "in-order"));
  assertEquals(crashed.listTree("/"), ["/unsynced"]);
});

Deno.test("a note leaves the tree as it was: its prefix is the same tree as the one before", () => {
  const fs = new MemoryFs();
  const rec = fs.record();
  fs.writeFileSync("/a", text("a"));
  fs.note("put b-1");
  fs.stopRecording();
  assert(rec.same(2, 3, "in-order"));
  assert(!rec.same(1, 2, "in-order"));
});

Deno.test("a snapshot restores as often as needed: changes after a restore never reach it", () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d");
  fs.writeFileSync("/d/a", text("a"));
  const rec = fs.record();
  fs.writeFileSync("/d/a", text("b"));
  fs.stopRecording();
  const snap = rec.at(0, "in-order");
  const one = new MemoryFs();
  one.restore(snap);
  one.writeFileSync("/d/a", text("changed"));
  one.chmodSync("/d/a", 0o600);
  one.removeSync("/d", { recursive: true });
  const two = new MemoryFs();
  two.restore(snap);
  assertEquals(contents(two), { "/d/a": "a" });
  assertEquals(two.lstatSync("/d/a").mode! & 0o777, 0o644);
  assertEquals(contents(fs), { "/d/a": "b" }, "the recorded file system goes on untouched");
});

Deno.test("a restored tree is durable, and new files never reuse its inode numbers", () => {
  const fs = new MemoryFs();
  for (let i = 0; i < 5; i++) fs.writeFileSync(`/f${i}`, text(`${i}`));
  const snap = fs.snapshot();
  const other = new MemoryFs();
  other.restore(snap);
  other.crash();
  assertEquals(other.listTree("/").length, 5, "a crash right after a restore loses nothing");
  other.writeFileSync("/new", text("n"));
  const inos = other.listTree("/").map((p) => other.lstatSync(p).ino);
  assertEquals(new Set(inos).size, inos.length);
});

Deno.test("hard links stay one file in a restored prefix", async () => {
  const fs = new MemoryFs();
  const rec = fs.record();
  fs.writeFileSync("/a", text("one"));
  await fs.link("/a", "/b");
  fs.stopRecording();
  const crashed = new MemoryFs();
  crashed.restore(rec.at(rec.length, "in-order"));
  crashed.writeFileSync("/a", text("two"));
  assertEquals(new TextDecoder().decode(crashed.readFileSync("/b")), "two");
});

Deno.test("a prefix outside the recording is refused", () => {
  const fs = new MemoryFs();
  const rec = fs.record();
  fs.writeFileSync("/a", text("a"));
  assertThrows(() => rec.at(3, "in-order"), (err) => assert(err instanceof RangeError));
  assertThrows(() => rec.at(-1, "barrier"), (err) => assert(err instanceof RangeError));
});

Deno.test("with file-sync, an atomic write shows as at the barrier: its temp file was fsynced", async () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d");
  fs.writeFileSync("/d/a", text("v1"));
  fs.flush();
  const rec = fs.record();
  await writeFileAtomic("/d/a", "v2", { fs });
  fs.stopRecording();
  for (let i = 0; i <= rec.length; i++) {
    const barrier = new MemoryFs();
    barrier.restore(rec.at(i, "barrier"));
    const own = new MemoryFs();
    own.restore(rec.at(i, "file-sync"));
    assertEquals(contents(own), contents(barrier), `prefix ${i}`);
    if (i > 0) assertEquals(rec.same(i - 1, i, "file-sync"), rec.same(i - 1, i, "barrier"));
  }
});

Deno.test("with file-sync, a file renamed into place without an fsync of its own is there but empty", async () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d");
  fs.flush();
  const rec = fs.record();
  fs.writeFileSync("/d/.staged", text("content never fsynced"));
  fs.renameSync("/d/.staged", "/d/a");
  const dir = await fs.open("/d", { read: true });
  await dir.sync();
  dir.close();
  fs.stopRecording();
  const own = new MemoryFs();
  own.restore(rec.at(rec.length, "file-sync"));
  assertEquals(contents(own), { "/d/a": "" });
  const barrier = new MemoryFs();
  barrier.restore(rec.at(rec.length, "barrier"));
  assertEquals(contents(barrier), { "/d/a": "content never fsynced" }, "one fsync covers all");
});

Deno.test("with file-sync, a file keeps the bytes of its own last fsync, whatever was written and fsynced elsewhere since", async () => {
  const fs = new MemoryFs();
  fs.writeFileSync("/a", text("at the start"));
  fs.flush();
  const rec = fs.record();
  const file = await fs.open("/a", { write: true, truncate: true });
  await file.write(text("fsynced"));
  await file.sync();
  await file.write(text(" and more, never fsynced"));
  file.close();
  await writeFileAtomic("/b", "elsewhere", { fs });
  fs.stopRecording();
  const own = new MemoryFs();
  own.restore(rec.at(rec.length, "file-sync"));
  assertEquals(contents(own), { "/a": "fsynced", "/b": "elsewhere" });
  const barrier = new MemoryFs();
  barrier.restore(rec.at(rec.length, "barrier"));
  assertEquals(contents(barrier)["/a"], "fsynced and more, never fsynced");
});
