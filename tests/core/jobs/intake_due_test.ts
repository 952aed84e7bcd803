/**
 * `syft sync` skips loading the job intake only when its pass would find
 * nothing: no entry in our inbox and no policy file (whose errors it reports).
 */
import { posix } from "node:path";
import { assertEquals } from "../../assert.ts";
import { intakeDue } from "../../../core/jobs/intake_due.ts";
import { INBOX_ROOT, POLICY_FILE } from "../../../core/jobs/layout.ts";
import { tempDir } from "../../_temp.ts";

Deno.test("the intake is due for an inbox entry, a policy file or an inbox it cannot read, and only then", async () => {
  const base = await tempDir();
  const home = posix.join(base, "home");
  const datasite = posix.join(base, "root", "owner@example.org");
  await Deno.mkdir(home, { recursive: true });
  assertEquals(await intakeDue(home, datasite), false, "no datasite at all");
  await Deno.mkdir(posix.join(datasite, INBOX_ROOT), { recursive: true });
  assertEquals(await intakeDue(home, datasite), false, "an empty inbox");
  await Deno.mkdir(posix.join(datasite, INBOX_ROOT, "ds@example.org"));
  assertEquals(await intakeDue(home, datasite), true, "a submitter's folder");
  await Deno.remove(posix.join(datasite, INBOX_ROOT), { recursive: true });
  await Deno.writeTextFile(posix.join(datasite, INBOX_ROOT), "not a folder");
  assertEquals(await intakeDue(home, datasite), true, "an inbox that cannot be listed");
  await Deno.remove(posix.join(datasite, INBOX_ROOT));
  await Deno.writeTextFile(posix.join(home, POLICY_FILE), "policies: [\\n");
  assertEquals(await intakeDue(home, datasite), true, "a policy file, even a broken one");
  await Deno.remove(base, { recursive: true });
});
