import assert from "node:assert/strict";
import {
  checkCaseCollision,
  findCaseCollision,
  isCaseInsensitiveFs,
  parseInboundPathAt,
} from "../../../core/paths/mod.ts";
import { SyftError } from "../../../core/errors/mod.ts";

Deno.test("findCaseCollision() finds a sibling that differs only by case", () => {
  assert.equal(findCaseCollision(["notes.md", "data.csv"], "Data.CSV"), "data.csv");
});

Deno.test("findCaseCollision() sees no clash when the exact name exists", () => {
  assert.equal(findCaseCollision(["Data.csv", "data.csv"], "data.csv"), undefined);
  assert.equal(findCaseCollision(["data.csv"], "data.csv"), undefined);
});

Deno.test("findCaseCollision() sees no clash with different names", () => {
  assert.equal(findCaseCollision(["data.csv"], "data.tsv"), undefined);
  assert.equal(findCaseCollision([], "data.csv"), undefined);
});

Deno.test("findCaseCollision() compares names after NFC normalisation", () => {
  const nfd = "e\u0301te.csv";
  assert.equal(findCaseCollision(["\u00e9te.csv"], nfd), "\u00e9te.csv");
  assert.equal(findCaseCollision(["\u00c9TE.csv"], nfd), "\u00c9TE.csv");
});

Deno.test("findCaseCollision() reads any iterable of names", () => {
  assert.equal(findCaseCollision(new Set(["README.md"]), "readme.md"), "README.md");
});

/** A temp folder holding `public/Data.csv` and `private/`. */
async function makeTree(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "syft-paths-" });
  await Deno.mkdir(`${root}/public`);
  await Deno.mkdir(`${root}/private`);
  await Deno.writeTextFile(`${root}/public/Data.csv`, "x");
  return root;
}

Deno.test("checkCaseCollision() finds an existing file that differs only by case", async () => {
  const root = await makeTree();
  try {
    assert.equal(await checkCaseCollision(root, "public/data.csv"), "public/Data.csv");
    assert.equal(await checkCaseCollision(root, "Public/new.csv"), "public");
    assert.equal(await checkCaseCollision(root, ["PRIVATE"]), "private");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkCaseCollision() allows exact names and folders that do not exist yet", async () => {
  const root = await makeTree();
  try {
    assert.equal(await checkCaseCollision(root, "public/Data.csv"), undefined);
    assert.equal(await checkCaseCollision(root, "public/new/deeper/x.csv"), undefined);
    assert.equal(await checkCaseCollision(root, "public/Data.csv/below"), undefined);
    assert.equal(await checkCaseCollision(`${root}/missing`, "x"), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkCaseCollision() lists folders through the function it is given", async () => {
  const tree = new Map([["/r", ["a"]], ["/r/a", ["B.txt"]]]);
  const listNames = (dir: string) => Promise.resolve(tree.get(dir));
  assert.equal(await checkCaseCollision("/r/", "a/b.txt", { listNames }), "a/B.txt");
  assert.equal(await checkCaseCollision("/r", "a/c.txt", { listNames }), undefined);
});

Deno.test("parseInboundPathAt() refuses a case clash only on a case-insensitive file system", async () => {
  const root = await makeTree();
  try {
    assert.equal(
      await parseInboundPathAt(root, "public/data.csv", { caseInsensitive: false }),
      "public/data.csv",
    );
    await assert.rejects(parseInboundPathAt(root, "public/data.csv", { caseInsensitive: true }), {
      name: "SyftError",
      code: "E_INPUT",
      message: 'path "public/data.csv" is not a valid datasite path: ' +
        'it differs only by case from the existing "public/Data.csv"',
    });
    assert.equal(
      await parseInboundPathAt(root, "public/Data.csv", { caseInsensitive: true }),
      "public/Data.csv",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("parseInboundPathAt() still applies every inbound rule", async () => {
  await assert.rejects(
    parseInboundPathAt("/nonexistent", "../x", { caseInsensitive: true, what: "job path" }),
    (err: unknown) => {
      assert.ok(err instanceof SyftError);
      assert.equal(
        err.message,
        'job path "../x" is not a valid datasite path: it climbs out with ".."',
      );
      return true;
    },
  );
});

Deno.test("isCaseInsensitiveFs() answers for the temp folder and leaves nothing behind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "syft-paths-" });
  try {
    const answer = await isCaseInsensitiveFs(dir);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
    // The expected answer comes from the same experiment done by hand, as the
    // temp folder may sit on either kind of file system.
    await Deno.writeTextFile(`${dir}/lower`, "");
    const upperExists = await Deno.lstat(`${dir}/LOWER`).then(() => true, () => false);
    assert.equal(answer, upperExists);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
