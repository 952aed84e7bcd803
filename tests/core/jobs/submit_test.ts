import { posix } from "node:path";
import { assertEquals, assertStringIncludes } from "../../assert.ts";
import { sha256Hex } from "../../../core/crypto/hash.ts";
import {
  buildBundle,
  jobConfigFor,
  newJobId,
  parseJobConfig,
  pythonRunScript,
  serializeJobConfig,
} from "../../../core/jobs/mod.ts";
import { tempDir } from "../../_temp.ts";

async function rejects(p: Promise<unknown>, text: string): Promise<void> {
  const err = await p.then(() => null, (e) => e as Error & { hint?: string });
  if (err === null) throw new Error(`expected a refusal containing ${text}`);
  assertStringIncludes(`${err.message}\n${err.hint ?? ""}`, text);
}

Deno.test("buildBundle() takes a folder's files with their hashes and leaves dot-files out", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(posix.join(dir, "run.sh"), "echo hi\n");
  await Deno.mkdir(posix.join(dir, "lib"));
  await Deno.writeTextFile(posix.join(dir, "lib", "f.sh"), "x\n");
  await Deno.writeTextFile(posix.join(dir, ".env"), "SECRET=1\n");
  const b = await buildBundle({ kind: "dir", path: dir });
  assertEquals(b.files.map((f) => f.path).sort(), ["lib/f.sh", "run.sh"]);
  assertEquals(
    b.files.find((f) => f.path === "run.sh")!.sha256,
    sha256Hex(new TextEncoder().encode("echo hi\n")),
  );
  // The config it makes parses back, as the owner will parse it.
  const config = jobConfigFor(b, {
    id: newJobId("My Job!"),
    name: "My Job!",
    me: "carol@example.org",
    at: "2026-11-26T00:00:00.000Z",
    datasets: [],
    network: false,
  });
  assertEquals(parseJobConfig(serializeJobConfig(config), "config.yaml"), config);
});

Deno.test("buildBundle() refuses symlinks, a folder without run.sh and a --python folder without main.py", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(posix.join(dir, "run.sh"), "echo\n");
  await Deno.symlink("/etc/passwd", posix.join(dir, "passwd"));
  await rejects(buildBundle({ kind: "dir", path: dir }), "passwd is a symlink");
  const empty = await tempDir();
  await Deno.writeTextFile(posix.join(empty, "x.sh"), "echo\n");
  await rejects(buildBundle({ kind: "dir", path: empty }), "has no run.sh");
  await rejects(buildBundle({ kind: "python", path: empty, dependencies: [] }), "has no main.py");
  await rejects(buildBundle({ kind: "script", path: posix.join(dir, "passwd") }), "is a symlink");
});

Deno.test("a --python file becomes the file plus a run.sh that execs it with the venv's python", async () => {
  const dir = await tempDir();
  const file = posix.join(dir, "it's.py");
  await Deno.writeTextFile(file, "print(1)\n");
  const b = await buildBundle({ kind: "python", path: file, dependencies: ["numpy"] });
  assertEquals([b.type, b.entrypoint, b.dependencies], ["python", "run.sh", ["numpy"]]);
  assertEquals(b.files.map((f) => f.path).sort(), ["it's.py", "run.sh"]);
  assertStringIncludes(pythonRunScript("it's.py"), `exec python3 'it'\\''s.py' "$@"`);
});

Deno.test("newJobId() is the name made id-safe plus 8 hex digits", () => {
  assertEquals(newJobId("Mean Age (v2)", new Uint8Array([1, 2, 3, 255])), "mean-age-v2-010203ff");
  assertEquals(newJobId("!!!", new Uint8Array([0, 0, 0, 1])), "job-00000001");
});
