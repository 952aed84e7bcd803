/**
 * The recorded rounds the crash sweeps share: each builds two peers, brings
 * them to the round at stake and records it (see `record` in _sweep.ts).
 * @module
 */
import { MemoryWorld } from "../../core/testing/world.ts";
import { record, type Recording } from "./_sweep.ts";

export const OWNER = "owner@hospital.org";
export const DS = "ds@lab.org";
/** The reader's job inbox at the owner, relative to the owner's datasite (with a final slash). */
export const INBOX_REL = `app_data/job/inbox/${DS}/`;
/** The same under the root. */
export const INBOX = `${OWNER}/${INBOX_REL.slice(0, -1)}`;

/** Two connected peers: the reader `ds` follows the owner. */
export async function peers() {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  return { world, owner, ds };
}

/** Scenario a: the owner publishes new, edited and deleted files, in subfolders, and a blob. */
export async function publishing(): Promise<Recording> {
  const { world, owner } = await peers();
  owner.writeOwn("public/keep.txt", "kept");
  owner.writeOwn("public/gone.txt", "to be deleted");
  owner.writeOwn("public/sub/old.txt", "old");
  await world.settle();
  owner.writeOwn("public/keep.txt", "edited");
  owner.remove(`${OWNER}/public/gone.txt`);
  owner.writeOwn("public/sub/old.txt", "edited too");
  for (let i = 0; i < 3; i++) owner.writeOwn(`public/new/f${i}.txt`, `new ${i}`);
  owner.writeOwn("public/big.bin", "b".repeat(300 * 1024));
  return await record(world, owner, (site) => site.sync());
}

/**
 * Scenario b: the reader applies new, edited, deleted and moved files, a
 * folder emptied, and a blob.
 */
export async function applying(): Promise<Recording> {
  const { world, owner, ds } = await peers();
  owner.writeOwn("public/keep.txt", "kept");
  owner.writeOwn("public/gone.txt", "to be deleted");
  owner.writeOwn("public/sub/old.txt", "old");
  owner.writeOwn("public/sub/deeper/gone.txt", "a folder emptied");
  owner.writeOwn("public/to-move.txt", "moved whole");
  await world.settle();
  // A move travels as a deletion and a new file (the protocol has no rename).
  world.clock.advance(1000);
  world.fs.renameSync(`${owner.datasite}/public/to-move.txt`, `${owner.datasite}/public/moved.txt`);
  owner.writeOwn("public/keep.txt", "edited");
  owner.remove(`${OWNER}/public/gone.txt`);
  owner.remove(`${OWNER}/public/sub/deeper`);
  owner.writeOwn("public/sub/old.txt", "edited too");
  for (let i = 0; i < 3; i++) owner.writeOwn(`public/new/f${i}.txt`, `new ${i}`);
  owner.writeOwn("public/big.bin", "b".repeat(300 * 1024));
  await owner.sync();
  return await record(world, ds, (site) => site.sync());
}

/** The reader's pending proposals: new files, an edit, a withdrawal, and one the owner refuses. */
async function proposed() {
  const { world, owner, ds } = await peers();
  owner.writeOwn("public/readme.txt", "owner's version");
  ds.write(`${INBOX}/job0/run.sh`, "echo old\n");
  ds.write(`${INBOX}/job0/notes.txt`, "to be withdrawn");
  await world.settle();
  ds.write(`${INBOX}/job1/run.sh`, "echo hello\n");
  ds.write(`${INBOX}/job1/data/input.csv`, "a,b\n1,2\n");
  ds.write(`${INBOX}/job0/run.sh`, "echo edited\n");
  ds.remove(`${INBOX}/job0/notes.txt`);
  ds.write(`${OWNER}/public/readme.txt`, "ds was here");
  return { world, owner, ds };
}

/** Scenario c, the proposing side: the reader's round that sends its proposals. */
export async function proposing(): Promise<Recording> {
  const { world, ds } = await proposed();
  return await record(world, ds, (site) => site.sync());
}

/** Scenario c, the judging side: the owner's round that applies and refuses them. */
export async function judging(): Promise<Recording> {
  const { world, owner, ds } = await proposed();
  await ds.sync();
  return await record(world, owner, (site) => site.sync());
}

/** The grant that lets every peer read a folder. */
const READ_GRANT = "rules:\n  - pattern: '**'\n    access:\n      read: ['*']\n";
/** The grant that makes a folder the reader's to read and write. */
const WRITE_GRANT = `rules:\n  - pattern: '**'\n    access:\n      write: ['${DS}']\n`;
/** A permission file that grants nothing: the owner revokes what it granted. */
const NO_GRANT = "rules: []\n";

/**
 * The owner, whose `shared/` the reader may write and whose `notes/` only the
 * owner reads, grants `notes/` to every peer and revokes `shared/` (scenario
 * e): the projection gains two files and loses two. Ready for the round that
 * publishes it.
 */
export async function regranted() {
  const { world, owner, ds } = await peers();
  owner.writeOwn("shared/syft.pub.yaml", WRITE_GRANT);
  owner.writeOwn("shared/a.txt", "shared a");
  owner.writeOwn("shared/sub/b.txt", "shared b");
  owner.writeOwn("notes/x.txt", "note x");
  owner.writeOwn("notes/deep/y.txt", "note y");
  await world.settle();
  owner.writeOwn("notes/syft.pub.yaml", READ_GRANT);
  owner.writeOwn("shared/syft.pub.yaml", NO_GRANT);
  return { world, owner, ds };
}
