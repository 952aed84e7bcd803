import {
  diffProjection,
  isGovernedSubtree,
  PermissionEngine,
  projectReadable,
} from "../../../core/permissions/mod.ts";
import { assertEquals } from "../../assert.ts";

const OWNER = "alice@example.com";
const PUBLIC_READ = "rules:\n  - pattern: '**'\n    access:\n      read: ['*']\n";

const FILES = [
  "syft.pub.yaml",
  "notes.txt",
  "public/syft.pub.yaml",
  "public/data.csv",
  "public/sub/deep.csv",
  "public/.hidden",
  "private/secret.csv",
  "shared/report.pdf",
  "shared/syft.pub.yaml",
];

function layout(): PermissionEngine {
  const e = new PermissionEngine();
  e.setFile("", "rules: []\n");
  e.setFile("public", PUBLIC_READ);
  e.setFile("private", "terminal: true\nrules: []\n");
  return e;
}

Deno.test("a peer's projection holds exactly the files it may read, in input order", () => {
  assertEquals([...projectReadable(layout(), OWNER, "bob@x.org", FILES)], [
    "public/data.csv",
    "public/sub/deep.csv",
  ]);
});

Deno.test("permission files are projected only to peers with admin on them", () => {
  const e = layout();
  e.setFile(
    "shared",
    "rules:\n  - pattern: '**'\n    access:\n      admin: ['adm@x.org']\n      read: ['bob@x.org']\n",
  );
  assertEquals([...projectReadable(e, OWNER, "bob@x.org", FILES)], [
    "public/data.csv",
    "public/sub/deep.csv",
    "shared/report.pdf",
  ]);
  assertEquals([...projectReadable(e, OWNER, "adm@x.org", FILES)], [
    "public/data.csv",
    "public/sub/deep.csv",
    "shared/report.pdf",
    "shared/syft.pub.yaml",
  ]);
});

Deno.test("private/ never enters a peer's projection, whatever a rule says", () => {
  const e = layout();
  e.setFile("", PUBLIC_READ);
  e.setFile("private", PUBLIC_READ);
  const got = projectReadable(e, OWNER, "bob@x.org", FILES);
  assertEquals(got.has("private/secret.csv"), false);
  assertEquals(got.has("notes.txt"), true);
});

Deno.test("the owner's projection is everything", () => {
  assertEquals([...projectReadable(layout(), OWNER, OWNER, FILES)], FILES);
});

Deno.test("paths with . or .. never enter a projection", () => {
  const e = layout();
  assertEquals([
    ...projectReadable(e, OWNER, "bob@x.org", ["public/../notes.txt", "public/./a", "public/a"]),
  ], [
    "public/a",
  ]);
});

Deno.test("a grant then a revocation give gained then lost, sorted", () => {
  const e = layout();
  const before = projectReadable(e, OWNER, "bob@x.org", FILES);
  e.setFile("shared", "rules:\n  - pattern: '*.pdf'\n    access:\n      read: ['bob@x.org']\n");
  const granted = projectReadable(e, OWNER, "bob@x.org", FILES);
  assertEquals(diffProjection(before, granted), { gained: ["shared/report.pdf"], lost: [] });
  e.removeFile("public");
  const revoked = projectReadable(e, OWNER, "bob@x.org", FILES);
  assertEquals(diffProjection(granted, revoked), {
    gained: [],
    lost: ["public/data.csv", "public/sub/deep.csv"],
  });
});

Deno.test("diffProjection sorts by code unit, not locale", () => {
  assertEquals(diffProjection(new Set(["b", "B", "a"]), new Set(["é", "Z", "e"])), {
    gained: ["Z", "e", "é"],
    lost: ["B", "a", "b"],
  });
  assertEquals(diffProjection(new Set(["x"]), new Set(["x"])), { gained: [], lost: [] });
});

Deno.test("isGovernedSubtree tells which paths a file change can affect", () => {
  assertEquals(isGovernedSubtree("public", "public/a.csv"), true);
  assertEquals(isGovernedSubtree("public", "public"), true);
  assertEquals(isGovernedSubtree("public/", "/public/syft.pub.yaml"), true);
  assertEquals(isGovernedSubtree("public", "publications/a.csv"), false);
  assertEquals(isGovernedSubtree("a/b", "a"), false);
  assertEquals(isGovernedSubtree("", "anything/at/all"), true);
});
