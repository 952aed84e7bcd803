/**
 * The lines `syft sync` prints for refused writes (issue 14, item 8): one per
 * refusal with the owner's words, the first 20 by name and a count of the
 * rest, words of our own when an older owner sent none, and peer text escaped
 * on its way to the terminal.
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { Output, type OutputSink } from "../../../cli/output.ts";
import {
  describeRefusal,
  keepRefusals,
  MAX_KEPT_REFUSALS,
  ownerDetail,
  type PeerRefusal,
  refusalLines,
} from "../../../core/sync/refusals.ts";

function refusal(path: string, over: Partial<PeerRefusal> = {}): PeerRefusal {
  return {
    peer: "do@x.org",
    path,
    reason: "permission",
    detail: ownerDetail("permission", path),
    copy: `${path}.rejected.20261205T011502Z`,
    at: 0,
    ...over,
  };
}

Deno.test("a refusal is one line naming the path, the owner and the owner's reason", () => {
  assertEquals(
    describeRefusal(refusal("public/x.csv")),
    "refused: public/x.csv by do@x.org: you may not write public/",
  );
  // An older owner sends no words: ours for its reason code.
  assertEquals(
    describeRefusal(refusal("public/x.csv", { reason: "conflict", detail: null })),
    "refused: public/x.csv by do@x.org: the file changed on their side since your copy",
  );
  assertEquals(ownerDetail("permission", "top.txt"), "you may not write top.txt");
  assertEquals(ownerDetail("quota", "a", 1024 * 1024 * 1024), "over your inbox quota (1024 MiB)");
});

Deno.test("sync names the first 20 refusals by name and counts the rest", () => {
  const many = Array.from(
    { length: 25 },
    (_, i) => refusal(`public/f${String(i).padStart(2, "0")}.csv`),
  ).reverse();
  const lines = refusalLines(many);
  assertEquals(lines.length, 21);
  assertEquals(lines[0], "refused: public/f00.csv by do@x.org: you may not write public/");
  assertEquals(lines[19], "refused: public/f19.csv by do@x.org: you may not write public/");
  assertEquals(lines[20], "… and 5 more refused write(s): see `syft status`");
  assertEquals(refusalLines([]), []);
});

Deno.test("a channel state keeps the newest refusals only", () => {
  const kept = keepRefusals(
    [],
    Array.from({ length: MAX_KEPT_REFUSALS + 5 }, (_, i) => refusal(`p${i}`)),
  );
  assertEquals(kept.length, MAX_KEPT_REFUSALS);
  assertEquals(kept[kept.length - 1]!.path, `p${MAX_KEPT_REFUSALS + 4}`);
});

Deno.test("an owner's words reach the terminal escaped", () => {
  const out: string[] = [];
  const sink: OutputSink = { out: (t) => out.push(t), err: () => {} };
  const line = describeRefusal(refusal("public/x.csv", { detail: "no\u001b[2J\u202eway" }));
  new Output({ json: false, quiet: false }, sink).line(line);
  const printed = out.join("");
  assert(!printed.includes("\u001b") && !printed.includes("\u202e"), JSON.stringify(out));
});
