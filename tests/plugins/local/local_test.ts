/**
 * The local-folder transport, through the real host (one Worker per
 * transport, granted only the shared folder): the contract suite, then what is
 * specific to a shared folder — its exact layout, invisible temp files, and
 * junk that must never break it.
 */
import { assert, assertEquals, assertTransportError } from "../_assert.ts";
import { readAll, runTransportContractSuite } from "../contract_suite.ts";
import { startPlugin } from "../../../plugins/host.ts";
import { localManifest } from "../../../plugins/local/manifest.ts";
import type { PoolStore, Transport } from "../../../core/transport/contract.ts";

import { tempDir } from "../../_temp.ts";

const encoder = new TextEncoder();
// Removed at unload too, when a --filter skips the suite's own clean-up.
const suiteDir = await tempDir("syft-local-contract-");

runTransportContractSuite("local", {
  makeTransport: (identity) => startPlugin(localManifest(suiteDir, identity)),
  cleanup: () => Deno.remove(suiteDir, { recursive: true }),
});

/** A fresh shared folder and transports on it, all cleaned up afterwards. */
async function withFolder(
  fn: (dir: string, make: (identity: string) => Promise<Transport>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "syft-local-" });
  const opened: Transport[] = [];
  try {
    await fn(dir, async (identity) => {
      const transport = await startPlugin(localManifest(dir, identity));
      opened.push(transport);
      return transport;
    });
  } finally {
    await Promise.all(opened.map((t) => t.close()));
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every path under `dir`, relative, folders with a trailing slash, sorted. */
async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory) out.push(`${rel}/`, ...await tree(dir, `${rel}/`));
    else out.push(rel);
  }
  return out.sort();
}

Deno.test("local: the layout on disk is <dir>/syft1#<sender>#<recipient>/<object name>", async () => {
  await withFolder(async (dir, make) => {
    const a = await make("a@x.org");
    const ch = await a.openChannel("b@y.org");
    await a.put(ch, "b-0000000000000001.syft", encoder.encode("batch one"));
    assertEquals(await tree(dir), [
      ".marker",
      "syft1#a@x.org#b@y.org/",
      "syft1#a@x.org#b@y.org/.marker",
      "syft1#a@x.org#b@y.org/b-0000000000000001.syft",
    ]);
    assertEquals(
      await Deno.readTextFile(`${dir}/syft1#a@x.org#b@y.org/b-0000000000000001.syft`),
      "batch one",
    );
  });
});

Deno.test("local: temp files, dotfiles and leftovers of a killed put are never listed", async () => {
  await withFolder(async (dir, make) => {
    const a = await make("a@x.org");
    const b = await make("b@y.org");
    const ch = await a.openChannel("b@y.org");
    const folder = `${dir}/syft1#a@x.org#b@y.org`;
    await Deno.writeTextFile(`${folder}/.tmp-0123456789abcdef`, "partial");
    await Deno.writeTextFile(`${folder}/.hidden`, "dotfile");
    await a.put(ch, "b-0000000000000001.syft", encoder.encode("1"));

    // Kill the writer in the middle of a streamed put.
    let started!: () => void;
    const midway = new Promise<void>((resolve) => started = resolve);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      async pull(controller) {
        controller.enqueue(new Uint8Array(65536));
        if (++sent === 8) started();
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    const putting = a.put(ch, "b-0000000000000002.syft", endless);
    await midway;
    await a.close();
    await assertTransportError(() => putting, "put");

    assertEquals((await b.list(ch)).objects.map((o) => o.name), ["b-0000000000000001.syft"]);
    await assertTransportError(() => b.get(ch, "b-0000000000000002.syft"), "get");
    const leftovers = (await tree(dir)).filter((p) => p.includes("/.tmp-"));
    assert(leftovers.length >= 1, "the killed put left its temp file (and it stays invisible)");
    const again = await make("a@x.org");
    await again.put(ch, "b-0000000000000002.syft", encoder.encode("2"));
    assertEquals(await readAll(await b.get(ch, "b-0000000000000002.syft")), encoder.encode("2"));
  });
});

Deno.test("local: a folder full of junk does not break listIncoming, list, get or changes", async () => {
  await withFolder(async (dir, make) => {
    const outside = await Deno.makeTempDir({ prefix: "syft-outside-" });
    try {
      await Deno.writeTextFile(`${outside}/secret.txt`, "outside the shared folder");
      const a = await make("a@x.org");
      const b = await make("b@y.org");
      const ch = await a.openChannel("b@y.org");
      await a.put(ch, "b-0000000000000001.syft", encoder.encode("real"));
      const start = await b.changes(null);

      const junkDirs = [
        "syft1#notanemail#b@y.org",
        "syft1#a@x.org",
        "syft1##b@y.org",
        "syft2#a@x.org#b@y.org",
        "syft1#a@x.org#b@y.org#extra",
        "syft1#A@X.ORG#b@y.org",
        "syft1#c@z.org#b@y.org/sub/dir",
        "random folder",
      ];
      for (const d of junkDirs) await Deno.mkdir(`${dir}/${d}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/syft1#c@z.org#b@y.org/sub/dir/file`, "nested junk");
      await Deno.writeTextFile(`${dir}/syft1#e@z.org#b@y.org`, "a file named like a channel");
      await Deno.writeTextFile(`${dir}/README`, "junk");
      await Deno.writeTextFile(`${dir}/é-ünïcode`, "junk");
      await Deno.symlink(outside, `${dir}/syft1#d@z.org#b@y.org`);
      const folder = `${dir}/syft1#a@x.org#b@y.org`;
      await Deno.symlink(`${outside}/secret.txt`, `${folder}/b-0000000000000002.syft`);
      await Deno.mkdir(`${folder}/b-0000000000000003.syft`);
      await Deno.writeTextFile(`${folder}/not valid name`, "junk");
      await Deno.writeTextFile(`${folder}/ünïcode.syft`, "junk");
      const fifo = await new Deno.Command("mkfifo", { args: [`${folder}/b-0000000000000004.syft`] })
        .output().then((o) => o.success, () => false);

      assertEquals(await b.listIncoming(), [
        { sender: "a@x.org", recipient: "b@y.org" },
        { sender: "c@z.org", recipient: "b@y.org" }, // a real folder with a valid name
      ]);
      assertEquals((await b.list(ch)).objects, [{ name: "b-0000000000000001.syft", size: 4 }]);
      // The symlink would lead outside the folder (Deno's grant checks the
      // link's path, not its target), the folder and the FIFO are not objects.
      for (const n of ["b-0000000000000002.syft", "b-0000000000000003.syft"]) {
        await assertTransportError(() => b.get(ch, n), "get");
      }
      if (fifo) await assertTransportError(() => b.get(ch, "b-0000000000000004.syft"), "get");
      assertEquals(
        await readAll(await b.get(ch, "b-0000000000000001.syft")),
        encoder.encode("real"),
      );

      const r = await b.changes(start.cursor);
      assert(
        r.channels.every((x) => x.recipient === "b@y.org" && x.sender !== "d@z.org"),
        "never a junk or symlinked channel",
      );
      assertEquals((await b.changes(r.cursor)).channels, [], "idle again");
      const waited = await b.changes(r.cursor, { waitMs: 200 });
      assertEquals(waited.channels, []);
      await a.put(ch, "b-0000000000000005.syft", encoder.encode("5"));
      assertEquals((await b.changes(waited.cursor)).channels, [ch]);
      // The junk is still there, untouched.
      assertEquals(await Deno.readTextFile(`${outside}/secret.txt`), "outside the shared folder");
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});

Deno.test("local: openChannel refuses a channel name taken by a file", async () => {
  await withFolder(async (dir, make) => {
    await Deno.writeTextFile(`${dir}/syft1#a@x.org#b@y.org`, "in the way");
    const a = await make("a@x.org");
    await assertTransportError(() => a.openChannel("b@y.org"), "openChannel");
  });
});

Deno.test("local: changes() notices a channel and objects written by a tool that ignores markers", async () => {
  await withFolder(async (dir, make) => {
    const b = await make("b@y.org");
    const start = await b.changes(null);
    await Deno.mkdir(`${dir}/syft1#a@x.org#b@y.org`);
    const r = await b.changes(start.cursor);
    assertEquals(r.channels, [{ sender: "a@x.org", recipient: "b@y.org" }]);
    await new Promise((resolve) => setTimeout(resolve, 5)); // a new mtime millisecond
    await Deno.writeTextFile(`${dir}/syft1#a@x.org#b@y.org/b-0000000000000001.syft`, "x");
    assertEquals((await b.changes(r.cursor)).channels, [{
      sender: "a@x.org",
      recipient: "b@y.org",
    }]);
  });
});

Deno.test("local: a garbled cursor reports every incoming channel instead of failing", async () => {
  await withFolder(async (_dir, make) => {
    const a = await make("a@x.org");
    const b = await make("b@y.org");
    await a.openChannel("b@y.org");
    for (const cursor of ["", "not base64!", btoa("{}"), btoa("[1,2]")]) {
      assertEquals((await b.changes(cursor)).channels, [{
        sender: "a@x.org",
        recipient: "b@y.org",
      }]);
    }
  });
});

Deno.test("local: list with `all` shows every entry at an object name, a squatter's folder, symlink or FIFO marked special", async () => {
  await withFolder(async (dir, make) => {
    const a = await make("a@x.org");
    const b = await make("b@y.org");
    const ch = await a.openChannel("b@y.org");
    await a.put(ch, "b-0000000000000001.syft", encoder.encode("real"));
    const folder = `${dir}/syft1#a@x.org#b@y.org`;
    await Deno.symlink("/nonexistent/target", `${folder}/b-0000000000000002.syft`);
    await Deno.mkdir(`${folder}/b-0000000000000003.syft`);
    const fifo = await new Deno.Command("mkfifo", { args: [`${folder}/b-0000000000000004.syft`] })
      .output().then((o) => o.success, () => false);
    await Deno.writeTextFile(`${folder}/not valid name`, "junk");
    const expected: [string, string][] = [
      ["b-0000000000000001.syft", "object"],
      ["b-0000000000000002.syft", "symlink"],
      ["b-0000000000000003.syft", "folder"],
      ...(fifo ? [["b-0000000000000004.syft", "other"] as [string, string]] : []),
    ];
    for (const t of [a, b]) {
      const page = await t.list(ch, { all: true });
      assertEquals(page.objects.map((o) => [o.name, o.special ?? "object"]), expected);
      // Readers leave `all` off: a squatted name reads as missing, never as an object.
      assertEquals((await t.list(ch)).objects.map((o) => o.name), ["b-0000000000000001.syft"]);
    }
    // Deleting a name a folder squats is no error (no object of ours is there,
    // and the folder is left alone); a symlink at it is removed, never followed.
    await a.delete(ch, "b-0000000000000003.syft");
    assert((await Deno.lstat(`${folder}/b-0000000000000003.syft`)).isDirectory);
    // A put at a squatted name is refused as taken (never written through a symlink).
    for (const name of ["b-0000000000000002.syft", "b-0000000000000003.syft"]) {
      await a.put(ch, name, encoder.encode("x")).then(
        () => assert(false, `put over ${name} must fail`),
        (err) => assertEquals(err.code, "E_EXISTS"),
      );
    }
  });
});

Deno.test("local: a pool is <dir>/syft2pool#<sender>/ with its readers beside each object, hidden, and no channel", async () => {
  await withFolder(async (dir, make) => {
    const a = await make("a@x.org") as Transport & PoolStore;
    const b = await make("b@y.org") as Transport & PoolStore;
    const c = await make("c@z.org") as Transport & PoolStore;
    await a.poolPut("p-0123.syft", encoder.encode("sealed once"), ["b@y.org"]);
    const pool = `${dir}/syft2pool#a@x.org`;
    await Deno.writeTextFile(`${pool}/.tmp-0123456789abcdef`, "partial");
    assertEquals(await tree(dir), [
      "syft2pool#a@x.org/",
      "syft2pool#a@x.org/.readers-p-0123.syft",
      "syft2pool#a@x.org/.tmp-0123456789abcdef",
      "syft2pool#a@x.org/p-0123.syft",
    ]);
    assertEquals(JSON.parse(await Deno.readTextFile(`${pool}/.readers-p-0123.syft`)), [
      "b@y.org",
    ]);
    assertEquals(await a.poolList(), { objects: [{ name: "p-0123.syft", size: 11 }] });
    // The pool folder is no channel to anyone.
    assertEquals(await b.listIncoming(), []);
    assertEquals((await b.changes(null)).channels, []);
    // The folder cannot stop c reading the file; the transport refuses it.
    await assertTransportError(() => c.poolGet("a@x.org", "p-0123.syft"), "poolGet");
    // Readers edited by hand into garbage read as "nobody".
    await Deno.writeTextFile(`${pool}/.readers-p-0123.syft`, "{not json");
    await assertTransportError(() => b.poolGet("a@x.org", "p-0123.syft"), "poolGet");
    await a.poolAddReaders("p-0123.syft", ["b@y.org"]);
    assertEquals(
      await readAll(await b.poolGet("a@x.org", "p-0123.syft")),
      encoder.encode("sealed once"),
    );
    await a.poolDelete("p-0123.syft");
    assertEquals((await tree(dir)).filter((p) => !p.includes(".tmp-")), ["syft2pool#a@x.org/"]);
  });
});

Deno.test("local: a poolPut whose body fails leaves neither the object nor its readers", async () => {
  await withFolder(async (dir, make) => {
    const a = await make("a@x.org") as Transport & PoolStore;
    let sent = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (++sent > 3) controller.error(new Error("the source went away"));
        else controller.enqueue(new Uint8Array(65536));
      },
    });
    await assertTransportError(() => a.poolPut("p-0456.syft", failing, ["b@y.org"]), "poolPut");
    assertEquals(await a.poolList(), { objects: [] });
    assertEquals((await tree(dir)).filter((p) => !p.includes("/.tmp-")), ["syft2pool#a@x.org/"]);
    // The name is still free.
    await a.poolPut("p-0456.syft", encoder.encode("whole"), ["b@y.org"]);
    assertEquals(await a.poolList(), { objects: [{ name: "p-0456.syft", size: 5 }] });
  });
});
