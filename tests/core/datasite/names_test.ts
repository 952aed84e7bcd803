import { assertEquals } from "../../assert.ts";
import {
  isHiddenName,
  isMarker,
  isPermissionFile,
  isPrivatePath,
  isSyftName,
  isSyftTemp,
  markerName,
  syftTempName,
} from "../../../core/datasite/names.ts";

/** One row: a name and what each rule says of it. */
interface Row {
  name: string;
  hidden: boolean;
  permission: boolean;
  marker: boolean;
  temp: boolean;
}

const T = Date.UTC(2026, 11, 5, 1, 15, 2);
const UUID = "0f8fad5b-d9cb-469f-a165-70867728950e";

const NAMES: Row[] = [
  { name: "data.csv", hidden: false, permission: false, marker: false, temp: false },
  { name: ".env", hidden: true, permission: false, marker: false, temp: false },
  { name: ".syft-tmp", hidden: true, permission: false, marker: false, temp: false },
  { name: "syft.pub.yaml", hidden: false, permission: true, marker: false, temp: false },
  { name: "old.syft.pub.yaml", hidden: false, permission: false, marker: false, temp: false },
  { name: "syft.pub.yaml.bak", hidden: false, permission: false, marker: false, temp: false },
  {
    name: markerName("a.csv", "conflict", T),
    hidden: false,
    permission: false,
    marker: true,
    temp: false,
  },
  {
    name: markerName("a.csv", "rejected", T, 2),
    hidden: false,
    permission: false,
    marker: true,
    temp: false,
  },
  {
    name: "a.csv.conflict.1700000000000",
    hidden: false,
    permission: false,
    marker: true,
    temp: false,
  },
  {
    name: "minutes.conflict.2024.md",
    hidden: false,
    permission: false,
    marker: false,
    temp: false,
  },
  { name: "a.csv.rejected.", hidden: false, permission: false, marker: false, temp: false },
  { name: `.a.csv.tmp-${UUID}`, hidden: true, permission: false, marker: false, temp: true },
  {
    name: `.a.csv.tmp-${UUID.toUpperCase()}`,
    hidden: true,
    permission: false,
    marker: false,
    temp: false,
  },
  { name: `a.csv.tmp-${UUID}`, hidden: false, permission: false, marker: false, temp: false },
];

Deno.test("each naming rule gives the verdict of its row in the table of names", () => {
  for (const row of NAMES) {
    const got: Row = {
      name: row.name,
      hidden: isHiddenName(row.name),
      permission: isPermissionFile(row.name),
      marker: isMarker(row.name),
      temp: isSyftTemp(row.name),
    };
    assertEquals(got, row);
    assertEquals(isSyftName(row.name), row.marker || row.temp, row.name);
  }
});

Deno.test("syftTempName() writes a name that isSyftTemp() and isHiddenName() recognise", () => {
  const name = syftTempName("report.pdf");
  assertEquals([isSyftTemp(name), isHiddenName(name), isMarker(name)], [true, true, false]);
});

Deno.test("isPermissionFile() takes a permission file at any depth and nothing named like one", () => {
  const table: [string, boolean][] = [
    ["syft.pub.yaml", true],
    ["public/syft.pub.yaml", true],
    ["app_data/job/inbox/a@b.org/syft.pub.yaml", true],
    ["public/xsyft.pub.yaml", false],
    ["public/syft.pub.yaml/x", false],
  ];
  for (const [path, want] of table) assertEquals(isPermissionFile(path), want, path);
});

Deno.test("isPrivatePath() takes the top-level private/ folder and what is under it, nothing else", () => {
  const table: [string, boolean][] = [
    ["private", true],
    ["private/ages.csv", true],
    ["private/a/b", true],
    ["privately.txt", false],
    ["private-notes/x", false],
    ["public/private/x", false],
    ["Private/x", false],
  ];
  for (const [path, want] of table) assertEquals(isPrivatePath(path), want, path);
});
