/**
 * Transport calls per round (issue 4, "Done when"), counted in memory: a round
 * where the owner changed k small files costs at most 3 calls (plus one per
 * blob), and the k files travel in ONE batch object. The calls are the
 * engine's choice, so any transport that keeps the contract shows the same
 * counts; in memory the whole walk takes well under a second.
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { openEnvelope } from "../../../../core/events/envelope.ts";
import { unpackBody } from "../../../../core/events/body.ts";
import { parseBatchJson } from "../../../../core/events/parse.ts";
import type { BatchJson } from "../../../../core/events/types.ts";
import { CountingTransport, summarizeCalls } from "../../../../scripts/counting_transport.ts";
import { type MemorySite, MemoryWorld } from "../../../../core/testing/world.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

/** Decrypt and parse one batch of `from`'s channel to `to`, as `to` would. */
async function readBatch(world: MemoryWorld, from: MemorySite, to: MemorySite, name: string) {
  const channel = { sender: from.me, recipient: to.me };
  const opened = await openEnvelope(
    await world.storage.transport(to.me).get(channel, name),
    { name, sender: channel.sender, recipient: channel.recipient, kind: "batch" },
    {
      senderSignPublic: from.keys.sign.publicKey,
      agreePrivate: to.keys.agree.privateKey,
      senderAgreePublic: from.keys.agree.publicKey,
    },
  );
  const json = await unpackBody(opened.body, { first: "batch.json", onContent: async () => {} });
  return parseBatchJson(json, channel) as BatchJson;
}

/** Count the calls of `site`'s rounds from now on. */
function counted(site: MemorySite): CountingTransport {
  const counting = new CountingTransport(site.ctx.transport);
  site.ctx.transport = counting;
  return counting;
}

Deno.test("transport calls per round: k changed small files cost ≤ 3 calls in one batch, a blob +1, an idle round 1 call", async () => {
  const world = new MemoryWorld();
  const owner = await world.site(OWNER);
  const ds = await world.site(DS);
  await world.connect(ds, owner);
  const o = counted(owner);
  const d = counted(ds);
  const report: string[] = [];
  try {
    // Idle: nothing changed anywhere.
    o.reset();
    await owner.sync();
    const idle = o.reset();
    report.push(`idle owner round: ${idle.length} call(s) [${summarizeCalls(idle)}]`);
    assert(idle.length <= 1, `an idle round made ${idle.length} calls: ${summarizeCalls(idle)}`);
    d.reset();
    await ds.sync();
    const idlePeer = d.reset();
    report.push(`idle peer round: ${idlePeer.length} call(s) [${summarizeCalls(idlePeer)}]`);
    assert(idlePeer.length <= 1, `an idle round made ${idlePeer.length} calls`);

    const channel = { sender: OWNER, recipient: DS };
    const batchesIn = () => world.storage.names(channel).filter((f) => /^b-\d{16}\.syft$/.test(f));

    for (const k of [1, 10, 100]) {
      const paths = Array.from({ length: k }, (_, i) => `public/k${k}/f${i}.txt`);
      for (const [i, p] of paths.entries()) owner.writeOwn(p, `k=${k} file ${i}`);
      const before = batchesIn();
      o.reset();
      const summary = await owner.sync();
      const calls = o.reset();
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
      const added = batchesIn().filter((b) => !before.includes(b));
      assertEquals(added.length, 1, "the k files travel in ONE batch object");
      assertEquals(puts[0]!.detail, added[0]);
      const batch = await readBatch(world, owner, ds, added[0]!);
      assertEquals(batch.events.map((e) => e.path).sort(), [...paths].sort());

      d.reset();
      await ds.sync();
      const applying = d.reset();
      report.push(`peer round applying them: ${applying.length} [${summarizeCalls(applying)}]`);
      // Read: changes, list, get (+1 list if the page were full); answer: list, put (the ack).
      assert(applying.length <= 5, summarizeCalls(applying));
      assertEquals(applying.filter((c) => c.method === "get").length, 1, "one object to read");
      for (const [i, p] of paths.entries()) {
        assertEquals(ds.read(`${OWNER}/${p}`), `k=${k} file ${i}`);
      }
      await world.settle();
    }

    // Changed (not new) files: 10 of the 100 edited.
    for (let i = 0; i < 10; i++) owner.writeOwn(`public/k100/f${i}.txt`, `edited ${i}`);
    o.reset();
    await owner.sync();
    const edited = o.reset();
    report.push(`owner round with 10 edited files: ${edited.length} [${summarizeCalls(edited)}]`);
    assert(edited.length <= 3, summarizeCalls(edited));
    assertEquals(edited.filter((c) => c.method === "put").length, 1);
    await ds.sync();
    assertEquals(ds.read(`${OWNER}/public/k100/f3.txt`), "edited 3");
    await world.settle();

    // One large file travels as a blob: 3 + 1.
    const big = new Uint8Array(300 * 1024).map((_, i) => (i * 7) & 0xff);
    owner.writeOwn("public/big.bin", big);
    owner.writeOwn("public/small-with-big.txt", "beside the blob");
    o.reset();
    await owner.sync();
    const withBlob = o.reset();
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
    await ds.sync();
    assertEquals(world.fs.readFileSync(`${ds.ctx.root}/${OWNER}/public/big.bin`), big);
    await world.settle();

    // And idle again after all that.
    o.reset();
    await owner.sync();
    const idleAgain = o.reset();
    report.push(`idle owner round at the end: ${idleAgain.length} [${summarizeCalls(idleAgain)}]`);
    assert(idleAgain.length <= 1, summarizeCalls(idleAgain));
    assertEquals(owner.warnings, [], "no warnings on the owner");
    assertEquals(ds.warnings, [], "no warnings on the peer");
  } finally {
    // The figures behind the assertions, for whoever tunes the engine.
    if (Deno.env.get("SYFT_TEST_VERBOSE")) console.log(report.map((l) => `  ${l}`).join("\n"));
  }
});
