/**
 * Proposals in memory: a peer's write where the owner's permissions allow it
 * is applied at the owner; one where they do not is refused, kept as a
 * `.rejected` copy at the proposer, and the mirror goes back to the owner's
 * version.
 */
import { assert, assertEquals } from "../../../assert.ts";
import { MemoryWorld } from "../../../../core/testing/world.ts";
import { loadChannelState } from "../../../../core/sync/state.ts";
import { SyftError } from "../../../../core/errors/mod.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

Deno.test("a proposal into the peer's inbox is applied at the owner and stays in the mirror", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);

  ds.write(`${OWNER}/app_data/job/inbox/${DS}/job1/run.sh`, "echo hello\n");
  await world.settle();
  assertEquals(owner.read(`${OWNER}/app_data/job/inbox/${DS}/job1/run.sh`), "echo hello\n");
  assertEquals(ds.read(`${OWNER}/app_data/job/inbox/${DS}/job1/run.sh`), "echo hello\n");
  assertEquals(ds.files(OWNER).filter((f) => f.includes(".rejected")), []);

  // An accepted proposal can delete too.
  ds.remove(`${OWNER}/app_data/job/inbox/${DS}/job1/run.sh`);
  await world.settle();
  assertEquals(owner.read(`${OWNER}/app_data/job/inbox/${DS}/job1/run.sh`), null);
});

Deno.test("a proposal the owner may refuse is refused: a .rejected copy, the owner's version back, the reason told both sides", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  owner.writeOwn("public/readme.txt", "owner's version");
  await world.settle();

  ds.write(`${OWNER}/public/readme.txt`, "ds was here");
  await world.settle();
  assertEquals(owner.read(`${OWNER}/public/readme.txt`), "owner's version");
  assertEquals(ds.read(`${OWNER}/public/readme.txt`), "owner's version");
  const copies = ds.files(`${OWNER}/public`).filter((f) =>
    /^owner@hospital\.org\/public\/readme\.txt\.rejected\.\d{8}T\d{6}Z$/.test(f)
  );
  assertEquals(copies.length, 1, ds.files(OWNER).join(", "));
  assertEquals(ds.read(copies[0]!), "ds was here");

  const judged = owner.rounds.flatMap((r) => r.rejections);
  assertEquals(judged.map((r) => [r.peer, r.path, r.reason]), [[
    DS,
    "public/readme.txt",
    "permission",
  ]]);
  const told = ds.rounds.flatMap((r) => r.refused);
  assert(
    told.some((r) => r.path === "public/readme.txt" && r.peer === OWNER),
    JSON.stringify(told),
  );
});

Deno.test("a proposal into private/ never leaves the proposer", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  ds.write(`${OWNER}/private/steal.txt`, "x");
  await world.settle();
  assertEquals(owner.files(`${OWNER}/private`), [`${OWNER}/private/syft.pub.yaml`]);
  assert(
    ds.files(`${OWNER}/private`).some((f) => /steal\.txt\.rejected\./.test(f)),
    ds.files(OWNER).join(", "),
  );
  assert(
    ds.warnings.some((w) => /private\/ is never writable by peers/.test(w)),
    ds.warnings.join("\n"),
  );
});

Deno.test("a local refusal keeps its reason when the round dies right after the copy is made", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  // ds lost its state/: its writer lists its channel before it publishes.
  world.fs.removeSync(`/sites/${DS}/home/state`, { recursive: true });
  ds.write(`${OWNER}/private/steal.txt`, "x");
  // From the moment the copy is made (it is said as a warning), every
  // listing of ds fails: the round dies before its own save of the channel
  // state (simulation seed 7004022: a listing timed out there).
  let dying = false;
  const warn = ds.ctx.warn;
  ds.ctx.warn = (message: string) => {
    if (message.includes("kept as")) dying = true;
    warn(message);
  };
  world.storage.faults = {
    fail: (op, identity) =>
      dying && identity === DS && op === "list"
        ? new SyftError("E_TRANSPORT", "list: timed out after 30 s")
        : undefined,
  };
  await ds.sync().catch(() => {});
  assert(dying, "the copy was made");
  ds.ctx.warn = warn;
  world.storage.faults = null;
  const copies = ds.files(`${OWNER}/private`).filter((f) => /steal\.txt\.rejected\./.test(f));
  assertEquals(copies.length, 1, ds.files(OWNER).join(", "));
  const state = await loadChannelState(ds.ctx.layout, OWNER);
  assertEquals(
    state.refused.map((r) => [`${OWNER}/private/${r.copy.split("/").pop()}`, r.detail]),
    [[copies[0], "private/ is never writable by peers"]],
  );
  await world.settle();
  assertEquals(
    (await loadChannelState(ds.ctx.layout, OWNER)).refused.length,
    1,
    "listed while kept",
  );
});

Deno.test("a mirror file renamed over another applied in the same batch (same size, same second) is proposed", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  owner.writeOwn(
    "shared/syft.pub.yaml",
    `rules:\n  - pattern: '**'\n    access:\n      write: ['${DS}']\n`,
  );
  await world.connect(ds, owner);
  // Same size, one batch: the reader stamps both with the same mtime.
  owner.writeOwn("shared/a.txt", "aaaa");
  world.fs.writeFileSync(`${owner.datasite}/shared/b.txt`, new TextEncoder().encode("bbbb"));
  await world.settle();
  // The user moves a.txt over b.txt: b.txt keeps a.txt's size and mtime (simulation seed 101).
  world.fs.renameSync(
    `${ds.ctx.root}/${OWNER}/shared/a.txt`,
    `${ds.ctx.root}/${OWNER}/shared/b.txt`,
  );
  await world.settle();
  assertEquals(owner.read(`${OWNER}/shared/b.txt`), "aaaa");
  assertEquals(owner.read(`${OWNER}/shared/a.txt`), null);
});
