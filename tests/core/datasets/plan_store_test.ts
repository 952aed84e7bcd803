import { posix } from "node:path";
import { SyftError } from "../../../core/errors/mod.ts";
import {
  createDataset,
  deleteDataset,
  findDataset,
  listDatasets,
  parseDatasetMeta,
  parseReaders,
  planDatasetCreate,
  readSource,
  type Source,
} from "../../../core/datasets/mod.ts";
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../../assert.ts";
import { tempDir } from "../../_temp.ts";

const ME = "alice@example.org";
const BOB = "bob@example.org";

function syftError(expected: string, message?: RegExp) {
  return (err: unknown) => {
    assert(err instanceof SyftError, String(err));
    assertEquals(err.code, expected);
    if (message) assertMatch(err.message, message);
    assert(err.hint, "every refusal has a hint");
  };
}

function source(kind: "mock" | "private", real: string, rels: string[]): Source {
  return {
    kind,
    path: real,
    real,
    isFolder: true,
    files: rels.map((rel) => ({ rel, abs: `${real}/${rel}`, size: 1 })),
  };
}

const MOCK = source("mock", "/d/mock", ["ages.csv"]);
const PRIV = source("private", "/d/priv", ["ages.csv"]);

Deno.test("parseReaders() defaults to everyone, lower-cases --users and refuses both flags", () => {
  assertEquals(parseReaders(undefined, undefined), ["*"]);
  assertEquals(parseReaders(undefined, true), ["*"]);
  assertEquals(parseReaders(" Bob@Example.org, carol@x.org,bob@example.org", undefined), [
    BOB,
    "carol@x.org",
  ]);
  assertThrows(() => parseReaders(BOB, true), syftError("E_USAGE", /together/));
  assertThrows(() => parseReaders(",", undefined), syftError("E_USAGE"));
  assertThrows(() => parseReaders("bob", undefined), syftError("E_INPUT", /--users entry "bob"/));
});

Deno.test("planDatasetCreate() accepts disjoint sources and keeps the readers", () => {
  const plan = planDatasetCreate({ name: "ages", mock: MOCK, private: PRIV, users: BOB });
  assertEquals(plan.readers, [BOB]);
  assertEquals(plan.summary, "");
  assertEquals(plan.readme, null);
  // A single file beside the private folder is fine; so is a sibling whose name shares a prefix.
  planDatasetCreate({ name: "a", mock: source("mock", "/d/priv2", ["x"]), private: PRIV });
});

Deno.test("planDatasetCreate() refuses overlapping sources: same, private in mock, mock in private", () => {
  const cases: [Source, Source, RegExp][] = [
    [MOCK, { ...PRIV, real: MOCK.real }, /are the same path/],
    [MOCK, source("private", "/d/mock/secret", ["a"]), /private path .* is inside the mock/],
    [source("mock", "/d/priv/m", ["a"]), PRIV, /mock path .* is inside the private/],
    [source("mock", "/", ["a"]), PRIV, /inside the mock/],
  ];
  for (const [mock, priv, message] of cases) {
    assertThrows(
      () => planDatasetCreate({ name: "ages", mock, private: priv }),
      syftError("E_INPUT", message),
    );
  }
});

Deno.test("planDatasetCreate() refuses file names the inbound parser or sync would not carry", () => {
  const bad: [Source, RegExp][] = [
    [source("mock", "/d/mock", ["a\\b.csv"]), /backslash/],
    [source("mock", "/d/mock", ["a\x01.csv"]), /control character/],
    [source("mock", "/d/mock", ["x".repeat(256)]), /bytes long/],
    [source("mock", "/d/mock", ["sub/syft.pub.yaml"]), /permission file/],
    [source("mock", "/d/mock", ["dataset.yaml"]), /metadata/],
    [source("mock", "/d/mock", [`.a.tmp-${crypto.randomUUID()}`]), /temp files/],
    [source("mock", "/d/mock", ["a.csv.conflict.17"]), /conflict markers/],
    [source("mock", "/d/mock", []), /has no files/],
  ];
  for (const [mock, message] of bad) {
    assertThrows(
      () => planDatasetCreate({ name: "ages", mock, private: PRIV }),
      syftError("E_INPUT", message),
    );
  }
  assertThrows(
    () =>
      planDatasetCreate({ name: "ages", mock: MOCK, private: source("private", "/p", ["a\\b"]) }),
    syftError("E_INPUT", /private file/),
  );
  // dataset.yaml deeper down is just a file.
  planDatasetCreate({
    name: "ages",
    mock: source("mock", "/d/mock", ["sub/dataset.yaml"]),
    private: PRIV,
  });
  assertThrows(
    () => planDatasetCreate({ name: "-x", mock: MOCK, private: PRIV }),
    syftError("E_INPUT"),
  );
});

async function tree(): Promise<string> {
  const base = await tempDir("syft-datasets-");
  await Deno.mkdir(`${base}/src/mock/sub`, { recursive: true });
  await Deno.mkdir(`${base}/src/priv`, { recursive: true });
  await Deno.writeTextFile(`${base}/src/mock/ages.csv`, "age\n30\n");
  await Deno.writeTextFile(`${base}/src/mock/sub/more.csv`, "x\n");
  await Deno.writeTextFile(`${base}/src/priv/ages.csv`, "age\n41\n");
  await Deno.mkdir(`${base}/root/${ME}`, { recursive: true });
  return base;
}

Deno.test("readSource() walks a folder and a file, and refuses symlinks anywhere in it", async () => {
  const base = await tree();
  const folder = await readSource("mock", `${base}/src/mock`);
  assertEquals(folder.files.map((f) => [f.rel, f.size]), [["ages.csv", 7], ["sub/more.csv", 2]]);
  const file = await readSource("private", `${base}/src/priv/ages.csv`);
  assertEquals(file.files.map((f) => f.rel), ["ages.csv"]);
  assertEquals(file.isFolder, false);
  await assertRejects(
    () => readSource("mock", `${base}/nope`),
    syftError("E_INPUT", /does not exist/),
  );
  await Deno.symlink(`${base}/src/priv/ages.csv`, `${base}/src/link.csv`);
  await assertRejects(
    () => readSource("mock", `${base}/src/link.csv`),
    syftError("E_INPUT", /is a symlink/),
  );
  await Deno.symlink(`${base}/src/priv`, `${base}/src/mock/sub/inner`);
  await assertRejects(
    () => readSource("mock", `${base}/src/mock`),
    syftError("E_INPUT", /sub\/inner is a symlink/),
  );
});

Deno.test("createDataset() writes mock, dataset.yaml and syft.pub.yaml, private apart, no temp left", async () => {
  const base = await tree();
  const root = `${base}/root`;
  const plan = planDatasetCreate({
    name: "ages",
    mock: await readSource("mock", `${base}/src/mock`),
    private: await readSource("private", `${base}/src/priv`),
    users: BOB,
    summary: "s",
  });
  const at = new Date("2025-05-06T07:08:09.000Z");
  const made = await createDataset(root, ME, plan, () => at);
  assertEquals(made.mock_dir, `${root}/${ME}/public/syft_datasets/ages`);
  assertEquals(made.private_dir, `${root}/${ME}/private/syft_datasets/ages`);
  const names = [...Deno.readDirSync(made.mock_dir)].map((e) => e.name).sort();
  assertEquals(names, ["ages.csv", "dataset.yaml", "sub", "syft.pub.yaml"]);
  assertEquals([...Deno.readDirSync(posix.dirname(made.mock_dir))].map((e) => e.name), ["ages"]);
  assertEquals(await Deno.readTextFile(`${made.private_dir}/ages.csv`), "age\n41\n");
  const meta = parseDatasetMeta(await Deno.readTextFile(`${made.mock_dir}/dataset.yaml`), "f");
  assertEquals(meta, made.meta);
  assertEquals(meta.created_at, at.toISOString());
  assertEquals(meta.mock_files.map((f) => [f.path, f.size]), [["ages.csv", 7], [
    "sub/more.csv",
    2,
  ]]);
  assertMatch(
    await Deno.readTextFile(`${made.mock_dir}/syft.pub.yaml`),
    /read: \['bob@example\.org'\]/,
  );
  await assertRejects(() => createDataset(root, ME, plan), syftError("E_EXISTS"));

  // A copy that fails half-way leaves nothing behind.
  const broken = { ...plan, name: "broken" };
  broken.private = {
    ...plan.private,
    files: [...plan.private.files, { rel: "gone.csv", abs: `${base}/src/gone.csv`, size: 1 }],
  };
  await assertRejects(() => createDataset(root, ME, broken), syftError("E_INPUT", /cannot copy/));
  assertEquals([...Deno.readDirSync(`${root}/${ME}/public/syft_datasets`)].map((e) => e.name), [
    "ages",
  ]);
  assertEquals([...Deno.readDirSync(`${root}/${ME}/private/syft_datasets`)].map((e) => e.name), [
    "ages",
  ]);

  assertEquals(await deleteDataset(root, ME, "ages"), [made.mock_dir, made.private_dir]);
  assertEquals([...Deno.readDirSync(`${root}/${ME}/public/syft_datasets`)], []);
  assertEquals([...Deno.readDirSync(`${root}/${ME}/private/syft_datasets`)], []);
});

Deno.test("listDatasets() finds own and mirrored datasets, skipping broken ones with a problem", async () => {
  const base = await tree();
  const root = `${base}/root`;
  const mk = async (owner: string, name: string) => {
    const plan = planDatasetCreate({
      name,
      mock: await readSource("mock", `${base}/src/mock`),
      private: await readSource("private", `${base}/src/priv`),
    });
    return await createDataset(root, owner, plan);
  };
  await mk(ME, "ages");
  await mk(BOB, "ages");
  await mk(BOB, "zeta");
  // A peer's dataset.yaml that claims another owner, one that does not parse, one missing.
  const forged = await mk("carol@example.org", "forged");
  const yaml = `${forged.mock_dir}/dataset.yaml`;
  await Deno.writeTextFile(yaml, (await Deno.readTextFile(yaml)).replace("carol@", "dave@"));
  await Deno.mkdir(`${root}/carol@example.org/public/syft_datasets/broken`);
  await Deno.writeTextFile(
    `${root}/carol@example.org/public/syft_datasets/broken/dataset.yaml`,
    "[",
  );
  await Deno.mkdir(`${root}/carol@example.org/public/syft_datasets/empty`);
  await Deno.mkdir(`${root}/not-a-peer/public/syft_datasets/x`, { recursive: true });

  const problems: string[] = [];
  const all = await listDatasets(root, ME, { onProblem: (p) => problems.push(p) });
  assertEquals(all.map((d) => [d.owner, d.name]), [[ME, "ages"], [BOB, "ages"], [BOB, "zeta"]]);
  assertEquals(all[1]!.location, `${root}/${BOB}/public/syft_datasets/ages`);
  assertEquals(problems.length, 3, problems.join("\n"));
  assertMatch(problems.join("\n"), /"broken" of carol@example\.org/);
  assertMatch(problems.join("\n"), /names dataset "forged" of dave@example\.org/);
  assertMatch(problems.join("\n"), /empty.*is missing/);
  const bobs = await listDatasets(root, ME, { owner: BOB });
  assertEquals(bobs.map((d) => d.name), ["ages", "zeta"]);

  await assertRejects(
    () => findDataset(root, ME, "ages"),
    syftError("E_INPUT", /several owners: alice@example\.org, bob@example\.org/),
  );
  assertEquals((await findDataset(root, ME, "ages", BOB)).owner, BOB);
  assertEquals((await findDataset(root, ME, "zeta")).owner, BOB);
  await assertRejects(() => findDataset(root, ME, "nope"), syftError("E_INPUT", /no dataset/));
  await assertRejects(() => findDataset(root, ME, "broken"), syftError("E_BAD_MESSAGE"));
});
