/**
 * Transport calls per round (issue 4, "Done when"): two identities peered
 * through the real CLI, then rounds run in process through `openSync` with a
 * Transport wrapper that counts every method call made on the real `local:`
 * plugin. A round where the owner changed k small files costs at most 3 calls
 * (plus one per blob), and the k files travel in ONE batch object.
 * @module
 */
import { posix } from "node:path";
import { assert, assertEquals } from "../../assert.ts";
import { filesUnder, peerUp, put, world } from "../../e2e/_rig.ts";
import { readKeys } from "../../../core/config/keystore.ts";
import { homeLayout } from "../../../core/config/home.ts";
import { openEnvelope } from "../../../core/events/envelope.ts";
import { unpackBody } from "../../../core/events/body.ts";
import { parseBatchJson } from "../../../core/events/parse.ts";
import type { BatchJson } from "../../../core/events/types.ts";
import { summarizeCalls } from "../../../scripts/counting_transport.ts";
import { type Live, live, quiesce } from "../../e2e/_live.ts";

/** Decrypt and parse one batch of `from`'s channel to `to`, as `to` would. */
async function readBatch(from: Live, to: Live, name: string): Promise<BatchJson> {
  const toKeys = await readKeys(homeLayout(to.site.home).keys);
  const fromKeys = await readKeys(homeLayout(from.site.home).keys);
  const channel = { sender: from.site.email, recipient: to.site.email };
  const opened = await openEnvelope(
    await from.transport.inner.get(channel, name),
    { name, sender: channel.sender, recipient: channel.recipient, kind: "batch" },
    {
      senderSignPublic: fromKeys.sign.publicKey,
      agreePrivate: toKeys.agree.privateKey,
      senderAgreePublic: fromKeys.agree.publicKey,
    },
  );
  const json = await unpackBody(opened.body, { first: "batch.json", onContent: async () => {} });
  return parseBatchJson(json, channel);
}

Deno.test("transport calls per round: k changed small files cost ≤ 3 calls in one batch, a blob +1, an idle round 1 call", async () => {
  const w = await world();
  const owner = await w.site("owner@hospital.org");
  const ds = await w.site("ds@lab.org");
  await peerUp(ds, owner);

  const o = await live(owner);
  const d = await live(ds);
  const report: string[] = [];
  try {
    await quiesce(o, d);

    // Idle: nothing changed anywhere.
    o.transport.reset();
    await o.round();
    const idle = o.transport.reset();
    report.push(`idle owner round: ${idle.length} call(s) [${summarizeCalls(idle)}]`);
    assert(idle.length <= 1, `an idle round made ${idle.length} calls: ${summarizeCalls(idle)}`);
    d.transport.reset();
    await d.round();
    const idlePeer = d.transport.reset();
    report.push(`idle peer round: ${idlePeer.length} call(s) [${summarizeCalls(idlePeer)}]`);
    assert(
      idlePeer.length <= 1,
      `an idle round made ${idlePeer.length} calls: ${summarizeCalls(idlePeer)}`,
    );

    const channel = posix.join(w.shared, `syft1#${owner.email}#${ds.email}`);
    const batchesIn = async () =>
      (await filesUnder(channel)).filter((f) => /^b-\d{16}\.syft$/.test(f));

    for (const k of [1, 10, 100]) {
      const paths = Array.from({ length: k }, (_, i) => `public/k${k}/f${i}.txt`);
      for (const [i, p] of paths.entries()) await put(owner.datasite, p, `k=${k} file ${i}`);
      const before = await batchesIn();
      o.transport.reset();
      const summary = await o.round();
      const calls = o.transport.reset();
      report.push(
        `owner round with ${k} new small file(s): ${calls.length} [${summarizeCalls(calls)}]`,
      );
      assert(calls.length <= 3, `${k} files cost ${calls.length} calls: ${summarizeCalls(calls)}`);
      // Past `checkpoint_threshold` (50) events the round also writes a ci.
      const puts = calls.filter((c) => c.method === "put" && c.detail?.startsWith("b-"));
      assertEquals(puts.length, 1, `one batch for ${k} files: ${summarizeCalls(calls)}`);
      const checkpoints = calls.filter((c) => c.method === "put" && /^c[if]-/.test(c.detail ?? ""));
      assert(checkpoints.length <= (k >= 50 ? 1 : 0), summarizeCalls(calls));
      assertEquals(summary.sent, 1);
      const added = (await batchesIn()).filter((b) => !before.includes(b));
      assertEquals(added.length, 1, "the k files travel in ONE batch object");
      assertEquals(puts[0]!.detail, added[0]);
      const batch = await readBatch(o, d, added[0]!);
      assertEquals(batch.events.map((e) => e.path).sort(), [...paths].sort());

      d.transport.reset();
      await d.round();
      const applying = d.transport.reset();
      report.push(`peer round applying them: ${applying.length} [${summarizeCalls(applying)}]`);
      // Read: changes, list, get (+1 list if the page were full); answer: list, put (the ack).
      assert(applying.length <= 5, summarizeCalls(applying));
      assertEquals(applying.filter((c) => c.method === "get").length, 1, "one object to read");
      for (const p of paths) {
        assertEquals(
          await Deno.readTextFile(posix.join(ds.mirror(owner), p)),
          `k=${k} file ${paths.indexOf(p)}`,
        );
      }
      await quiesce(o, d);
    }

    // Changed (not new) files: 10 of the 100 edited.
    for (let i = 0; i < 10; i++) await put(owner.datasite, `public/k100/f${i}.txt`, `edited ${i}`);
    o.transport.reset();
    await o.round();
    const edited = o.transport.reset();
    report.push(`owner round with 10 edited files: ${edited.length} [${summarizeCalls(edited)}]`);
    assert(edited.length <= 3, summarizeCalls(edited));
    assertEquals(edited.filter((c) => c.method === "put").length, 1);
    await d.round();
    assertEquals(
      await Deno.readTextFile(posix.join(ds.mirror(owner), "public/k100/f3.txt")),
      "edited 3",
    );
    await quiesce(o, d);

    // One large file travels as a blob: 3 + 1.
    const big = new Uint8Array(300 * 1024).map((_, i) => (i * 7) & 0xff);
    await Deno.writeFile(posix.join(owner.datasite, "public/big.bin"), big);
    await put(owner.datasite, "public/small-with-big.txt", "beside the blob");
    o.transport.reset();
    await o.round();
    const withBlob = o.transport.reset();
    report.push(
      `owner round with one 300 KiB file + 1 small file: ${withBlob.length} [${
        summarizeCalls(withBlob)
      }]`,
    );
    assert(withBlob.length <= 4, summarizeCalls(withBlob));
    assertEquals(
      withBlob.filter((c) => c.method === "put").map((c) => c.detail!.slice(0, 2)).sort(),
      ["b-", "x-"],
    );
    await d.round();
    assertEquals(await Deno.readFile(posix.join(ds.mirror(owner), "public/big.bin")), big);
    await quiesce(o, d);

    // And idle again after all that.
    o.transport.reset();
    await o.round();
    const idleAgain = o.transport.reset();
    report.push(`idle owner round at the end: ${idleAgain.length} [${summarizeCalls(idleAgain)}]`);
    assert(idleAgain.length <= 1, summarizeCalls(idleAgain));
    assertEquals(o.warnings, [], "no warnings on the owner");
    assertEquals(d.warnings, [], "no warnings on the peer");
  } finally {
    // The figures behind the assertions, for whoever tunes the engine.
    if (Deno.env.get("SYFT_TEST_VERBOSE")) console.log(report.map((l) => `  ${l}`).join("\n"));
    await o.close();
    await d.close();
  }
});
