import { posix } from "node:path";
import { assertEquals, assertStringIncludes } from "../../assert.ts";
import { grantAccess, type PermTarget, revokeAccess } from "../../../core/permissions/change.ts";
import { tempDir } from "../../_temp.ts";

const OWNER = "alice@example.org";
const BOB = "bob@example.org";

async function site() {
  const base = await tempDir();
  const dir = posix.join(base, OWNER);
  await Deno.mkdir(posix.join(dir, "public"), { recursive: true });
  return { dir, owner: OWNER, auditLog: posix.join(base, "audit.log") };
}

const PUBLIC: PermTarget = { segments: ["public"], path: "public", isFolder: true, exists: true };

async function auditLines(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((l) => l !== "");
}

Deno.test("a grant writes one permission file and one audit record; granting again changes nothing", async () => {
  const s = await site();
  const first = await grantAccess(s, PUBLIC, BOB, "read");
  assertEquals([first.changed, first.level, first.user], [true, "read", BOB]);
  assertStringIncludes(await Deno.readTextFile(posix.join(s.dir, first.file)), BOB);
  const again = await grantAccess(s, PUBLIC, BOB, "read");
  assertEquals(again.changed, false);
  const audit = await auditLines(s.auditLog);
  assertEquals(audit.length, 1);
  assertStringIncludes(audit[0]!, "perm.grant");
});

Deno.test("a revoke removes the user from the rule a grant wrote and records it", async () => {
  const s = await site();
  const granted = await grantAccess(s, PUBLIC, BOB, "read");
  const revoked = await revokeAccess(s, PUBLIC, BOB);
  assertEquals(revoked.removed.map((r) => r.file), [granted.file]);
  assertEquals(revoked.still_allowed, null);
  const audit = await auditLines(s.auditLog);
  assertStringIncludes(audit[1]!, "perm.revoke");
  // Nothing left to remove: no file changes and no record.
  assertEquals((await revokeAccess(s, PUBLIC, BOB)).removed, []);
  assertEquals((await auditLines(s.auditLog)).length, 2);
});

Deno.test("a grant on a file that does not exist is refused without writing", async () => {
  const s = await site();
  const missing = {
    segments: ["public", "a.csv"],
    path: "public/a.csv",
    isFolder: false,
    exists: false,
  };
  const err = await grantAccess(s, missing, BOB, "read").then(() => null, (e) => e as Error);
  assertStringIncludes(err?.message ?? "", "does not exist");
  assertEquals(await auditLines(s.auditLog), []);
});
