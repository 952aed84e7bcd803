/** `deno task test`'s plan: which files run in which pass, and in what order. */
import { assert, assertEquals } from "../assert.ts";
import {
  KILLS,
  OWN_PROCESS,
  parallelOrder,
  SERIAL,
  SLOW_FIRST,
  testFiles,
  TIMED,
} from "../../scripts/test_suite.ts";

const ALL = testFiles("tests");

Deno.test("every test file of tests/ runs in exactly one pass of the suite", () => {
  const passes = [...parallelOrder(ALL), ...KILLS, ...OWN_PROCESS, ...TIMED];
  assertEquals([...passes].sort(), [...ALL].sort());
  assertEquals(new Set(passes).size, passes.length, "a file runs twice");
  assertEquals(SERIAL, [...KILLS, ...OWN_PROCESS, ...TIMED]);
});

Deno.test("the suite's file lists name files that exist, and the parallel pass is given the slow files first", () => {
  for (const f of [...SERIAL, ...SLOW_FIRST]) assert(ALL.includes(f), `${f} is not a test file`);
  const order = parallelOrder(ALL);
  assertEquals(order.slice(0, SLOW_FIRST.length), SLOW_FIRST);
  const rest = order.slice(SLOW_FIRST.length);
  assertEquals(rest, [...rest].sort(), "the other files follow in path order");
});

Deno.test("test files are found by deno test's own pattern, helpers and fixtures are not", () => {
  assert(ALL.includes("tests/scripts/test_suite_test.ts"));
  assert(!ALL.some((f) => f.endsWith("/_rig.ts") || f.endsWith("/assert.ts")));
  assert(ALL.every((f) => /(^|\/|[._])test\.ts$/.test(f)), "only *_test.ts, *.test.ts, test.ts");
});
