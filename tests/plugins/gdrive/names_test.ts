/**
 * Drive's naming sharp edges: names are re-checked after every query, `q`
 * literals are escaped, duplicate names resolve to the earliest copy for
 * every writer, and only well-formed channel folders count.
 */
import { assert, assertEquals } from "../_assert.ts";
import {
  type DriveFile,
  exactlyNamed,
  parseFile,
  qString,
  resolveCreate,
  winner,
} from "../../../plugins/gdrive/_files.ts";
import { parseChannelFolderName } from "../../../plugins/gdrive/_layout.ts";

function file(id: string, name: string, created: string, owner = "a@x.org"): DriveFile {
  const parsed = parseFile({
    id,
    name,
    size: "3",
    createdTime: created,
    owners: [{ emailAddress: owner }],
  });
  assert(parsed);
  return parsed;
}

Deno.test("names that only share a word prefix (name contains) are dropped", () => {
  const found = [
    file("1", "b-0000000000000001.syft", "2026-01-01T00:00:00Z"),
    file("2", "b-0000000000000001.syft.tmp", "2026-01-01T00:00:00Z"),
    file("3", "B-0000000000000001.SYFT", "2026-01-01T00:00:00Z"),
    file("4", "b-0000000000000001", "2026-01-01T00:00:00Z"),
  ];
  assertEquals(exactlyNamed(found, "b-0000000000000001.syft").map((f) => f.id), ["1"]);
});

Deno.test("a copy owned by someone else does not count as the channel sender's", () => {
  const found = [
    file("1", "hello.json", "2026-01-01T00:00:00Z", "mallory@evil.org"),
    file("2", "hello.json", "2026-01-02T00:00:00Z", "a@x.org"),
  ];
  assertEquals(exactlyNamed(found, "hello.json", "a@x.org").map((f) => f.id), ["2"]);
});

Deno.test("of two copies of one name the earliest created wins, then the smaller id", () => {
  const early = file("zz", "race.syft", "2026-01-01T00:00:00.001Z");
  const late = file("aa", "race.syft", "2026-01-01T00:00:00.002Z");
  assertEquals(winner([late, early])?.id, "zz");
  const tieA = file("a1", "race.syft", "2026-01-01T00:00:00Z");
  const tieB = file("b1", "race.syft", "2026-01-01T00:00:00Z");
  assertEquals(winner([tieB, tieA])?.id, "a1");
  assertEquals(winner([]), null);
});

Deno.test("the later writer of a name loses and must delete its own copy; the earlier keeps it", () => {
  const first = file("f1", "race.syft", "2026-01-01T00:00:00Z");
  const second = file("f2", "race.syft", "2026-01-01T00:00:01Z");
  assertEquals(resolveCreate([first, second], (f) => f.id === "f2"), {
    won: false,
    kept: null,
    losers: ["f2"],
  });
  const kept = resolveCreate([first, second], (f) => f.id === "f1");
  assertEquals([kept.won, kept.kept?.id, kept.losers], [true, "f1", []]);
  // The listing lags and shows nothing yet: our create stands.
  assertEquals(resolveCreate([], () => true), { won: true, kept: null, losers: [] });
});

Deno.test("a copy left by an earlier attempt whose answer was lost counts as ours", () => {
  const orphan = file("o1", "b-1.syft", "2026-01-01T00:00:00Z"); // attempt 1, answer lost
  const retry = file("r2", "b-1.syft", "2026-01-01T00:00:02Z"); // attempt 2
  const outcome = resolveCreate([retry, orphan], (f) => f.id === "o1" || f.id === "r2");
  assertEquals([outcome.won, outcome.kept?.id, outcome.losers], [true, "o1", ["r2"]]);
});

Deno.test("q string literals escape quotes and backslashes", () => {
  assertEquals(qString("syft1#a@x.org#b@y.org"), "'syft1#a@x.org#b@y.org'");
  assertEquals(qString("it's"), "'it\\'s'");
  assertEquals(qString("back\\slash"), "'back\\\\slash'");
});

Deno.test("malformed file resources are dropped, sizes and owners are normalised", () => {
  assertEquals(parseFile({ name: "no id" }), null);
  assertEquals(parseFile("junk"), null);
  const f = parseFile({
    id: "x",
    name: "n",
    size: "12",
    owners: [{ emailAddress: "A@X.ORG" }, { nope: 1 }],
    createdTime: "not a date",
  });
  assertEquals([f?.size, f?.owners, f?.createdMs], [12, ["a@x.org"], 0]);
});

Deno.test("only syft1#<sender>#<recipient> folder names with valid identities are channels", () => {
  assertEquals(parseChannelFolderName("syft1#a@x.org#b@y.org"), {
    sender: "a@x.org",
    recipient: "b@y.org",
  });
  for (
    const junk of [
      "syft1#a@x.org",
      "syft2#a@x.org#b@y.org",
      "syft1#A@X.ORG#b@y.org",
      "syft1#a@x.org#b@y.org#c@z.org",
      "syft1 a@x.org b@y.org",
    ]
  ) {
    assertEquals(parseChannelFolderName(junk), null, junk);
  }
});
