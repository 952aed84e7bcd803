/**
 * How a change feed entry marks incoming channels, and the cursor that
 * carries what `changes()` knows between rounds.
 */
import { assert, assertEquals } from "../_assert.ts";
import { decodeCursor, encodeCursor, markChange } from "../../../plugins/gdrive/_changes.ts";
import { type DriveFile, parseFile } from "../../../plugins/gdrive/_files.ts";

const ME = "bob@y.org";

function file(fields: Record<string, unknown>): DriveFile {
  const parsed = parseFile({ id: "f", name: "n", ...fields });
  assert(parsed);
  return parsed;
}

const folder = (id: string, name: string, owner: string) =>
  file({
    id,
    name,
    mimeType: "application/vnd.google-apps.folder",
    owners: [{ emailAddress: owner }],
  });

Deno.test("a channel folder shared by its sender marks and records that channel", () => {
  const folders: Record<string, string> = {};
  const marked = new Set<string>();
  const found = markChange(
    { fileId: "F1", removed: false, file: folder("F1", "syft1#a@x.org#bob@y.org", "a@x.org") },
    ME,
    folders,
    marked,
  );
  assertEquals(found, { ref: { sender: "a@x.org", recipient: ME }, id: "F1" });
  assertEquals([...marked], ["a@x.org"]);
  assertEquals(folders, { F1: "a@x.org" });
});

Deno.test("a channel-named folder owned by another, or to another recipient, marks nothing", () => {
  const folders: Record<string, string> = {};
  const marked = new Set<string>();
  for (
    const f of [
      folder("F1", "syft1#a@x.org#bob@y.org", "mallory@evil.org"),
      folder("F2", "syft1#a@x.org#carol@z.org", "a@x.org"),
    ]
  ) {
    assertEquals(markChange({ fileId: f.id, removed: false, file: f }, ME, folders, marked), null);
  }
  assertEquals([marked.size, Object.keys(folders).length], [0, 0]);
});

Deno.test("a file in a known channel folder marks that channel only", () => {
  const folders = { F1: "a@x.org", F2: "c@z.org" };
  const marked = new Set<string>();
  markChange(
    { fileId: "o", removed: false, file: file({ id: "o", parents: ["F2"] }) },
    ME,
    folders,
    marked,
  );
  assertEquals([...marked], ["c@z.org"]);
  markChange(
    { fileId: "p", removed: false, file: file({ id: "p", parents: ["mine"] }) },
    ME,
    folders,
    marked,
  );
  assertEquals([...marked], ["c@z.org"], "our own files elsewhere mark nothing");
});

Deno.test("a removal Drive cannot place marks every known channel", () => {
  const folders = { F1: "a@x.org", F2: "c@z.org" };
  const marked = new Set<string>();
  markChange({ fileId: "gone", removed: true, file: null }, ME, folders, marked);
  assertEquals([...marked].sort(), ["a@x.org", "c@z.org"]);
  const again = new Set<string>();
  markChange({ fileId: "F1", removed: true, file: null }, ME, folders, again);
  assertEquals([[...again], folders], [["a@x.org"], { F2: "c@z.org" }]);
});

Deno.test("the cursor round-trips, and a damaged one reads as none", () => {
  const cursor = { token: "1234", rounds: 7, folders: { F1: "a@x.org" } };
  assertEquals(decodeCursor(encodeCursor(cursor)), cursor);
  for (
    const bad of [
      "",
      "not base64!",
      btoa("{}"),
      btoa('{"v":1,"t":"1","n":0,"f":{"x":"Not An Email"}}'),
    ]
  ) {
    assertEquals(decodeCursor(bad), null, bad);
  }
});
