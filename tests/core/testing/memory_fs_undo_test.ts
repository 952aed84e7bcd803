/**
 * A crash rolls the in-memory file system back to exactly what the last fsync
 * saw (names, bytes, modes, mtimes, inodes, hard links), however many changes
 * came after and whether or not a recording ran; a file open across the crash
 * writes off the tree.
 */
import { assertEquals } from "../../assert.ts";
import { ManualClock } from "../../../core/testing/manual_clock.ts";
import { MemoryFs } from "../../../core/testing/memory_fs.ts";
import { prng } from "../../../core/random/prng.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** Every entry under `/`: kind, mode, mtime, inode and a file's text. */
function describe(fs: MemoryFs): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readDirSync(dir)) {
      const path = dir === "/" ? `/${e.name}` : `${dir}/${e.name}`;
      const info = fs.lstatSync(path);
      const body = e.isFile ? new TextDecoder().decode(fs.readFileSync(path)) : "";
      out.push(`${path} ${info.mode} ${info.mtime?.getTime()} ${info.ino} ${body}`);
      if (e.isDirectory) walk(path);
    }
  };
  walk("/");
  return out;
}

/** One random change among those a round makes (creates, writes, renames, links, removals...). */
function change(fs: MemoryFs, next: () => number, clock: ManualClock, step: number): void {
  clock.advance(1000);
  const files = fs.listTree("/").filter((p) => !p.endsWith("/l"));
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  const dir = pick(["/a", "/a/b", "/c"])!;
  const some = pick(files);
  switch (Math.floor(next() * 8)) {
    case 0:
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(`${dir}/f${step % 5}`, text(`write ${step}`));
      break;
    case 1:
      if (some) fs.writeFileSync(some, text(`append ${step}`), { append: true });
      break;
    case 2:
      if (some) fs.mkdirSync(dir, { recursive: true }), fs.renameSync(some, `${dir}/r${step % 3}`);
      break;
    case 3:
      if (some) fs.removeSync(some);
      break;
    case 4:
      if (some) fs.chmodSync(some, 0o600 + (step % 8));
      break;
    case 5:
      if (some) fs.utimeSync(some, 0, step);
      break;
    case 6:
      if (fs.existsSync("/c")) fs.removeSync("/c", { recursive: true });
      break;
    case 7:
      if (some && !fs.existsSync(`${dir}/l`) && fs.existsSync(dir)) void fs.link(some, `${dir}/l`);
      break;
  }
}

Deno.test("a crash rolls back to exactly the last fsync, after any changes, recording or not", async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const clock = new ManualClock();
    const fs = new MemoryFs(clock);
    const next = prng(seed);
    let durable = describe(fs);
    fs.mkdirSync("/a/b", { recursive: true });
    fs.writeFileSync("/a/x", text("x"));
    fs.crash();
    assertEquals(describe(fs), durable, "nothing synced yet: nothing at all");
    fs.mkdirSync("/a/b", { recursive: true });
    for (let step = 0; step < 300; step++) {
      // Recordings start and stop now and then: the crash model is the same either way.
      if (step % 100 === 40) fs.record();
      if (step % 100 === 70) fs.stopRecording();
      const r = next();
      if (r < 0.15) {
        await fs.syncAll("/");
        durable = describe(fs);
      } else if (r < 0.22) {
        fs.crash();
        assertEquals(describe(fs), durable, `seed ${seed} step ${step}`);
      } else change(fs, next, clock, step);
      await Promise.resolve();
    }
  }
});

Deno.test("a file open across a crash writes off the tree, and a hard link stays one file", async () => {
  const fs = new MemoryFs();
  fs.mkdirSync("/d");
  fs.writeFileSync("/d/f", text("synced"));
  await fs.link("/d/f", "/d/g");
  await fs.syncAll("/");
  const file = await fs.open("/d/f", { write: true });
  await file.write(text("lost"));
  fs.crash();
  await file.write(text("!"));
  file.close();
  assertEquals(new TextDecoder().decode(fs.readFileSync("/d/f")), "synced");
  fs.writeFileSync("/d/g", text("both"));
  assertEquals(new TextDecoder().decode(fs.readFileSync("/d/f")), "both");
  assertEquals(fs.lstatSync("/d/f").ino, fs.lstatSync("/d/g").ino);
});
