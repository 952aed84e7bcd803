/**
 * Issue 12, item 2: text a job or a peer wrote (a script under review, a reason,
 * a dataset summary) never reaches the terminal raw. Escape sequences and bidi
 * controls are shown as `\x1b`, `\u202e`; `--json` stays valid JSON that reads
 * back to the same strings.
 */
import { posix } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { escapeTerminal, terminalSafeJson } from "../../core/encoding/terminal.ts";
import { peerUp, put, world } from "../e2e/_rig.ts";

const ALICE = "alice@example.org";
const CAROL = "carol@example.org";

/** What a hostile author puts in text meant for a person. */
const HOSTILE = [
  "\x1b[2J", // clear the screen
  "\x1b]0;owned\x07", // set the window title
  "\x1b[8m", // hide what follows
  "\u202e", // right-to-left override
  "\u2066", // left-to-right isolate
  "\x9b31m", // C1 CSI
  "\x7f", // DEL
  "\r", // carriage return: overwrite the line
].join("");

/** Any character a terminal would act on instead of showing (newline and tab allowed). */
// deno-lint-ignore no-control-regex -- an independent list, not the one under test
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function assertNothingRaw(text: string, what: string): void {
  const m = RAW.exec(text);
  assert(m === null, `${what} prints U+${m?.[0].charCodeAt(0).toString(16)} raw:\n${text}`);
}

Deno.test("escapeTerminal() shows every control and bidi character and keeps newline and tab", () => {
  assertEquals(
    escapeTerminal(`a${HOSTILE}\tb\nc`),
    "a\\x1b[2J\\x1b]0;owned\\x07\\x1b[8m\\u202e\\u2066\\x9b31m\\x7f\\x0d\tb\nc",
  );
  assertEquals(escapeTerminal(escapeTerminal(HOSTILE)), escapeTerminal(HOSTILE), "idempotent");
  const json = terminalSafeJson({ s: HOSTILE });
  assertNothingRaw(json, "terminalSafeJson()");
  assertEquals(JSON.parse(json), { s: HOSTILE }, "JSON reads back to the same string");
});

Deno.test("untrusted text never reaches a terminal raw: job show, reasons and dataset summaries", async () => {
  const w = await world();
  try {
    const alice = await w.site(ALICE);
    const carol = await w.site(CAROL);
    const data = posix.join(w.base, "data");
    await put(data, "mock/a.csv", "age\n1\n");
    await put(data, "private/a.csv", "age\n42\n");
    await alice.ok([
      "dataset",
      "create",
      "ages",
      "--mock",
      posix.join(data, "mock"),
      "--private",
      posix.join(data, "private"),
      "--summary",
      "ages of patients",
    ]);
    // `create` refuses such a summary; a hostile owner writes its own dataset.yaml.
    const meta = posix.join(alice.datasite, "public/syft_datasets/ages/dataset.yaml");
    const text = await Deno.readTextFile(meta);
    await Deno.writeTextFile(
      meta,
      text.replace(/^summary: .*$/m, `summary: ${JSON.stringify(`ages ${HOSTILE} of patients`)}`)
        .replace(/^readme: .*$/m, `readme: ${JSON.stringify(`read me ${HOSTILE}`)}`),
    );
    await alice.ok(["sync"]);
    await peerUp(carol, alice);
    await carol.ok(["sync"]);

    // The scientist reads the owner's summary.
    for (const args of [["dataset", "list"], ["dataset", "show", "ages"]]) {
      const r = await carol.ok(args);
      assertNothingRaw(r.stdout + r.stderr, `carol: syft ${args.join(" ")}`);
    }
    const listed = await carol.ok(["dataset", "list", "--json"]);
    assertNothingRaw(listed.stdout, "dataset list --json");
    assertStringIncludes(JSON.stringify(JSON.parse(listed.stdout)), "of patients");

    // The owner reviews a hostile script.
    const dir = posix.join(w.base, "job");
    await put(dir, "run.sh", `#!/bin/bash\necho hi # ${HOSTILE}\nrm -rf "$HOME"\n`);
    const sent = JSON.parse(
      (await carol.ok([
        "job",
        "submit",
        "--to",
        ALICE,
        "--dir",
        dir,
        "--dataset",
        "ages",
        "--name",
        "ages",
        "--json",
      ])).stdout,
    ) as { id: string };
    await alice.ok(["sync"]);
    const show = await alice.ok(["job", "show", sent.id]);
    assertNothingRaw(show.stdout + show.stderr, "job show");
    assertStringIncludes(show.stdout, "\\x1b[2J");
    assertStringIncludes(show.stdout, "\\u202e");
    assertStringIncludes(show.stdout, 'rm -rf "$HOME"');
    const shownJson = await alice.ok(["job", "show", sent.id, "--json"]);
    assertNothingRaw(shownJson.stdout, "job show --json");
    JSON.parse(shownJson.stdout);

    // A reason travels back to the submitter and is shown there.
    await alice.ok(["job", "reject", sent.id, "--reason", `no ${HOSTILE} thanks`]);
    await alice.ok(["sync"]);
    await carol.ok(["sync"]);
    for (const args of [["job", "show", sent.id], ["job", "list"]]) {
      const r = await carol.ok(args);
      assertNothingRaw(r.stdout + r.stderr, `carol: syft ${args.join(" ")}`);
    }

    // An error that quotes what the user typed goes through the same gate.
    const bad = await carol.syft(["job", "show", `x${HOSTILE}`]);
    assert(bad.code !== 0);
    assertNothingRaw(bad.stdout + bad.stderr, "an error message");
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});
