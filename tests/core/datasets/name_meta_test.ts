import { SyftError } from "../../../core/errors/mod.ts";
import {
  datasetEnvVar,
  type DatasetMeta,
  datasetPermissionFile,
  mockFolder,
  parseDatasetMeta,
  parseDatasetName,
  privateFolder,
  serializeDatasetMeta,
} from "../../../core/datasets/mod.ts";
import { parsePermissionFile } from "../../../core/permissions/mod.ts";
import { assert, assertEquals, assertMatch, assertThrows } from "../../assert.ts";

function code(expected: string, message?: RegExp) {
  return (err: unknown) => {
    assert(err instanceof SyftError, String(err));
    assertEquals(err.code, expected);
    if (message) assertMatch(err.message, message);
    assert(err.hint, "every refusal has a hint");
  };
}

Deno.test("parseDatasetName() accepts the docs/cli.md grammar and nothing else", () => {
  for (const ok of ["a", "ages", "Ages-2024_v2", "0", "x".repeat(64)]) {
    assertEquals(parseDatasetName(ok), ok);
  }
  for (const bad of ["", "-a", "_a", ".a", "a.b", "a/b", "..", "a b", "x".repeat(65), "é"]) {
    assertThrows(() => parseDatasetName(bad), code("E_INPUT", /is not valid/));
  }
});

Deno.test("a dataset's folders are public/ and private/ syft_datasets/<name>", () => {
  assertEquals(mockFolder("ages"), "public/syft_datasets/ages");
  assertEquals(privateFolder("ages"), "private/syft_datasets/ages");
  assertEquals(datasetEnvVar("ages-2024"), "SYFT_DATASET_AGES_2024");
});

const META: DatasetMeta = {
  name: "ages",
  summary: "Ages: a mock of 3 rows",
  owner: "alice@example.org",
  created_at: "2025-01-02T03:04:05.678Z",
  updated_at: "2025-01-02T03:04:05.678Z",
  mock_files: [
    { path: "ages.csv", size: 12, sha256: "a".repeat(64) },
    { path: "sub/more.csv", size: 0, sha256: "0".repeat(64) },
  ],
  readme: "# Ages\n\nline two: with a colon\n",
};

Deno.test("serializeDatasetMeta() round-trips through parseDatasetMeta()", () => {
  assertEquals(parseDatasetMeta(serializeDatasetMeta(META), "x/dataset.yaml"), META);
  const noReadme = { ...META, readme: null, mock_files: [] };
  assertEquals(parseDatasetMeta(serializeDatasetMeta(noReadme), "f"), noReadme);
});

Deno.test("parseDatasetMeta() refuses a malformed file naming the file and the field", () => {
  const text = serializeDatasetMeta(META);
  const cases: [string, RegExp][] = [
    ["name: [unclosed", /line 1/],
    ["- a list", /not a mapping/],
    [text.replace("name: ages", "name: ../x"), /field "name"/],
    [text.replace("owner: alice@example.org", "owner: 42"), /field "owner" must be a string/],
    [text.replace("owner: alice@example.org", "owner: Alice"), /field "owner"/],
    [text.replace(/created_at: .*/, "created_at: yesterday"), /field "created_at"/],
    [text.replace(/updated_at: .*/, "updated_at: 2025-13-45"), /field "updated_at"/],
    [text.replace("path: ages.csv", "path: ../../etc/passwd"), /mock_files\[0\]\.path/],
    [text.replace("path: sub/more.csv", "path: ages.csv"), /repeats/],
    [text.replace("size: 12", "size: -1"), /mock_files\[0\]\.size/],
    [text.replace("size: 12", "size: 1.5"), /mock_files\[0\]\.size/],
    [text.replace("a".repeat(64), "A".repeat(64)), /mock_files\[0\]\.sha256/],
    [text.replace(/readme: [\s\S]*$/, "readme: 3\n"), /field "readme"/],
    [text.replace("mock_files:", "mock_files: 3\nold_files:"), /field "mock_files"/],
    [text + "name: again\n", /line \d+/],
  ];
  for (const [bad, message] of cases) {
    assertThrows(() => parseDatasetMeta(bad, "/r/bob@x.org/dataset.yaml"), (err) => {
      code("E_BAD_MESSAGE", message)(err);
      assertMatch((err as Error).message, /^\/r\/bob@x\.org\/dataset\.yaml is not a valid/);
      assert(!(err as Error).message.includes("\n"), "one line");
    });
  }
  assertThrows(() => parseDatasetMeta("- x", "f", { code: "E_INPUT" }), code("E_INPUT"));
});

Deno.test("parseDatasetMeta() ignores unknown keys so later versions can add fields", () => {
  const text = serializeDatasetMeta(META) + "license: CC0\n";
  assertEquals(parseDatasetMeta(text, "f"), META);
});

Deno.test("datasetPermissionFile() is a valid permission file granting read to exactly the readers", () => {
  for (const readers of [["*"], ["bob@example.org", "carol@example.org"]]) {
    const text = datasetPermissionFile(readers);
    const parsed = parsePermissionFile(text, "public/syft_datasets/ages");
    assert(parsed.ok, JSON.stringify(parsed));
    assertMatch(
      text,
      new RegExp(`read: \\[${readers.map((r) => `'${r.replace("*", "\\*")}'`).join(", ")}\\]`),
    );
  }
});
