import { assertEquals } from "../assert.ts";
import { Output, type OutputSink } from "../../cli/output.ts";
import { renderBar } from "../../cli/progress.ts";

function capture(): { sink: OutputSink; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { sink: { out: (t) => out.push(t), err: (t) => err.push(t) }, out, err };
}

Deno.test("Output.result() prints exactly one JSON document with --json and nothing else", () => {
  const c = capture();
  const o = new Output({ json: true, quiet: false }, c.sink);
  o.line("people only");
  o.result({ a: 1 }, () => o.line("human"));
  assertEquals(c.out.length, 1);
  assertEquals(JSON.parse(c.out[0]!), { a: 1 });
});

Deno.test("Output with --quiet prints nothing but keeps stderr for errors", () => {
  const c = capture();
  const o = new Output({ json: false, quiet: true }, c.sink);
  o.result({ a: 1 }, () => o.line("human"));
  o.warn("careful");
  assertEquals(c.out, []);
  assertEquals(c.err, []);
});

Deno.test("Output.table() aligns columns under upper-case headers", () => {
  const c = capture();
  new Output({ json: false, quiet: false }, c.sink).table(
    [{ e: "a@b.org", s: "accepted" }, { e: "longer@example.org", s: "pending" }],
    [{ header: "email", value: (r) => r.e }, { header: "state", value: (r) => r.s }],
  );
  assertEquals(
    c.out.join(""),
    [
      "EMAIL               STATE",
      "a@b.org             accepted",
      "longer@example.org  pending",
      "",
    ].join("\n"),
  );
});

Deno.test("renderBar() draws the fraction done and clamps overshoot", () => {
  assertEquals(renderBar("sync", 5, 10, 10), "sync [#####     ]  50% 5/10");
  assertEquals(renderBar("sync", 12, 10, 4), "sync [####] 100% 12/10");
  assertEquals(renderBar("sync", 0, 0, 4), "sync [    ]   0% 0/0");
});
