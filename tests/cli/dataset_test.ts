/**
 * `syft dataset …` end to end: two installations sharing one `local:` folder,
 * driven through the real CLI as child processes.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import type { SyftRun } from "../../scripts/syft_process.ts";
import { filesUnder, peered, put, type Site, world } from "../e2e/_rig.ts";

const ALICE = "alice@example.org";
const BOB = "bob@example.org";
const SECRET = "PRIVATE-d41b7c-ROWS-never-leave";
const HIDDEN_MOCK = "HIDDEN-MOCK-9f3e-for-carol-only";

function code(r: SyftRun, expected: number): void {
  assertEquals(r.code, expected, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

function json<T = unknown>(r: SyftRun): T {
  code(r, 0);
  return JSON.parse(r.stdout) as T;
}

/** Every file under `dir` whose bytes contain `needle` (relative paths). */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const bytes = new TextEncoder().encode(needle);
  const hits: string[] = [];
  for (const rel of await filesUnder(dir)) {
    const data = await Deno.readFile(posix.join(dir, rel)).catch(() => new Uint8Array());
    outer: for (let i = 0; i + bytes.length <= data.length; i++) {
      for (let j = 0; j < bytes.length; j++) if (data[i + j] !== bytes[j]) continue outer;
      hits.push(rel);
      break;
    }
  }
  return hits;
}

interface ListRow {
  name: string;
  owner: string;
  summary: string;
  mock_files: { path: string; size: number; sha256: string }[];
  updated_at: string;
}

Deno.test("dataset create → peer syncs: listed with owner, mock in the mirror, private nowhere; delete propagates", async () => {
  const { w, owner: alice, requester: bob } = await peered(BOB, ALICE);

  const src = posix.join(w.base, "src");
  await put(src, "mock/ages.csv", "age\n30\n31\n");
  await put(src, "mock/notes/about.txt", "synthetic rows\n");
  await put(src, "priv/ages.csv", `age\n${SECRET}\n`);
  await put(src, "hidden/mock.csv", `${HIDDEN_MOCK}\n`);
  await put(src, "hidden-priv/real.csv", `${SECRET}\n`);
  await put(src, "README.md", "# Ages\nA mock of ages.\n");

  const createRun = await alice.syft([
    "dataset",
    "create",
    "ages",
    "--mock",
    `${src}/mock`,
    "--private",
    `${src}/priv`,
    "--summary",
    "Ages of patients",
    "--readme",
    `${src}/README.md`,
    "--json",
  ]);
  // The sync round it runs afterwards (so bob needs no help from alice) warns about nothing.
  assertEquals(createRun.stderr, "");
  const created = json<Record<string, unknown>>(createRun);
  assertEquals(created.name, "ages");
  assertEquals(created.owner, ALICE);
  assertEquals(created.readme, "# Ages\nA mock of ages.\n");
  assertEquals(created.mock_dir, `${alice.datasite}/public/syft_datasets/ages`);
  assertEquals(created.private_dir, `${alice.datasite}/private/syft_datasets/ages`);
  assertEquals(
    (created.mock_files as ListRow["mock_files"]).map((f) => f.path),
    ["ages.csv", "notes/about.txt"],
  );
  // Only for carol: bob must never see it.
  await alice.ok([
    "dataset",
    "create",
    "secret-one",
    "--mock",
    `${src}/hidden`,
    "--private",
    `${src}/hidden-priv`,
    "--users",
    "carol@example.org",
  ]);

  await bob.ok(["sync"]);
  const seen = json<ListRow[]>(await bob.syft(["dataset", "list", "--json"]));
  assertEquals(seen.map((d) => [d.name, d.owner, d.summary]), [
    ["ages", ALICE, "Ages of patients"],
  ]);
  assertEquals(Object.keys(seen[0]!).sort(), [
    "mock_files",
    "name",
    "owner",
    "summary",
    "updated_at",
  ]);
  assertEquals(seen[0]!.mock_files, created.mock_files);
  const human = await bob.syft(["dataset", "list"]);
  code(human, 0);
  assertMatch(human.stdout, /NAME\s+OWNER\s+MOCK FILES\s+UPDATED\s+SUMMARY/);
  assertMatch(human.stdout, /ages\s+alice@example\.org\s+2\s+\S+\s+Ages of patients/);

  const mirror = `${bob.root}/${ALICE}/public/syft_datasets/ages`;
  assertEquals(await filesUnder(mirror), ["ages.csv", "dataset.yaml", "notes/about.txt"]);
  assertEquals(await Deno.readTextFile(`${mirror}/ages.csv`), "age\n30\n31\n");
  assertEquals(await filesContaining(bob.root, SECRET), [], "no private byte in bob's root");
  assertEquals(await filesContaining(w.shared, SECRET), [], "no private byte in the transport");
  assertEquals(await filesContaining(bob.root, HIDDEN_MOCK), [], "--users hides it from bob");
  assertEquals(await filesUnder(`${bob.root}/${ALICE}/private`), []);

  // dataset path prints a folder holding the mock; show on a peer's dataset has no private side.
  const path = await bob.syft(["dataset", "path", "ages"]);
  code(path, 0);
  assertEquals(path.stdout.trim(), mirror);
  const show = json<Record<string, unknown>>(await bob.syft(["dataset", "show", "ages", "--json"]));
  assertEquals(show.private_dir, null);
  assertEquals(show.readers, null);
  assertEquals(show.readme, "# Ages\nA mock of ages.\n");
  const own = json<Record<string, unknown>>(
    await alice.syft(["dataset", "show", "secret-one", "--json"]),
  );
  assertEquals(own.readers, ["carol@example.org"]);
  assertEquals(own.private_files, 1);
  const ownHuman = await alice.syft(["dataset", "show", "ages"]);
  code(ownHuman, 0);
  assertMatch(ownHuman.stdout, /private:\s+\S+private\/syft_datasets\/ages \(1 file\(s\)/);
  assertMatch(ownHuman.stdout, /readers:\s+every peer/);
  assertMatch(ownHuman.stdout, /ages\.csv\s+10\s+[0-9a-f]{64}/);

  // Bob cannot delete alice's dataset.
  const notHis = await bob.syft(["dataset", "delete", "ages", "--yes"]);
  code(notHis, 2);
  assertMatch(notHis.stderr, /^error: dataset "ages" belongs to alice@example\.org, not you$/m);

  // The same name under two owners: bare name refused naming both and the flag.
  await bob.ok([
    "dataset",
    "create",
    "ages",
    "--mock",
    `${src}/mock/ages.csv`,
    "--private",
    `${src}/README.md`,
  ]);
  const ambiguous = await bob.syft(["dataset", "path", "ages"]);
  code(ambiguous, 2);
  assertMatch(ambiguous.stderr, /^error: .*several owners: bob@example\.org, alice@example\.org$/m);
  assertMatch(ambiguous.stderr, /^hint: pass --owner <email>/m);
  const theirs = await bob.syft(["dataset", "path", "ages", "--owner", ALICE]);
  code(theirs, 0);
  assertEquals(theirs.stdout.trim(), mirror);

  // Delete needs --yes when nobody can be asked; then both folders go, and bob's copy at his next sync.
  const unconfirmed = await alice.syft(["dataset", "delete", "ages"]);
  code(unconfirmed, 2);
  assertMatch(unconfirmed.stderr, /^hint: pass --yes/m);
  assert(await Deno.stat(`${alice.datasite}/public/syft_datasets/ages`).then(() => true));
  const deleteRun = await alice.syft(["dataset", "delete", "ages", "--yes", "--json"]);
  assertEquals(deleteRun.stderr, "");
  const deleted = json<{ deleted: string[] }>(deleteRun);
  assertEquals(deleted.deleted, [created.mock_dir, created.private_dir]);
  await bob.ok(["sync"]);
  assertEquals(await filesUnder(mirror), []);
  const after = json<ListRow[]>(await bob.syft(["dataset", "list", "--json", "--owner", ALICE]));
  assertEquals(after, []);
});

/** Every entry under `dir` (folders too), so an empty folder left behind shows. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(e.isDirectory ? `${r}/` : r);
      if (e.isDirectory) await walk(posix.join(d, e.name), r);
    }
  };
  await walk(dir, "");
  return out.sort();
}

Deno.test("each bad dataset create exits 2 with one error line and a hint, and writes nothing", async () => {
  const w = await world();
  const alice: Site = await w.site(ALICE);
  const src = posix.join(w.base, "src");
  await put(src, "mock/a.csv", "a\n");
  await put(src, "priv/a.csv", "secret\n");
  await put(src, "mock-with-priv/a.csv", "a\n");
  await put(src, "mock-with-priv/real/a.csv", "secret\n");
  await put(src, "priv-with-mock/a.csv", "secret\n");
  await put(src, "priv-with-mock/m/a.csv", "a\n");
  await put(src, "linked/a.csv", "a\n");
  await Deno.symlink(`${src}/priv/a.csv`, `${src}/linked/b.csv`);
  await Deno.symlink(`${src}/mock`, `${src}/mock-link`);
  await put(src, "priv-linked/a.csv", "secret\n");
  await Deno.symlink(`${src}/priv/a.csv`, `${src}/priv-linked/b.csv`);
  await put(src, "backslash/a\\b.csv", "a\n");
  await put(src, "perm/syft.pub.yaml", "rules: []\n");
  await alice.ok([
    "dataset",
    "create",
    "taken",
    "--mock",
    `${src}/mock`,
    "--private",
    `${src}/priv`,
  ]);

  const m = `${src}/mock`;
  const p = `${src}/priv`;
  const cases: [string, string[], RegExp][] = [
    ["invalid name", ["../x", "--mock", m, "--private", p], /dataset name "\.\.\/x" is not valid/],
    ["name taken", ["taken", "--mock", m, "--private", p], /already have a dataset named "taken"/],
    ["mock missing", ["d", "--mock", `${src}/nope`, "--private", p], /mock path .* does not exist/],
    [
      "private missing",
      ["d", "--mock", m, "--private", `${src}/nope`],
      /private path .* does not exist/,
    ],
    [
      "mock a symlink",
      ["d", "--mock", `${src}/mock-link`, "--private", p],
      /mock path .*mock-link is a symlink/,
    ],
    [
      "mock holds a symlink",
      ["d", "--mock", `${src}/linked`, "--private", p],
      /linked\/b\.csv is a symlink/,
    ],
    [
      "private holds a symlink",
      ["d", "--mock", m, "--private", `${src}/priv-linked`],
      /private path .*b\.csv is a symlink/,
    ],
    ["private inside mock", [
      "d",
      "--mock",
      `${src}/mock-with-priv`,
      "--private",
      `${src}/mock-with-priv/real`,
    ], /inside the mock folder/],
    ["mock inside private", [
      "d",
      "--mock",
      `${src}/priv-with-mock/m`,
      "--private",
      `${src}/priv-with-mock`,
    ], /inside the private folder/],
    ["same path", ["d", "--mock", m, "--private", `${src}/mock/`], /are the same path/],
    [
      "bad --users",
      ["d", "--mock", m, "--private", p, "--users", "bob@example.org,carol"],
      /--users entry "carol" is not a valid email/,
    ],
    [
      "--users and --public",
      ["d", "--mock", m, "--private", p, "--users", BOB, "--public"],
      /cannot be used together/,
    ],
    [
      "refused file name",
      ["d", "--mock", `${src}/backslash`, "--private", p],
      /not a valid datasite path \(it contains a backslash/,
    ],
    [
      "permission file in mock",
      ["d", "--mock", `${src}/perm`, "--private", p],
      /syft\.pub\.yaml is a permission file/,
    ],
    [
      "missing readme",
      ["d", "--mock", m, "--private", p, "--readme", `${src}/nope.md`],
      /readme .* does not exist/,
    ],
  ];
  const before = await snapshot(alice.root);
  const runs = await Promise.all(
    cases.map(([, args]) => alice.syft(["dataset", "create", ...args])),
  );
  for (const [i, [what, , message]] of cases.entries()) {
    const r = runs[i]!;
    assertEquals(r.code, 2, `${what}: ${r.stdout}${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n");
    assertEquals(lines.length, 2, `${what}: one error line and one hint:\n${r.stderr}`);
    assertMatch(lines[0]!, /^error: /, what);
    assertMatch(lines[0]!, message, what);
    assertMatch(lines[1]!, /^hint: /, what);
    assertEquals(r.stdout, "", what);
  }
  assertEquals(await snapshot(alice.root), before, "nothing written by any refused create");

  const noMock = await alice.syft(["dataset", "create", "d", "--private", p]);
  code(noMock, 2);
  assertStringIncludes(noMock.stderr, "--mock");
  const unknown = await alice.syft(["dataset", "show", "nope"]);
  code(unknown, 2);
  assertMatch(unknown.stderr, /^error: no dataset named "nope"$/m);
  assertEquals(await snapshot(alice.root), before);
});
