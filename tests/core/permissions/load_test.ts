import { posix } from "node:path";
import {
  loadDatasitePermissions,
  MAX_PERMISSION_FILE_BYTES,
  reloadPermissionFile,
} from "../../../core/permissions/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";

const OWNER = "alice@example.com";
const READ_ALL = "rules:\n  - pattern: '**'\n    access:\n      read: ['*']\n";

async function datasite(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "syft-perm-" });
  const dir = posix.join(root, OWNER);
  await Deno.mkdir(dir);
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(posix.dirname(posix.join(dir, path)), { recursive: true });
    await Deno.writeTextFile(posix.join(dir, path), text);
  }
  return dir;
}

Deno.test("loadDatasitePermissions reads every syft.pub.yaml of a datasite", async () => {
  const dir = await datasite({
    "syft.pub.yaml": "rules: []\n",
    "public/syft.pub.yaml": READ_ALL,
    "public/data.csv": "x",
    "a/b/c/syft.pub.yaml": "rules: [",
    "a/Syft.pub.yaml": READ_ALL,
  });
  try {
    const e = await loadDatasitePermissions(dir);
    assertEquals(e.files().map((f) => f.file), [
      "a/b/c/syft.pub.yaml",
      "public/syft.pub.yaml",
      "syft.pub.yaml",
    ]);
    assertEquals(e.invalidFiles().map((f) => f.file), ["a/b/c/syft.pub.yaml"]);
    assertEquals(e.check(OWNER, "public/data.csv", "bob@x.org", "read").allowed, true);
    assertEquals(e.check(OWNER, "a/x", "bob@x.org", "read").allowed, false);
  } finally {
    await Deno.remove(posix.dirname(dir), { recursive: true });
  }
});

Deno.test("a symlinked or oversized permission file is installed as invalid, not skipped", async () => {
  const dir = await datasite({ "syft.pub.yaml": READ_ALL, "elsewhere.yaml": READ_ALL });
  try {
    await Deno.mkdir(posix.join(dir, "linked"));
    await Deno.symlink(posix.join(dir, "elsewhere.yaml"), posix.join(dir, "linked/syft.pub.yaml"));
    await Deno.mkdir(posix.join(dir, "big"));
    await Deno.writeTextFile(
      posix.join(dir, "big/syft.pub.yaml"),
      "#".repeat(MAX_PERMISSION_FILE_BYTES + 1),
    );
    const e = await loadDatasitePermissions(dir);
    const errors = Object.fromEntries(e.invalidFiles().map((f) => [f.file, f.reason]));
    assertStringIncludes(errors["linked/syft.pub.yaml"] ?? "", "symbolic link");
    assertStringIncludes(errors["big/syft.pub.yaml"] ?? "", "more than the");
    // Skipping them would let the root's read-all apply; they deny instead.
    assertEquals(e.check(OWNER, "linked/x", "bob@x.org", "read").allowed, false);
    assertEquals(e.check(OWNER, "big/x", "bob@x.org", "read").allowed, false);
  } finally {
    await Deno.remove(posix.dirname(dir), { recursive: true });
  }
});

Deno.test("symlinked folders are not followed", async () => {
  const dir = await datasite({ "syft.pub.yaml": "rules: []\n" });
  const outside = await Deno.makeTempDir({ prefix: "syft-perm-outside-" });
  try {
    await Deno.writeTextFile(posix.join(outside, "syft.pub.yaml"), READ_ALL);
    await Deno.symlink(outside, posix.join(dir, "link"));
    const e = await loadDatasitePermissions(dir);
    assertEquals(e.files().map((f) => f.file), ["syft.pub.yaml"]);
  } finally {
    await Deno.remove(posix.dirname(dir), { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("reloadPermissionFile updates one folder after a change and removes it when gone", async () => {
  const dir = await datasite({
    "syft.pub.yaml": "rules: []\n",
    "shared/syft.pub.yaml": "rules: []\n",
  });
  try {
    const e = await loadDatasitePermissions(dir);
    assertEquals(e.check(OWNER, "shared/x", "bob@x.org", "read").allowed, false);
    await Deno.writeTextFile(posix.join(dir, "shared/syft.pub.yaml"), READ_ALL);
    const r = await reloadPermissionFile(e, dir, "shared");
    assert(r?.ok);
    assertEquals(e.check(OWNER, "shared/x", "bob@x.org", "read").allowed, true);
    await Deno.remove(posix.join(dir, "shared/syft.pub.yaml"));
    assertEquals(await reloadPermissionFile(e, dir, "shared"), null);
    assertEquals(e.check(OWNER, "shared/x", "bob@x.org", "read").governing_file, "syft.pub.yaml");
  } finally {
    await Deno.remove(posix.dirname(dir), { recursive: true });
  }
});
