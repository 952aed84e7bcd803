/**
 * Replaying a journal entry after a crash, in memory: a rename or delete
 * runs again only on the file it planned on, never on one the user put at
 * that path after the entry was written (simulation seed 2010260), and a
 * file an earlier op of the same entry put there is still ours.
 */
import { assertEquals } from "../../assert.ts";
import { type JournalEntry, replayJournals } from "../../../core/sync/journal.ts";
import { emptyChannelState, stateLayout } from "../../../core/sync/state.ts";
import { sha256Hex } from "../../../core/crypto/hash.ts";
import { MemoryFs } from "../../../core/testing/memory_fs.ts";
import { ManualClock } from "../../../core/testing/manual_clock.ts";

const PEER = "owner@hospital.org";
const MIRROR = "/root/owner@hospital.org";
const TEXT = new TextEncoder().encode("the same bytes");

function world() {
  const clock = new ManualClock();
  const fs = new MemoryFs(clock);
  const layout = stateLayout("/home/state", fs);
  fs.mkdirSync(`${MIRROR}/public`, { recursive: true });
  fs.mkdirSync(layout.journal, { recursive: true });
  fs.mkdirSync("/home/staging", { recursive: true });
  const hash = sha256Hex(TEXT);
  /** The entry, written now, as applyJournaled writes it before its ops. */
  const journal = (ops: JournalEntry["ops"]) => {
    const entry: JournalEntry = {
      peer: PEER,
      seq: 2,
      ops,
      after: emptyChannelState(PEER),
      staging: "/home/staging",
      mirror: MIRROR,
    };
    fs.writeFileSync(
      `${layout.journal}/${PEER}.json`,
      new TextEncoder().encode(JSON.stringify(entry)),
    );
  };
  const exists = (rel: string) => fs.existsSync(`${MIRROR}/${rel}`);
  return { clock, fs, layout, hash, journal, exists };
}

Deno.test("a replayed delete leaves a file the user wrote there again after the crash", async () => {
  const { clock, fs, layout, hash, journal, exists } = world();
  journal([{ op: "delete", root: MIRROR, rel: "public/a.txt", hash }]);
  clock.advance(1000);
  // The delete reached the disk before the crash; the user then wrote the same bytes again.
  fs.writeFileSync(`${MIRROR}/public/a.txt`, TEXT);
  assertEquals(await replayJournals(layout, clock), 1);
  assertEquals(exists("public/a.txt"), true);
});

Deno.test("a replayed delete that never ran before the crash runs", async () => {
  const { clock, fs, layout, hash, journal, exists } = world();
  fs.writeFileSync(`${MIRROR}/public/a.txt`, TEXT);
  clock.advance(1000);
  journal([{ op: "delete", root: MIRROR, rel: "public/a.txt", hash }]);
  clock.advance(1000);
  assertEquals(await replayJournals(layout, clock), 1);
  assertEquals(exists("public/a.txt"), false);
});

Deno.test("a replayed delete of a file an earlier op of the entry wrote before the crash runs", async () => {
  const { clock, fs, layout, hash, journal, exists } = world();
  fs.writeFileSync("/home/staging/s1", TEXT);
  journal([
    {
      op: "write",
      root: MIRROR,
      rel: "public/a.txt",
      staged: "/home/staging/s1",
      hash,
      mode: "file",
      old: null,
    },
    { op: "delete", root: MIRROR, rel: "public/a.txt", hash },
  ]);
  clock.advance(1000);
  // The write's rename reached the disk (a change time after the entry), the delete did not.
  fs.renameSync("/home/staging/s1", `${MIRROR}/public/a.txt`);
  assertEquals(await replayJournals(layout, clock), 1);
  assertEquals(exists("public/a.txt"), false);
});

Deno.test("a replayed conflict rename leaves a file the user moved back to its path", async () => {
  const { clock, fs, layout, hash, journal, exists } = world();
  fs.writeFileSync(`${MIRROR}/public/a.txt`, TEXT);
  clock.advance(1000);
  const copy = "public/a.txt.conflict.20260101T000001Z";
  journal([{ op: "rename", root: MIRROR, rel: "public/a.txt", to: copy, hash }]);
  fs.renameSync(`${MIRROR}/public/a.txt`, `${MIRROR}/${copy}`);
  clock.advance(1000);
  fs.renameSync(`${MIRROR}/${copy}`, `${MIRROR}/public/a.txt`);
  assertEquals(await replayJournals(layout, clock), 1);
  assertEquals([exists("public/a.txt"), exists(copy)], [true, false]);
});
