/**
 * Every conformance case (tests/testdata/permission-cases.json, the cases
 * every syft implementation must agree on) through the engine, in process. The same file is also run through the CLI
 * by the `syft perm` tests.
 */
import { PermissionEngine } from "../../../core/permissions/mod.ts";
import type { AccessLevel } from "../../../core/permissions/mod.ts";
import { assert, assertEquals } from "../../assert.ts";

interface Check {
  user: string;
  path: string;
  access: AccessLevel;
  expect: boolean;
}
interface Case {
  id: string;
  datasite_owner: string;
  files: Record<string, string>;
  checks: Check[];
  note?: string;
}

const CASES_URL = new URL("../../testdata/permission-cases.json", import.meta.url);
const cases: Case[] = JSON.parse(await Deno.readTextFile(CASES_URL));

/** `public/syft.pub.yaml` → `public`; `syft.pub.yaml` → `` (the datasite root). */
function folderOf(filePath: string): string {
  const segments = filePath.split("/").filter((s) => s !== "");
  assertEquals(segments.at(-1), "syft.pub.yaml", `not a permission file: ${filePath}`);
  return segments.slice(0, -1).join("/");
}

Deno.test("the conformance file holds cases", () => {
  assert(cases.length > 0, `no cases in ${CASES_URL}`);
});

for (const c of cases) {
  Deno.test(`conformance: ${c.id}`, () => {
    const engine = new PermissionEngine();
    for (const [path, text] of Object.entries(c.files)) engine.setFile(folderOf(path), text);
    const failures: string[] = [];
    for (const check of c.checks) {
      const d = engine.check(c.datasite_owner, check.path, check.user, check.access);
      // allows() is the hot path sync uses: it must agree with check().
      const fast = engine.allows(c.datasite_owner, check.path, check.user, check.access);
      if (d.allowed !== check.expect || fast !== check.expect) {
        failures.push(
          `[${c.id}] ${check.user} ${check.access} ${
            JSON.stringify(check.path)
          }: expected ${check.expect}, ` +
            `check() said ${d.allowed}, allows() said ${fast} (${d.reason})`,
        );
      }
    }
    assertEquals(failures, [], `case ${c.id} failed:\n${failures.join("\n")}`);
  });
}
