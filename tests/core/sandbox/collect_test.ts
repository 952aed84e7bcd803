import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import { collectFromTar } from "../../../core/sandbox/collect.ts";
import { tempDir } from "../../_temp.ts";

/** One tar header block (GNU-style magic), with a valid checksum unless `badSum`. */
function header(name: string, type: string, size: number, badSum = false): Uint8Array {
  const b = new Uint8Array(512);
  const enc = new TextEncoder();
  b.set(enc.encode(name).subarray(0, 100), 0);
  b.set(enc.encode("0000644\0"), 100);
  b.set(enc.encode(size.toString(8).padStart(11, "0") + "\0"), 124);
  b[156] = type.charCodeAt(0);
  b.set(enc.encode("ustar  \0"), 257);
  b.fill(32, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  if (badSum) sum += 1;
  b.set(enc.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return b;
}

/** Change a header block with `edit`, then give it a valid checksum again. */
function reseal(block: Uint8Array, edit: (b: Uint8Array) => void): Uint8Array {
  edit(block);
  const sum = block.reduce((n, b, i) => n + (i >= 148 && i < 156 ? 32 : b), 0);
  block.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return block;
}

function entry(name: string, type: string, data = ""): Uint8Array[] {
  const bytes = new TextEncoder().encode(data);
  const padded = new Uint8Array(Math.ceil(bytes.length / 512) * 512);
  padded.set(bytes);
  return [header(name, type, bytes.length), padded];
}

function stream(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(parts);
}

const END = [new Uint8Array(1024)];

async function collect(parts: Uint8Array[], outputs = 1000, logs = 100) {
  const outDir = await tempDir();
  await Deno.mkdir(join(outDir, "outputs"));
  const res = await collectFromTar(stream(parts), outDir, { outputs, logs });
  return { res, outDir };
}

Deno.test("collectFromTar() writes the return code, logs and safe outputs", async () => {
  const { res, outDir } = await collect([
    ...entry("meta/rc", "0", "3 0\n"),
    ...entry("stdout/stdout.txt", "0", "hello\n"),
    ...entry("stderr/stderr.txt", "0", ""),
    ...entry("outputs/", "5"),
    ...entry("outputs/sub/", "5"),
    ...entry("outputs/sub/r.txt", "0", "result"),
    ...END,
  ]);
  assertEquals(res.returncode, 3);
  assertEquals(res.error, undefined);
  assertEquals(await Deno.readTextFile(join(outDir, "stdout.txt")), "hello\n");
  assertEquals(await Deno.readTextFile(join(outDir, "outputs", "sub", "r.txt")), "result");
  assertEquals(res.outputs, { files: 1, bytes: 6, truncated: false, skipped: [] });
});

Deno.test("collectFromTar() skips links, special files and paths that climb out or are absolute", async () => {
  const { res, outDir } = await collect([
    ...entry("meta/rc", "0", "0 0\n"),
    ...entry("outputs/link", "2"),
    ...entry("outputs/hard", "1"),
    ...entry("outputs/fifo", "6"),
    ...entry("outputs/dev", "3"),
    ...entry("outputs/../escape.txt", "0", "x"),
    ...entry("outputs//abs.txt", "0", "x"),
    ...entry("/etc/evil", "0", "x"),
    ...END,
  ]);
  assertEquals(res.returncode, 0);
  const reasons = res.outputs.skipped.map((s) => s.reason.split(":")[0]);
  assertEquals(reasons, ["symlink", "hard link", "fifo", "device", "unsafe path", "unsafe path"]);
  assertEquals([...Deno.readDirSync(join(outDir, "outputs"))], []);
  assert(!(await Deno.lstat(join(outDir, "escape.txt")).then(() => true, () => false)));
});

Deno.test("collectFromTar() keeps the total under the output cap and marks it truncated", async () => {
  const { res } = await collect([
    ...entry("meta/rc", "0", "0 0\n"),
    ...entry("outputs/a", "0", "x".repeat(600)),
    ...entry("outputs/b", "0", "y".repeat(600)),
    ...END,
  ]);
  assertEquals(res.outputs.files, 1);
  assertEquals(res.outputs.bytes, 600);
  assert(res.outputs.truncated);
  assertStringIncludes(res.outputs.skipped[0]?.reason ?? "", "over the output cap");
});

Deno.test("collectFromTar() caps a log and ends it with the truncation line", async () => {
  const { res, outDir } = await collect([
    ...entry("meta/rc", "0", "0 0\n"),
    ...entry("stdout/stdout.txt", "0", "z".repeat(150)),
    ...END,
  ]);
  assert(res.stdoutTruncated);
  assertEquals(
    await Deno.readTextFile(join(outDir, "stdout.txt")),
    "z".repeat(100) + "\n[syft: output truncated at 100 bytes]\n",
  );
});

Deno.test("collectFromTar() turns a garbled stream into a failed run with an error", async () => {
  const { res } = await collect([
    ...entry("meta/rc", "0", "0 0\n"),
    header("outputs/x", "0", 1, true),
    ...END,
  ]);
  assertEquals(res.returncode, null);
  assertStringIncludes(res.error ?? "", "garbled");
});

Deno.test("collectFromTar() reports a missing result when the stream is empty", async () => {
  const { res } = await collect([]);
  assertEquals(res.returncode, null);
  assertStringIncludes(res.error ?? "", "no result");
});

Deno.test("collectFromTar() reads a timed-out run as no return code", async () => {
  const { res } = await collect([...entry("meta/rc", "0", "137 1\n"), ...END]);
  assertEquals(res.timedOut, true);
  assertEquals(res.returncode, null);
});

/** A real tar of `files` (path → text) in `format`, with `meta/rc` first, as the wrapper writes it. */
async function realTar(
  format: "gnu" | "posix",
  files: Record<string, string>,
): Promise<Uint8Array> {
  const dir = await tempDir();
  const paths = ["meta/rc", ...Object.keys(files)];
  await Deno.mkdir(join(dir, "meta"));
  await Deno.writeTextFile(join(dir, "meta", "rc"), "0 0\n");
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  }
  const out = await new Deno.Command("tar", {
    args: [`--format=${format}`, "--numeric-owner", "-cf", "-", ...paths],
    cwd: dir,
    stdout: "piped",
  }).output();
  assert(out.success);
  return out.stdout;
}

Deno.test("collectFromTar() reads GNU long names and pax paths written by tar", async () => {
  const long = `outputs/${"d".repeat(120)}/${"f".repeat(150)}.txt`;
  for (const format of ["gnu", "posix"] as const) {
    const { res, outDir } = await collect([await realTar(format, { [long]: "long" })]);
    assertEquals(res.error, undefined);
    assertEquals(res.returncode, 0);
    assertEquals(res.outputs, { files: 1, bytes: 4, truncated: false, skipped: [] });
    assertEquals(await Deno.readTextFile(join(outDir, long)), "long");
  }
});

Deno.test("collectFromTar() never follows a link already in outputs and writes a name once", async () => {
  const outDir = await tempDir();
  await Deno.mkdir(join(outDir, "outputs"));
  const target = join(outDir, "target.txt");
  await Deno.writeTextFile(target, "untouched");
  await Deno.symlink(target, join(outDir, "outputs", "planted"));
  const res = await collectFromTar(
    stream([
      ...entry("meta/rc", "0", "0 0\n"),
      ...entry("outputs/planted", "0", "evil"),
      ...entry("outputs/twice", "0", "first"),
      ...entry("outputs/twice", "0", "second"),
      ...END,
    ]),
    outDir,
    { outputs: 1000, logs: 100 },
  );
  assertEquals(await Deno.readTextFile(target), "untouched");
  assertEquals(await Deno.readTextFile(join(outDir, "outputs", "twice")), "first");
  assertEquals(res.outputs.skipped.map((s) => s.reason), [
    "conflicts with another entry",
    "conflicts with another entry",
  ]);
});

Deno.test("collectFromTar() stops reading a stream over its budget and keeps the return code", async () => {
  const budget = 2 * (100 + 8192) + 1000 + (10_000 + 16) * 2048;
  const big = budget + 4096;
  const chunks = async function* () {
    yield* entry("meta/rc", "0", "5 0\n");
    yield header("outputs/big", "0", big);
    for (let sent = 0; sent < big; sent += 65536) yield new Uint8Array(65536);
  };
  const outDir = await tempDir();
  await Deno.mkdir(join(outDir, "outputs"));
  const res = await collectFromTar(ReadableStream.from(chunks()), outDir, {
    outputs: 1000,
    logs: 100,
  });
  assertEquals(res.returncode, 5);
  assertEquals(res.error, undefined);
  assert(res.stoppedEarly);
  assert(res.outputs.truncated);
});

Deno.test("collectFromTar() stops releasing outputs after the entry cap", async () => {
  const parts = [...entry("meta/rc", "0", "0 0\n")];
  for (let i = 0; i <= 10_000; i++) parts.push(header(`outputs/d${i}/`, "5", 0));
  const { res } = await collect([...parts, ...END]);
  assertEquals(res.error, undefined);
  assert(res.outputs.truncated);
  assertEquals(res.outputs.skipped.map((s) => s.path), ["d10000"]);
});

Deno.test("collectFromTar() treats a cut, bad-name or trailing-garbage stream as garbled", async () => {
  const rc = entry("meta/rc", "0", "0 0\n");
  const nonOctal = reseal(header("outputs/x", "0", 0), (b) => b.set([0x38], 130)); // an "8"
  const notUtf8 = reseal(header("outputs/x", "0", 0), (b) => b.set([0xff], 8)); // a lone 0xff
  const cases: Record<string, Uint8Array[]> = {
    "ends inside a file": [...rc, header("outputs/x", "0", 600)],
    "has no end marker": [...rc, ...entry("outputs/x", "0", "x")],
    "has bytes after the end": [...rc, ...END, new Uint8Array([1])],
    "has a non-octal size": [...rc, nonOctal, ...END],
    "has a name that is not UTF-8": [...rc, notUtf8, ...END],
  };
  for (const [what, parts] of Object.entries(cases)) {
    const { res } = await collect(parts);
    assertEquals(res.returncode, null, what);
    assertStringIncludes(res.error ?? "", "garbled", what);
    assert(res.stoppedEarly, what);
  }
});
