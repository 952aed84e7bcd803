/**
 * The bench's two log readers on fixed logs: P9's strace sum (what an idle round wrote,
 * deno's own cache apart, a call split by another thread joined) and the V8 `--prof` tally
 * behind the profiles of missed goals. The smoke test only sees them on whatever the machine
 * logs, where a parser that silently counts nothing would pass.
 * @module
 */
import { assertEquals } from "../assert.ts";
import { parseStrace } from "../../scripts/bench_fanout.ts";
import { tally } from "../../scripts/bench_profile.ts";

const CACHE = "/root/.cache/deno";

Deno.test("parseStrace: bytes per file outside deno's cache, split calls joined, ops counted", () => {
  const log = [
    `10  write(5</tmp/h/.syft/state/a.json>, ""..., 20) = 20`,
    // Interrupted by another thread, then resumed: still 100 bytes to b.json.
    `11  pwrite64(6</tmp/h/.syft/state/b.json>, ""..., 100, 0 <unfinished ...>`,
    `12  write(4<anon_inode:[eventfd]>, ""..., 8) = 8`,
    `11  <... pwrite64 resumed>)          = 100`,
    `10  write(1</dev/null>, ""..., 92) = 92`,
    `10  write(2<pipe:[123]>, ""..., 7) = 7`,
    `13  pwrite64(9<${CACHE}/dep_analysis_cache_v2-wal>, ""..., 4096, 0) = 4096`,
    `10  openat(AT_FDCWD</work>, "/tmp/h/lib.ts", O_RDONLY|O_CLOEXEC) = 7</tmp/h/lib.ts>`,
    `10  openat(AT_FDCWD</work>, "/tmp/h/.syft/state/sync.lock", O_RDWR|O_CREAT, 0600) = 8`,
    `10  openat(9</tmp/shared>, "tmp-1", O_WRONLY|O_CREAT|O_EXCL, 0600) = 10</tmp/shared/tmp-1>`,
    `10  rename("/tmp/shared/tmp-1", "/tmp/shared/x") = 0`,
    `10  unlink("/tmp/shared/gone") = -1 ENOENT (No such file or directory)`,
    `10  mkdir("${CACHE}/gen", 0777) = -1 EEXIST (File exists)`,
  ].join("\n");
  const t = parseStrace(log, CACHE);
  assertEquals(t.bytes, 120);
  assertEquals(t.top, ["/tmp/h/.syft/state/b.json 100 B", "/tmp/h/.syft/state/a.json 20 B"]);
  assertEquals(t.denoCacheBytes, 4096);
  // sync.lock opened to write, tmp-1 created (relative to its dirfd), one rename; not the
  // read-only open, the failed unlink or the cache's mkdir.
  assertEquals(t.ops, 3);
  assertEquals(t.opPaths, ["openat sync.lock", "openat tmp-1", "rename tmp-1"]);
});

Deno.test("parseStrace: an idle round's log with no writes of ours sums to zero", () => {
  const t = parseStrace(
    [
      `10  write(4<anon_inode:[eventfd]>, ""..., 8) = 8`,
      `10  pwrite64(9<${CACHE}/code_cache>, ""..., 512, 0) = 512`,
    ].join("\n"),
    CACHE,
  );
  assertEquals([t.bytes, t.ops, t.top.length, t.denoCacheBytes], [0, 0, 0, 512]);
});

Deno.test("tally: ticks go to V8's state and to the innermost module of ours or a package's", () => {
  const log = [
    "code-creation,JS,10,100,0x1000,0x100,runRound file:///repo/core/sync/round.ts:10:3,0x9,~",
    "code-creation,JS,10,101,0x2000,0x100,op ext:core/01_core.js:5:1,0x9,~",
    "code-creation,JS,10,102,0x3000,0x100,parse file:///cache/npm/registry/yaml/2.9.1/dist/x.js:1:1,0x9,~",
    "code-creation,JS,10,103,0x4000,0x100,moved file:///repo/core/a.ts:1:1,0x9,~",
    "code-move,0x4000,0x5000",
    // In the runtime's JS on our round's behalf: counts for round.ts.
    "tick,0x2010,1000,0,0x0,0,0x1010",
    // Our code itself.
    "tick,0x1020,1001,0,0x0,0",
    // A package.
    "tick,0x3010,1002,0,0x0,0",
    // GC with no JS frame at all.
    "tick,0x99999,1003,0,0x0,1",
    // Compiling, in the runtime's JS only.
    "tick,0x2020,1004,0,0x0,3",
    // Code that moved: found at its new address.
    "tick,0x5010,1005,0,0x0,0",
  ].join("\n");
  const byState = new Map<string, number>();
  const byModule = new Map<string, number>();
  assertEquals(tally(log, "/repo", byState, byModule), 6);
  assertEquals(Object.fromEntries(byState), { JS: 4, GC: 1, compile: 1 });
  assertEquals(Object.fromEntries(byModule), {
    "core/sync/round.ts": 2,
    "npm:yaml": 1,
    "(no JS frame: runtime start, native)": 1,
    "ext: (deno runtime)": 1,
    "core/a.ts": 1,
  });
});
