/**
 * A peer's state stored as a head, bases and a delta log (core/sync/state.ts,
 * docs/sync.md): a save writes what changed, a crash at any instant reads
 * back as the old or the new state, an older flat file loads and migrates.
 * All in memory.
 * @module
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { type CrashModel, MemoryFs } from "../../../core/testing/memory_fs.ts";
import {
  type ChannelState,
  emptyChannelState,
  type FileInfo,
  loadChannelState,
  loadIndex,
  saveChannelState,
  saveIndex,
  stateLayout,
} from "../../../core/sync/state.ts";
import {
  addedKeyBytes,
  diffPart,
  LogGap,
  logLine,
  readLog,
  storedPart,
  storedPartAndText,
} from "../../../core/sync/state_delta.ts";
import type { FileChangeEvent } from "../../../core/events/types.ts";

const PEER = "ds@lab.org";
const PARTS = "/home/state/channel_parts";

function event(path: string, hash: string): FileChangeEvent {
  return {
    id: `id-${path}-${hash}`,
    datasite: "do@x.org",
    path,
    old_hash: null,
    new_hash: hash,
    size: 4096,
    deleted: false,
    mode: "file",
    submitted_at: 1,
  } as FileChangeEvent;
}

/** A state as a datasite of `files` files leaves it. */
function bigState(files: number): ChannelState {
  const s = emptyChannelState(PEER);
  for (let i = 0; i < files; i++) {
    const path = `public/f${String(i).padStart(6, "0")}.bin`;
    const hash = i.toString(16).padStart(64, "0");
    s.published[path] = hash;
    s.mirror[path] = { hash, size: 4096, mtime: 1000 + i, mode: "file", ino: i + 7 };
    s.rolling.events[path] = event(path, hash);
  }
  return { ...s, next_seq: 3, cursor: 2, published_once: true, seq_known: true };
}

/** `s` with `k` files changed. */
function changed(s: ChannelState, k: number, tag = "a"): ChannelState {
  const next = structuredClone(s);
  for (let i = 0; i < k; i++) {
    const path = `public/f${String(i).padStart(6, "0")}.bin`;
    const hash = `${tag}${i}`.padStart(64, "e");
    next.published[path] = hash;
    next.rolling.events[path] = event(path, hash);
  }
  next.next_seq++;
  next.rolling.count += k;
  return next;
}

function bytesIn(fs: MemoryFs): Map<string, number> {
  const out = new Map<string, number>();
  for (const path of fs.listTree("/home/state")) {
    try {
      out.set(path, fs.readFileSync(path).byteLength);
    } catch {
      // a folder
    }
  }
  return out;
}

/** Bytes of files that are new or changed between two listings. */
function written(before: Map<string, number>, after: Map<string, number>): number {
  let n = 0;
  for (const [path, size] of after) {
    if (before.get(path) !== size) n += size - (before.get(path) ?? 0);
  }
  return n;
}

Deno.test("a saved state loads back equal, parts, pending put and all", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const s0 = bigState(50);
  await saveChannelState(layout, s0);
  const s1 = changed(s0, 3);
  const withPut = { ...s0, pending_put: { seq: 3, after: s1 } };
  await saveChannelState(layout, withPut);
  assertEquals(await loadChannelState(layout, PEER), withPut);
  await saveChannelState(layout, s1);
  assertEquals(await loadChannelState(layout, PEER), s1);
  const deleted = structuredClone(s1);
  delete deleted.published["public/f000007.bin"];
  delete deleted.mirror["public/f000008.bin"];
  await saveChannelState(layout, deleted);
  assertEquals(await loadChannelState(layout, PEER), deleted);
});

Deno.test("a save that changes k files of 10,000 writes O(k) bytes, not the datasite", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const s0 = bigState(10_000);
  await saveChannelState(layout, s0);
  const whole = written(new Map(), bytesIn(fs));
  assert(whole > 2_000_000, `the first save writes it all (${whole} B)`);
  let s = s0;
  for (const k of [1, 10]) {
    const before = bytesIn(fs);
    s = changed(s, k, `k${k}`);
    await saveChannelState(layout, s);
    const w = written(before, bytesIn(fs));
    // The head (a few hundred bytes here) plus ~600 B per changed file.
    assert(w < 1_500 + 700 * k, `${k} changed: ${w} B written`);
  }
  assertEquals(await loadChannelState(layout, PEER), s);
});

/** Another process on the same disk: it shares no memory with the one before. */
function anotherProcess(fs: MemoryFs): MemoryFs {
  return new Proxy(fs, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test("a process's first save is a delta too, whether or not it loaded first", async () => {
  const disk = new MemoryFs();
  const s0 = bigState(2_000);
  await saveChannelState(stateLayout("/home/state", disk), s0);
  let s = s0;
  for (const load of [true, false]) {
    const layout = stateLayout("/home/state", anotherProcess(disk));
    if (load) s = await loadChannelState(layout, PEER);
    const before = bytesIn(disk);
    s = changed(s, 1, `p${load}`);
    await saveChannelState(layout, s);
    const w = written(before, bytesIn(disk));
    assert(w < 2_500, `${load ? "after a load" : "without one"}: ${w} B written`);
    assertEquals(await loadChannelState(layout, PEER), s);
  }
});

Deno.test("a map emptied by a checkpoint is saved as emptied, not key by key", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const s0 = bigState(2_000);
  await saveChannelState(layout, s0);
  const before = bytesIn(fs);
  const s1 = changed(s0, 1, "cp");
  s1.rolling = { events: { x: event("x", "1".repeat(64)) }, count: 1, ci_since_cf: 1 };
  await saveChannelState(layout, s1);
  const w = written(before, bytesIn(fs));
  assert(w < 2_500, `${w} B written`);
  assertEquals(await loadChannelState(layout, PEER), s1);
});

Deno.test("an unchanged save writes nothing", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const s = bigState(100);
  await saveChannelState(layout, s);
  const before = bytesIn(fs);
  const syncs = fs.syncs;
  await saveChannelState(layout, structuredClone(await loadChannelState(layout, PEER)));
  assertEquals(written(before, bytesIn(fs)), 0);
  assertEquals(fs.syncs, syncs);
});

Deno.test("the log is folded into new bases once it outgrows a quarter of them", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  let s = bigState(2_000);
  await saveChannelState(layout, s);
  const gens = () => new Set(fs.listTree(PARTS).map((p) => p.split(".").at(-2)));
  const first = gens();
  for (let i = 0; i < 200 && gens().size === 1 && [...gens()][0] === [...first][0]; i++) {
    s = changed(s, 20, `r${i}`);
    await saveChannelState(layout, s);
  }
  assert(![...gens()].includes([...first][0]!), "a new generation replaced the first");
  assertEquals(gens().size, 1, "the old generation's files are removed");
  assertEquals(await loadChannelState(layout, PEER), s);
});

Deno.test("an older flat state file loads whole, and its next save migrates it", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const s = bigState(20);
  const { judged: _j, refused: _r, ...older } = s;
  fs.mkdirSync("/home/state/channels", { recursive: true });
  fs.writeFileSync(
    `/home/state/channels/${PEER}.json`,
    new TextEncoder().encode(JSON.stringify(older)),
  );
  const loaded = await loadChannelState(layout, PEER, []);
  assertEquals(loaded, s, "whole, whatever `only` asks");
  const next = changed(loaded, 2);
  await saveChannelState(layout, next);
  const head = JSON.parse(await fs.readTextFile(`/home/state/channels/${PEER}.json`));
  assert(head.store && !("published" in head), "the head no longer holds the parts");
  assertEquals(await loadChannelState(layout, PEER), next);
});

Deno.test("a head-only load leaves the parts out and cannot be saved", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const s = bigState(20);
  await saveChannelState(layout, s);
  const head = await loadChannelState(layout, PEER, []);
  assertEquals(head.cursor, s.cursor);
  assertEquals(Object.keys(head.published).length, 0);
  assertThrows(() => {
    (head.published as Record<string, string>)["x"] = "y";
  });
  let refused = false;
  await saveChannelState(layout, { ...head, cursor: 9 }).catch(() => refused = true);
  assert(refused, "a partial state is never saved");
  const mirrorOnly = await loadChannelState(layout, PEER, ["mirror"]);
  assertEquals(mirrorOnly.mirror, s.mirror);
});

Deno.test("a torn or uncommitted log tail is ignored, and the next save is read back", () => {
  const line = (n: number) =>
    `\n${JSON.stringify({ n, ops: { published: { s: { a: `${n}` } } } })}`;
  const torn = `${line(1)}${line(2)}${line(3).slice(0, 9)}`;
  assertEquals(readLog(torn, 2).ops.length, 2);
  assertEquals(readLog(torn, 2).clean, false);
  // Save 3 torn, made again after the crash: its new line is ended off from the torn one.
  const again = `${torn}${line(3)}`;
  assertEquals(readLog(again, 3).ops[2], { published: { s: { a: "3" } } });
  // A line past the head's count is a save never committed.
  assertEquals(readLog(`${line(1)}${line(2)}`, 1).ops.length, 1);
  assertThrows(() => readLog(line(1), 2), (err) => assert(err instanceof LogGap));
});

/** Every prefix of `save`'s writes, under every crash model, reads back as `old` or `next`. */
async function sweep(
  fs: MemoryFs,
  old: ChannelState,
  next: ChannelState,
  save: () => Promise<void>,
): Promise<number> {
  const layout = stateLayout("/home/state", fs);
  fs.flush();
  const recording = fs.record();
  await save();
  fs.stopRecording();
  let points = 0;
  for (let i = 0; i <= recording.length; i++) {
    for (const model of ["in-order", "barrier", "file-sync"] as CrashModel[]) {
      fs.restore(recording.at(i, model));
      const got = await loadChannelState(layout, PEER);
      const isOld = JSON.stringify(got) === JSON.stringify(old);
      assert(
        isOld || JSON.stringify(got) === JSON.stringify(next),
        `after ${i} op(s), ${model}: neither the old state nor the new`,
      );
      // And the state goes on from there: a further save reads back.
      const further = changed(got, 2, `c${i}`);
      await saveChannelState(layout, further);
      assertEquals(await loadChannelState(layout, PEER), further);
      points++;
    }
  }
  return points;
}

Deno.test("a load after the disk rolled back to a head of the same text reads the disk, not what the process saved", async () => {
  // A load reuses the parts the process saved under the head it reads; a head
  // of the same text (same generation and save count) put back from under it
  // is another save, not that one.
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const s0 = bigState(8);
  await saveChannelState(layout, s0);
  const s1 = changed(s0, 2, "one");
  const other = changed(s0, 2, "other"); // s1's head fields, other parts
  const before = fs.snapshot();
  await saveChannelState(layout, s1);
  const after = fs.snapshot();
  fs.restore(before);
  await saveChannelState(layout, other);
  assertEquals(await loadChannelState(layout, PEER), other);
  fs.restore(after);
  // A head-only load first: it learns the head, and must forget the parts too.
  assertEquals((await loadChannelState(layout, PEER, [])).next_seq, s1.next_seq);
  assertEquals(await loadChannelState(layout, PEER), s1);
  assertEquals(await loadChannelState(layout, PEER), s1, "and again, the head now known");

  const index = bigIndex(5);
  await saveIndex(layout, index);
  const base = fs.snapshot();
  const withA = new Map([...index, ["public/a.bin", index.get("public/f0.bin")!]]);
  await saveIndex(layout, withA);
  const saved = fs.snapshot();
  fs.restore(base);
  const withB = new Map([...index, ["public/b.bin", index.get("public/f1.bin")!]]);
  await saveIndex(layout, withB);
  assertEquals(await loadIndex(layout), withB);
  fs.restore(saved);
  assertEquals(await loadIndex(layout), withA);
  assertEquals(await loadIndex(layout), withA, "and again, the head now known");
});

Deno.test("a crash during a delta save reads back as the old state or the new", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const s0 = bigState(30);
  await saveChannelState(layout, s0);
  const s1 = changed(s0, 3, "one");
  await saveChannelState(layout, s1);
  const s2 = { ...changed(s1, 2, "two"), pending_put: { seq: 9, after: changed(s1, 4, "put") } };
  assert(await sweep(fs, s1, s2, () => saveChannelState(layout, s2)) > 6);
});

Deno.test("a crash during a migration or compaction reads back as the old state or the new", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const old = bigState(30);
  fs.mkdirSync("/home/state/channels", { recursive: true });
  fs.writeFileSync(
    `/home/state/channels/${PEER}.json`,
    new TextEncoder().encode(JSON.stringify(old)),
  );
  const next = changed(old, 3, "mig");
  assert(await sweep(fs, old, next, () => saveChannelState(layout, next)) > 6);
});

function bigIndex(files: number, tag = ""): Map<string, FileInfo> {
  const index = new Map<string, FileInfo>();
  for (let i = 0; i < files; i++) {
    const hash = `${tag}${i}`.padStart(64, "0");
    index.set(`public/f${i}.bin`, { hash, size: 4096, mtime: 1000 + i, mode: "file", ino: i });
  }
  return index;
}

Deno.test("the index is saved as a delta, reads back equal, and an older flat index migrates", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const older = bigIndex(5_000);
  fs.mkdirSync("/home/state", { recursive: true });
  fs.writeFileSync(
    "/home/state/index.json",
    new TextEncoder().encode(JSON.stringify(Object.fromEntries(older))),
  );
  assertEquals(await loadIndex(layout), older);
  let index = new Map(older);
  index.set("public/new.bin", { hash: "9".repeat(64), size: 1, mtime: 5, mode: "exec" });
  await saveIndex(layout, index); // migrates: written whole once
  for (const [i, k] of [[1, 1], [2, 10]] as const) {
    const before = bytesIn(fs);
    index = new Map(index);
    for (let j = 0; j < k; j++) index.delete(`public/f${j + i * 100}.bin`);
    index.set(`public/k${k}.bin`, { hash: "8".repeat(64), size: 2, mtime: 6, mode: "file" });
    await saveIndex(layout, index);
    const w = written(before, bytesIn(fs));
    assert(w < 300 + 100 * k, `${k} changed: ${w} B written`);
    assertEquals(await loadIndex(layout), index);
    // Another process reads the same.
    assertEquals(await loadIndex(stateLayout("/home/state", anotherProcess(fs))), index);
  }
  const before = bytesIn(fs);
  await saveIndex(stateLayout("/home/state", anotherProcess(fs)), new Map(index));
  assertEquals(written(before, bytesIn(fs)), 0, "an unchanged index writes nothing");
});

Deno.test("a crash during an index save reads back as the old index or the new", async () => {
  const fs = new MemoryFs();
  const layout = stateLayout("/home/state", fs);
  const old = bigIndex(50);
  await saveIndex(layout, old);
  const next = new Map(old);
  next.delete("public/f3.bin");
  next.set("public/x.bin", { hash: "7".repeat(64), size: 3, mtime: 9, mode: "file" });
  fs.flush();
  const recording = fs.record();
  await saveIndex(layout, next);
  fs.stopRecording();
  for (let i = 0; i <= recording.length; i++) {
    for (const model of ["in-order", "barrier", "file-sync"] as CrashModel[]) {
      fs.restore(recording.at(i, model));
      const got = await loadIndex(layout);
      assert(
        JSON.stringify([...got]) === JSON.stringify([...old]) ||
          JSON.stringify([...got]) === JSON.stringify([...next]),
        `after ${i} op(s), ${model}: neither the old index nor the new`,
      );
      const further = new Map(got);
      further.set(`public/c${i}.bin`, { hash: "6".repeat(64), size: 1, mtime: 1, mode: "file" });
      await saveIndex(layout, further);
      assertEquals(await loadIndex(layout), further);
    }
  }
});

Deno.test("a part stored with its text is what JSON.stringify and storedPart give, each value stringified once", () => {
  const record = { 'é"x': { hash: "h", n: [1, 2] }, "2": null, "1": "s", gone: undefined, z: {} };
  const { part, text } = storedPartAndText(record);
  assertEquals(text, JSON.stringify(record));
  assertEquals([...part], [...storedPart(record)].filter(([, v]) => v !== undefined));
});

Deno.test("the bytes counted for a save's new keys never exceed the log line its delta takes", () => {
  for (let k = 0; k < 500; k++) {
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) {
      const key = `${Math.random().toString(36).slice(2, 2 + (k % 7))}${"é".repeat(k % 3)}`;
      if (Math.random() < 0.5) before[key] = { h: i };
      if (Math.random() < 0.5) after[key] = Math.random() < 0.5 ? { h: i } : 1;
    }
    const stored = storedPart(before);
    const ops = diffPart(stored, after);
    const line = ops ? new TextEncoder().encode(logLine(1, { published: ops })).byteLength : 0;
    const counted = addedKeyBytes(stored, after);
    assert(counted <= line, `${counted} counted, the line is ${line}`);
    assert(counted === 0 || ops !== undefined);
  }
});
