import { assertEquals } from "../../assert.ts";
import { isRecord } from "../../../core/encoding/record.ts";

Deno.test("isRecord() takes plain JSON objects and nothing typeof also calls an object", () => {
  const table: [unknown, boolean][] = [
    [{}, true],
    [{ a: 1 }, true],
    [JSON.parse('{"__proto__": 1}'), true],
    [Object.create(null), true],
    [null, false],
    [[], false],
    [[{}], false],
    ["{}", false],
    [0, false],
    [undefined, false],
  ];
  for (const [value, want] of table) assertEquals(isRecord(value), want, JSON.stringify(value));
});
