import { SyftError } from "../../core/errors/mod.ts";
import { assertEquals, assertMatch } from "../assert.ts";
import { runFuzz } from "./run.ts";
import { Finding, Refused, type Target } from "./targets.ts";

function fake(name: string, check: Target["check"]): Target {
  return { name, valid: [Uint8Array.of(1, 2, 3)], mutate: (b) => b, check };
}

Deno.test("a parser's own errors are refusals, anything else is a crash naming its seed", async () => {
  const report = await runFuzz({
    cases: 4,
    seed: 10,
    targets: [
      fake("typed", () => Promise.reject(new SyftError("E_BAD_MESSAGE", "no"))),
      fake("result", () => Promise.reject(new Refused("no"))),
      fake("crashes", () => Promise.reject(new TypeError("x is undefined"))),
      fake("accepts", () => Promise.resolve()),
    ],
  });
  assertEquals(report.perTarget["accepts"]?.cases, 1);
  assertEquals(report.perTarget["accepts"]?.accepted, 1);
  assertEquals(report.failures.map((f) => [f.seed, f.target]), [[10, "crashes"]]);
  assertMatch(report.failures[0]!.problem, /TypeError: x is undefined/);
});

Deno.test("a broken property and a hang are failures", async () => {
  const report = await runFuzz({
    cases: 2,
    seed: 0,
    caseTimeoutMs: 50,
    targets: [
      fake("unverified", () => Promise.reject(new Finding("opened unverified"))),
      fake("hangs", () => new Promise(() => {})),
    ],
  });
  assertEquals(report.failures.map((f) => `${f.target}: ${f.problem}`), [
    "unverified: opened unverified",
    "hangs: no answer within 50 ms",
  ]);
});
