import { assertEquals } from "../assert.ts";
import { Finding, makeTargets } from "./targets.ts";

Deno.test("every target's valid inputs pass its check unmutated, so mutations start from accepted bytes", async () => {
  const refused: string[] = [];
  for (const target of await makeTargets()) {
    for (const [i, input] of target.valid.entries()) {
      try {
        await target.check(input, input);
      } catch (err) {
        refused.push(`${target.name}[${i}]: ${err instanceof Error ? err.message : err}`);
      }
    }
  }
  assertEquals(refused, []);
});

Deno.test("one changed byte of a sealed envelope never opens", async () => {
  const envelope = (await makeTargets()).find((t) => t.name === "envelope")!;
  for (const original of envelope.valid) {
    for (const at of [0, 7, 40, original.length - 1]) {
      const bent = new Uint8Array(original);
      bent[at]! ^= 0x01;
      let opened = true;
      try {
        await envelope.check(bent, original);
      } catch (err) {
        // The check throws a Finding exactly when a changed envelope opened.
        opened = err instanceof Finding;
      }
      assertEquals(opened, false, `byte ${at} of ${original.length}`);
    }
  }
});
