/**
 * Found by the fuzzer, seed 14, target job-config: the yaml package reported an
 * unresolved tag through `process.emitWarning`, which prints the offending
 * source line verbatim on stderr, so a peer's config.yaml could put raw escape
 * sequences on the owner's terminal. Peer YAML is now parsed with
 * `logLevel: "error"` (core/jobs/_fields.ts, datasets/meta.ts, permissions/parse.ts).
 */
import process from "node:process";
import { parseJobConfig } from "../../core/jobs/config.ts";
import { assertEquals } from "../assert.ts";

Deno.test({
  name: "a hostile config.yaml never reaches stderr through yaml warnings",
  fn() {
    const warned: string[] = [];
    const original = process.emitWarning;
    process.emitWarning = (w: string | Error) => void warned.push(String(w));
    try {
      parseJobConfig("a: !!js/\x1b]0;pwned\x07 x\n", "config.yaml");
    } catch {
      // refusing it is fine; printing it is not
    } finally {
      process.emitWarning = original;
    }
    assertEquals(warned, []);
  },
});
