/**
 * `syft transport add | list | remove` and `syft peer add --via`: one
 * installation with a second `local:` folder, driven through the real CLI.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { runSyft, type SyftRun } from "../../scripts/syft_process.ts";

interface Setup {
  base: string;
  home: string;
  shared: string;
  other: string;
  syft: (args: string[]) => Promise<SyftRun>;
}

const ME = "alice@example.org";
const BOB = "bob@example.org";

/** One initialised home on `shared`, and a second folder `other`; removed by `done`. */
async function setup(): Promise<Setup & { done(): Promise<void> }> {
  const base = await Deno.makeTempDir({ prefix: "syft-transport-cli-" });
  const shared = posix.join(base, "shared");
  const other = posix.join(base, "other");
  await Deno.mkdir(shared);
  await Deno.mkdir(other);
  const home = posix.join(base, ".syft");
  const syft = (args: string[]) => runSyft(["--home", home, ...args], { env: { HOME: base } });
  const init = await syft([
    "init",
    "--email",
    ME,
    "--root",
    posix.join(base, "SyftBox"),
    "--transport",
    `local:${shared}`,
  ]);
  assertEquals(init.code, 0, init.stderr);
  return {
    base,
    home,
    shared,
    other,
    syft,
    done: () => Deno.remove(base, { recursive: true }),
  };
}

function code(r: SyftRun, expected: number): void {
  assertEquals(r.code, expected, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/** A user mistake: the exit code, one `error:` line and one `hint:` line, nothing on stdout. */
function oneLineError(r: SyftRun, exit: number, pattern: RegExp): void {
  code(r, exit);
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 2, r.stderr);
  assertMatch(lines[0]!, /^error: /);
  assertMatch(lines[0]!, pattern);
  assertMatch(lines[1]!, /^hint: /);
  assertEquals(r.stdout, "");
}

Deno.test("transport add stores a named transport in config.yaml and transport list shows it beside the default", async () => {
  const s = await setup();
  try {
    const added = await s.syft(["transport", "add", "lab", `local:${s.other}`, "--json"]);
    code(added, 0);
    assertEquals(JSON.parse(added.stdout), {
      name: "lab",
      spec: `local:${s.other}`,
      default: false,
      peers: [],
    });
    const config = await Deno.readTextFile(posix.join(s.home, "config.yaml"));
    assertStringIncludes(config, `transport: "local:${s.shared}"`);
    assertStringIncludes(config, `transports:\n  "lab": "local:${s.other}"`);
    const listed = await s.syft(["transport", "list", "--json"]);
    code(listed, 0);
    assertEquals(JSON.parse(listed.stdout), [
      { name: "default", spec: `local:${s.shared}`, default: true, peers: [] },
      { name: "lab", spec: `local:${s.other}`, default: false, peers: [] },
    ]);
    const human = await s.syft(["transport", "list"]);
    code(human, 0);
    assertMatch(human.stdout, /default \(default\) +local:/);
    assertMatch(human.stdout, /lab +local:/);
  } finally {
    await s.done();
  }
});

Deno.test("transport add refuses a bad name, a taken name, a spec already added, an unknown kind and a missing folder, each in one line", async () => {
  const s = await setup();
  try {
    code(await s.syft(["transport", "add", "lab", `local:${s.other}`]), 0);
    oneLineError(await s.syft(["transport", "add", "Lab!", `local:${s.other}`]), 2, /name/);
    oneLineError(await s.syft(["transport", "add", "default", "local:/x"]), 2, /init's/);
    oneLineError(
      await s.syft(["transport", "add", "lab", `local:${s.base}`]),
      2,
      /transport lab already exists/,
    );
    oneLineError(
      await s.syft(["transport", "add", "twin", `local:${s.shared}`]),
      2,
      /already transport default/,
    );
    oneLineError(await s.syft(["transport", "add", "x", "ftp://h"]), 2, /unknown transport/);
    oneLineError(
      await s.syft(["transport", "add", "gone", `local:${s.base}/missing`]),
      4,
      /does not exist/,
    );
    const config = await Deno.readTextFile(posix.join(s.home, "config.yaml"));
    assert(!config.includes("gone") && !config.includes("twin"), config);
  } finally {
    await s.done();
  }
});

Deno.test("peer add --via opens the channel on that transport and binds the peer; an unknown --via exits 2", async () => {
  const s = await setup();
  try {
    code(await s.syft(["transport", "add", "lab", `local:${s.other}`]), 0);
    oneLineError(await s.syft(["peer", "add", BOB, "--via", "nope"]), 2, /--via "nope"/);
    const added = await s.syft(["peer", "add", BOB, "--via", "lab", "--json"]);
    code(added, 0);
    assertEquals(JSON.parse(added.stdout).via, "lab");
    const channel = `syft1#${ME}#${BOB}`;
    assert((await Deno.stat(posix.join(s.other, channel))).isDirectory);
    await Deno.stat(posix.join(s.shared, channel)).then(
      () => assert(false, "channel also on the default transport"),
      () => {},
    );
    const record = JSON.parse(await Deno.readTextFile(posix.join(s.home, "peers", `${BOB}.json`)));
    assertEquals(record.via, "lab");
    const listed = JSON.parse((await s.syft(["transport", "list", "--json"])).stdout);
    assertEquals(listed[1].peers, [BOB]);
    oneLineError(
      await s.syft(["peer", "add", BOB]),
      2,
      /already requested via lab/,
    );
  } finally {
    await s.done();
  }
});

Deno.test("transport remove refuses the default, an unknown name and one a peer uses; an unused one goes", async () => {
  const s = await setup();
  try {
    code(await s.syft(["transport", "add", "lab", `local:${s.other}`]), 0);
    code(await s.syft(["transport", "add", "spare", `local:${s.base}`]), 0);
    code(await s.syft(["peer", "add", BOB, "--via", "lab"]), 0);
    oneLineError(await s.syft(["transport", "remove", "default"]), 2, /cannot be removed/);
    oneLineError(await s.syft(["transport", "remove", "nope"]), 2, /no transport "nope"/);
    oneLineError(await s.syft(["transport", "remove", "lab"]), 2, /carries 1 peer/);
    code(await s.syft(["transport", "remove", "spare"]), 0);
    const listed = JSON.parse((await s.syft(["transport", "list", "--json"])).stdout);
    assertEquals(listed.map((t: { name: string }) => t.name), ["default", "lab"]);
  } finally {
    await s.done();
  }
});
