/**
 * The small pure pieces of the Dropbox plugin: object names kept
 * case-sensitive on a case-insensitive store, the changes cursor parsed
 * bounded, channel folder names (with a clash suffix), and the listing
 * index following a cursor's entries.
 */
import { assertEquals } from "../_assert.ts";
import { objectName, storedName } from "../../../plugins/dropbox/_names.ts";
import { decodeCursor, encodeCursor } from "../../../plugins/dropbox/_changes.ts";
import { parseChannelFolderName } from "../../../plugins/dropbox/_layout.ts";
import { covers, FolderIndex } from "../../../plugins/dropbox/_index.ts";
import type { Entry } from "../../../plugins/dropbox/_entries.ts";

Deno.test("object names differing only in case are stored apart, and lower-case names as they are", () => {
  assertEquals(storedName("b-0000000000000001.syft"), "b-0000000000000001.syft");
  assertEquals([storedName("zAk"), storedName("zak"), storedName("ZAK")], [
    "z~ak",
    "zak",
    "~z~a~k",
  ]);
  for (const name of ["zAk", "ABC._-xyz", "0", "-x", "trailing.dot."]) {
    assertEquals(objectName(storedName(name)), name);
  }
  // Anything no put of ours writes is not an object.
  for (const stored of ["Z~ak", "a~", "a~1", ".hidden", "a b", "é", "~"]) {
    assertEquals(objectName(stored), null, stored);
  }
});

Deno.test("a changes cursor round-trips, and anything else means a full sync", () => {
  const v2 = (value: unknown) => "dbx2." + btoa(JSON.stringify(value));
  const cursor = {
    dropbox: "AAE-cursor",
    scope: "/syft",
    channels: [[
      "alice@example.org",
      "id:123",
      "/syft/syft1#alice@example.org#bob@example.org",
    ]] as [
      string,
      string,
      string,
    ][],
    owners: { "id:123": ["alice@example.org", "dbid:AAA"] as [string, string] },
    invitesAt: 1_700_000_000_000,
    outgoing: ["carol@example.org"],
  };
  assertEquals(decodeCursor(encodeCursor(cursor)), cursor);
  assertEquals(decodeCursor(encodeCursor({ ...cursor, scope: "" }))?.scope, "");
  for (
    const bad of [
      "",
      "dbx2.",
      "dbx2.!!",
      "other",
      // a v1 cursor: one full sync after the upgrade
      "dbx1." + btoa(JSON.stringify(["c", "/syft", [], {}])),
      v2(["c", "/etc", [], {}, 0, []]),
      v2(["c", "/syft", [["Not An Email", "id:1", "/syft/x"]], {}, 0, []]),
      v2(["c", "/syft", [["a@b.org", "", "/syft/x"]], {}, 0, []]),
      v2(["c", "/syft", [], { x: ["a@b.org"] }, 0, []]),
      v2(["c", "/syft", [], {}, -1, []]),
      v2(["c", "/syft", [], {}, 0, ["Not An Email"]]),
      v2(["c", "/syft", [], {}, 0]),
      "dbx2." + "A".repeat(2 * 1024 * 1024),
    ]
  ) {
    assertEquals(decodeCursor(bad), null, bad.slice(0, 40));
  }
});

Deno.test("channel folder names parse with a mount's clash suffix, and nothing else does", () => {
  assertEquals(parseChannelFolderName("syft1#a@x.org#b@y.org"), {
    sender: "a@x.org",
    recipient: "b@y.org",
  });
  assertEquals(parseChannelFolderName("syft1#a@x.org#b@y.org (1)")?.sender, "a@x.org");
  for (const name of ["syft1#a@x.org", "syft2#a@x.org#b@y.org", "syft1#a#b@y.org", "x (1)"]) {
    assertEquals(parseChannelFolderName(name), null, name);
  }
});

Deno.test("the index follows a cursor's entries: files, deletions, and a folder's removal", () => {
  const file = (path: string, size = 1): Entry => ({
    tag: "file",
    name: path.split("/").pop()!,
    pathLower: path,
    size,
  });
  const index = new FolderIndex();
  index.reset(
    "/syft",
    [
      { tag: "folder", name: "syft1#a#b", pathLower: "/syft/syft1#a#b", size: 0 },
      file("/syft/syft1#a#b/one"),
      file("/syft/syft1#a#b/two"),
    ],
    "c1",
    1000,
  );
  assertEquals(index.entries("/syft/syft1#a#b").map((e) => e.name).sort(), ["one", "two"]);
  index.apply(
    [{ ...file("/syft/syft1#a#b/one"), tag: "deleted" }, file("/syft/syft1#a#b/three")],
    "c2",
    2000,
  );
  assertEquals(index.entries("/syft/syft1#a#b").map((e) => e.name).sort(), ["three", "two"]);
  assertEquals([index.cursor, index.fresh(500, 2400), index.fresh(500, 2600)], ["c2", true, false]);
  index.apply([{ tag: "deleted", name: "syft1#a#b", pathLower: "/syft/syft1#a#b", size: 0 }], "c3");
  assertEquals(index.entries("/syft/syft1#a#b"), []);
  assertEquals(index.folder("/syft/syft1#a#b"), undefined);
  assertEquals([covers("/syft", "/syft/x"), covers("/syft", "/syft1#a#b"), covers("", "/x")], [
    true,
    false,
    true,
  ]);
});
