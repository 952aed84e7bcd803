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
import { filesUnder, peerUp, put, type Site, world } from "../../e2e/_rig.ts";
import { openSync } from "../../../cli/sync.ts";
import { Output } from "../../../cli/output.ts";
import type { Context } from "../../../cli/context.ts";
import { loadConfig } from "../../../core/config/load.ts";
import { readKeys } from "../../../core/config/keystore.ts";
import { homeLayout } from "../../../core/config/home.ts";
import { openEnvelope } from "../../../core/events/envelope.ts";
import { unpackBody } from "../../../core/events/body.ts";
import { parseBatchJson } from "../../../core/events/parse.ts";
import type { BatchJson } from "../../../core/events/types.ts";
import { type RoundSummary, runRound } from "../../../core/sync/round.ts";
import type { PeerStore } from "../../../core/peers/store.ts";
import type { SyncContext } from "../../../core/sync/context.ts";
import { startPlugin } from "../../../plugins/host.ts";
import { manifestFor } from "../../../plugins/registry.ts";
import type {
  ChangesOptions,
  ChangesResult,
  ChannelRef,
  ListOptions,
  ListPage,
  ObjectBody,
  Transport,
  TransportCapabilities,
  WhoAmI,
} from "../../../plugins/contract.ts";

/** One call on the transport, as the counter saw it. */
interface Call {
  method: keyof Transport;
  /** The object name for put/get/delete, the prefix for list. */
  detail?: string;
}

/** A Transport that forwards to the real one and records every call. */
class CountingTransport implements Transport {
  calls: Call[] = [];
  constructor(readonly inner: Transport) {}
  reset(): Call[] {
    const before = this.calls;
    this.calls = [];
    return before;
  }
  capabilities(): Promise<TransportCapabilities> {
    this.calls.push({ method: "capabilities" });
    return this.inner.capabilities();
  }
  whoami(): Promise<WhoAmI> {
    this.calls.push({ method: "whoami" });
    return this.inner.whoami();
  }
  openChannel(to: string): Promise<ChannelRef> {
    this.calls.push({ method: "openChannel", detail: to });
    return this.inner.openChannel(to);
  }
  listIncoming(): Promise<ChannelRef[]> {
    this.calls.push({ method: "listIncoming" });
    return this.inner.listIncoming();
  }
  put(channel: ChannelRef, name: string, body: ObjectBody): Promise<void> {
    this.calls.push({ method: "put", detail: name });
    return this.inner.put(channel, name, body);
  }
  list(channel: ChannelRef, options?: ListOptions): Promise<ListPage> {
    this.calls.push({ method: "list", detail: options?.prefix ?? "" });
    return this.inner.list(channel, options);
  }
  get(channel: ChannelRef, name: string): Promise<ReadableStream<Uint8Array>> {
    this.calls.push({ method: "get", detail: name });
    return this.inner.get(channel, name);
  }
  delete(channel: ChannelRef, name: string): Promise<void> {
    this.calls.push({ method: "delete", detail: name });
    return this.inner.delete(channel, name);
  }
  changes(cursor: string | null, options?: ChangesOptions): Promise<ChangesResult> {
    this.calls.push({ method: "changes" });
    return this.inner.changes(cursor, options);
  }
  close(): Promise<void> {
    // Not counted: closing is the test's doing, not the round's.
    return this.inner.close();
  }
}

/** A site's sync context, in process, over a counting transport. */
interface Live {
  site: Site;
  transport: CountingTransport;
  sync: SyncContext;
  peers: PeerStore;
  warnings: string[];
  round(): Promise<RoundSummary>;
  close(): Promise<void>;
}

async function live(site: Site): Promise<Live> {
  const warnings: string[] = [];
  const out = new Output({ json: false, quiet: false }, {
    out: () => {},
    err: (text) => warnings.push(text),
  });
  const ctx: Context = {
    home: site.home,
    out,
    env: { HOME: posix.dirname(site.home) },
    cwd: Deno.cwd(),
    debug: false,
    interactive: false,
  };
  const config = await loadConfig(site.home);
  const transport = new CountingTransport(
    await startPlugin(manifestFor(config.transport, { identity: config.email, home: site.home })),
  );
  const opened = await openSync(ctx, config, { transport });
  return {
    site,
    transport,
    sync: opened.sync,
    peers: opened.peers,
    warnings,
    round: () => runRound(opened.sync, opened.peers),
    close: () => opened.close(),
  };
}

/** Rounds on both sides until neither sends nor receives anything. */
async function quiesce(a: Live, b: Live): Promise<void> {
  for (let i = 0; i < 8; i++) {
    const ra = await a.round();
    const rb = await b.round();
    if (ra.sent + ra.received + rb.sent + rb.received === 0) return;
  }
  throw new Error("the two sites never went quiet");
}

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

function summarize(calls: Call[]): string {
  return calls.map((c) => c.detail === undefined ? c.method : `${c.method}(${c.detail})`).join(
    ", ",
  );
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
    report.push(`idle owner round: ${idle.length} call(s) [${summarize(idle)}]`);
    assert(idle.length <= 1, `an idle round made ${idle.length} calls: ${summarize(idle)}`);
    d.transport.reset();
    await d.round();
    const idlePeer = d.transport.reset();
    report.push(`idle peer round: ${idlePeer.length} call(s) [${summarize(idlePeer)}]`);
    assert(
      idlePeer.length <= 1,
      `an idle round made ${idlePeer.length} calls: ${summarize(idlePeer)}`,
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
      report.push(`owner round with ${k} new small file(s): ${calls.length} [${summarize(calls)}]`);
      assert(calls.length <= 3, `${k} files cost ${calls.length} calls: ${summarize(calls)}`);
      const puts = calls.filter((c) => c.method === "put");
      assertEquals(puts.length, 1, `one object for ${k} files: ${summarize(calls)}`);
      assertEquals(summary.sent, 1);
      const added = (await batchesIn()).filter((b) => !before.includes(b));
      assertEquals(added.length, 1, "the k files travel in ONE batch object");
      assertEquals(puts[0]!.detail, added[0]);
      const batch = await readBatch(o, d, added[0]!);
      assertEquals(batch.events.map((e) => e.path).sort(), [...paths].sort());

      d.transport.reset();
      await d.round();
      const applying = d.transport.reset();
      report.push(`peer round applying them: ${applying.length} [${summarize(applying)}]`);
      // Read: changes, list, get (+1 list if the page were full); answer: list, put (the ack).
      assert(applying.length <= 5, summarize(applying));
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
    report.push(`owner round with 10 edited files: ${edited.length} [${summarize(edited)}]`);
    assert(edited.length <= 3, summarize(edited));
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
        summarize(withBlob)
      }]`,
    );
    assert(withBlob.length <= 4, summarize(withBlob));
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
    report.push(`idle owner round at the end: ${idleAgain.length} [${summarize(idleAgain)}]`);
    assert(idleAgain.length <= 1, summarize(idleAgain));
    assertEquals(o.warnings, [], "no warnings on the owner");
    assertEquals(d.warnings, [], "no warnings on the peer");
  } finally {
    console.log(report.map((l) => `  ${l}`).join("\n"));
    await o.close();
    await d.close();
  }
});
