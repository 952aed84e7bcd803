/**
 * `syft sync` skips loading the job intake only when its pass would find
 * nothing: no job folder in our inbox and no policy file (whose errors it
 * reports).
 */
import { posix } from "node:path";
import { assertEquals } from "../../assert.ts";
import { intakeDue } from "../../../core/jobs/intake_due.ts";
import { INBOX_ROOT, POLICY_FILE } from "../../../core/jobs/layout.ts";
import { tempDir } from "../../_temp.ts";

Deno.test("the intake is due for a job folder in the inbox or a policy file, and only then", async () => {
  const base = await tempDir();
  const home = posix.join(base, "home");
  const datasite = posix.join(base, "root", "owner@example.org");
  const submitter = posix.join(datasite, INBOX_ROOT, "ds@example.org");
  await Deno.mkdir(home, { recursive: true });
  assertEquals(await intakeDue(home, datasite), false, "no datasite at all");
  // What accepting a peer leaves: its inbox folder with a permission file.
  await Deno.mkdir(submitter, { recursive: true });
  await Deno.writeTextFile(posix.join(submitter, "syft.pub.yaml"), "rules: []\n");
  assertEquals(await intakeDue(home, datasite), false, "a peer's inbox without a job");
  await Deno.mkdir(posix.join(submitter, "j-1"));
  assertEquals(await intakeDue(home, datasite), true, "a job folder");
  await Deno.remove(posix.join(datasite, INBOX_ROOT), { recursive: true });
  await Deno.writeTextFile(posix.join(home, POLICY_FILE), "policies: [\n");
  assertEquals(await intakeDue(home, datasite), true, "a policy file, even a broken one");
  await Deno.remove(base, { recursive: true });
});
