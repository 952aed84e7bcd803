import { posix } from "node:path";
import { assertEquals } from "../../assert.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { sendJob } from "../../../core/jobs/send.ts";
import { tempDir } from "../../_temp.ts";

const ME = "carol@example.org";

async function refusal(to: string): Promise<{ err: SyftError; home: string; root: string }> {
  const base = await tempDir();
  const home = posix.join(base, "home");
  const root = posix.join(base, "root");
  await Deno.mkdir(home, { recursive: true });
  await Deno.writeTextFile(posix.join(base, "run.sh"), "echo hi\n");
  const err = await sendJob({
    home,
    root,
    me: ME,
    to: [to],
    source: { kind: "script", path: posix.join(base, "run.sh") },
    datasets: [],
    network: false,
  }).then(() => null, (e) => e);
  if (!(err instanceof SyftError)) throw new Error(`expected a SyftError, got ${err}`);
  return { err, home, root };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("a job for someone who is not an accepted peer is refused and nothing is written", async () => {
  const { err, home, root } = await refusal("alice@example.org");
  assertEquals([err.code, err.message], ["E_INPUT", "alice@example.org is not an accepted peer"]);
  assertEquals([await exists(posix.join(home, "jobs")), await exists(root)], [false, false]);
});

Deno.test("a job for oneself is refused before anything is built", async () => {
  const { err, home } = await refusal(ME);
  assertEquals([err.code, err.message], ["E_INPUT", "you cannot send a job to yourself"]);
  assertEquals(await exists(posix.join(home, "jobs")), false);
});
