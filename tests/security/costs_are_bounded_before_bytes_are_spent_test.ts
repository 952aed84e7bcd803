/**
 * Issue 12 item 10: costs are bounded before bytes are spent. A proposal the
 * peer may not make costs its metadata only (no blob is fetched); at most
 * `sync.max_proposals` proposals are judged per peer and round, the rest of a
 * batch waiting, neither lost nor repeated; quarantine keeps the head and hash
 * of a refused object within `sync.quarantine_mib`; paths deeper than 64
 * segments or longer than 4096 bytes are refused; 100,000 proposals are read
 * within 256 MiB.
 * @module
 */
import { posix } from "node:path";
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../assert.ts";
import { peered } from "../e2e/_rig.ts";
import { live } from "../e2e/_live.ts";
import { forgeBatch, lastSeq } from "./_forge.ts";
import { checkInboundPath, MAX_PATH_SEGMENTS } from "../../core/paths/mod.ts";
import { quarantineRefused } from "../../core/sync/quarantine.ts";
import { stateLayout } from "../../core/sync/state.ts";
import { loadChannelState } from "../../core/sync/state.ts";
import { receiveFrom } from "../../core/sync/receive.ts";
import { ownDatasite, peerKeys } from "../../core/sync/context.ts";
import { loadDatasitePermissions } from "../../core/permissions/load.ts";
import type { ChannelRef, Transport } from "../../core/transport/contract.ts";
import type { FileChangeEvent } from "../../core/events/types.ts";
import { MemoryWorld } from "../../core/testing/world.ts";
import { CountingTransport } from "../../scripts/counting_transport.ts";

const OWNER = "owner@hospital.org";
const DS = "ds@lab.org";

Deno.test("a proposal for a path the peer may not write costs its metadata only: no blob is fetched", async () => {
  const w = new MemoryWorld();
  const owner = await w.site(OWNER);
  const ds = await w.site(DS);
  await w.connect(ds, owner);
  // 300 KiB travels as a blob; public/ is not the peer's to write.
  ds.write(`${OWNER}/public/big.bin`, new Uint8Array(300 * 1024).fill(7));
  assertEquals((await ds.sync()).proposed, 1);

  const counting = new CountingTransport(owner.ctx.transport);
  owner.ctx.transport = counting;
  const summary = await owner.sync();
  const calls = counting.reset();
  assertEquals(summary.rejected, 1, "the proposal is refused");
  const blobGets = calls.filter((c) => c.method === "get" && c.detail?.startsWith("x-"));
  assertEquals(blobGets.length, 0, "no blob of a refused proposal is fetched");
  assertEquals(owner.read(`${OWNER}/public/big.bin`), null);
});

Deno.test("at most sync.max_proposals proposals are judged per peer and round; the rest of the batch arrives next round, none lost or repeated", async () => {
  const w = new MemoryWorld();
  const owner = await w.site(OWNER);
  const ds = await w.site(DS);
  await w.connect(ds, owner);
  // What `syft perm grant shared/ ds@lab.org --write` writes.
  owner.writeOwn(
    "shared/syft.pub.yaml",
    `rules:\n  - pattern: '**'\n    access:\n      write: ['${DS}']\n`,
  );
  owner.writeOwn("shared/keep.txt", "owner's");
  await w.settle();
  const names = ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "empty1", "empty2"];
  for (const n of names) {
    ds.write(`${OWNER}/shared/${n}`, n.startsWith("empty") ? "" : `from ds ${n}`);
  }
  assertEquals((await ds.sync()).proposed, names.length);

  owner.ctx.maxProposals = 3;
  const landed = () =>
    owner.files(`${OWNER}/shared`).map((f) => f.slice(`${OWNER}/shared/`.length))
      .filter((f) => f !== "keep.txt" && f !== "syft.pub.yaml");
  const counts: number[] = [];
  for (let round = 0; round < 4; round++) {
    await owner.sync();
    counts.push(landed().length);
  }
  // Empty files count like any other proposal.
  assertEquals(counts, [3, 6, 7, 7]);
  assertEquals(landed(), [...names].sort());
  for (const n of names) {
    assertEquals(owner.read(`${OWNER}/shared/${n}`), n.startsWith("empty") ? "" : `from ds ${n}`);
  }
  // The peer sees every proposal accepted: no rejection, no marker.
  await ds.sync();
  await ds.sync();
  const mirror = ds.files(`${OWNER}/shared`).map((f) => f.slice(`${OWNER}/shared/`.length));
  assertEquals(mirror, ["keep.txt", ...names].sort());
});

/** A transport that serves `bytes` for any object. */
function serving(bytes: (name: string) => Uint8Array<ArrayBuffer>): Transport {
  return {
    get: (_c: ChannelRef, name: string) => Promise.resolve(new Blob([bytes(name)]).stream()),
  } as unknown as Transport;
}

Deno.test("quarantine keeps a refused object's first 64 KiB and hash, and at most sync.quarantine_mib in all, oldest dropped first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "syft-quarantine-" });
  try {
    const layout = stateLayout(dir);
    const channel = { sender: "ds@lab.org", recipient: "owner@hospital.org" };
    const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => i % 251);
    const budget = 1024 * 1024;
    for (let i = 1; i <= 40; i++) {
      const name = `b-${String(i).padStart(16, "0")}.syft`;
      await quarantineRefused(layout, serving(() => big), {
        channel,
        name,
        reason: "bad",
        now: 1000 + i,
        budgetBytes: budget,
      });
    }
    const entries = await Array.fromAsync(Deno.readDir(layout.quarantine));
    let total = 0;
    for (const e of entries) {
      const size = (await Deno.lstat(posix.join(layout.quarantine, e.name))).size;
      total += size;
      if (e.name.endsWith(".object")) assert(size <= 64 * 1024, `${e.name}: ${size} bytes kept`);
    }
    assert(total <= budget, `quarantine holds ${total} bytes, budget ${budget}`);
    const records = entries.filter((e) => e.name.endsWith(".json")).map((e) => e.name).sort();
    assert(records.length > 0);
    assert(records.some((r) => r.startsWith("1040-")), "the newest record is kept");
    assert(!records.some((r) => r.startsWith("1001-")), "the oldest record is dropped first");
    const newest = JSON.parse(
      await Deno.readTextFile(
        posix.join(layout.quarantine, records.find((r) => r.startsWith("1040-"))!),
      ),
    );
    assertEquals(newest.size, big.byteLength);
    assertEquals(newest.sha256, createHash("sha256").update(big).digest("hex"));
    const head = await Deno.readFile(
      posix.join(
        layout.quarantine,
        records.find((r) => r.startsWith("1040-"))!.replace(/\.json$/, ".object"),
      ),
    );
    assertEquals(head, big.subarray(0, 64 * 1024));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paths deeper than 64 segments or longer than 4096 bytes are refused", () => {
  assertEquals(MAX_PATH_SEGMENTS, 64);
  assert(checkInboundPath("a/".repeat(63) + "z").ok, "64 segments pass");
  const deep = checkInboundPath("a/".repeat(64) + "z");
  assert(!deep.ok && deep.rule === "too-deep", "65 segments are refused");
  assert(!checkInboundPath("a/".repeat(5000) + "z").ok);
  const long = checkInboundPath(Array(18).fill("a".repeat(240)).join("/"));
  assert(!long.ok && long.rule === "too-long");
});

/** Proposals of empty files at `count` distinct 64-segment paths under `public/` (not the peer's). */
function deepProposals(datasite: string, from: number, count: number): FileChangeEvent[] {
  const empty = createHash("sha256").update(new Uint8Array()).digest("hex");
  const tail = "d/".repeat(61) + "f.txt";
  return Array.from({ length: count }, (_, k) => ({
    id: crypto.randomUUID(),
    datasite,
    path: `public/n${from + k}/${tail}`,
    old_hash: null,
    new_hash: empty,
    size: 0,
    deleted: false,
    mode: "file" as const,
    submitted_at: 1,
    ts: 1,
    content: "inline" as const,
  }));
}

const MEMORY_TEST =
  "100,000 deep-path proposals are judged 10,000 a round, within 256 MiB of memory and in bounded time";

Deno.test(MEMORY_TEST, async () => {
  // Memory is measured in a process of its own, with V8's heap capped: in the
  // shared test process other tests' garbage makes RSS growth a coin toss.
  if (Deno.env.get("SYFT_MEMORY_CHILD") !== "1") {
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        // Type-checked already by the run that started this one.
        "--no-check",
        "--allow-all",
        "--v8-flags=--max-old-space-size=256",
        "--filter",
        MEMORY_TEST,
        import.meta.filename!,
      ],
      env: { SYFT_MEMORY_CHILD: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(child.stdout) + new TextDecoder().decode(child.stderr);
    assert(child.success, `the measuring process failed:\n${text.slice(-4000)}`);
    assert(/1 passed/.test(text), `the measuring process ran no test:\n${text.slice(-2000)}`);
    return;
  }
  const total = Number(Deno.env.get("SYFT_MEMORY_EVENTS") ?? 100_000);
  const perBatch = 20_000; // the reader's limit per batch
  const { w, owner, requester: ds } = await peered("ds@lab.org", "owner@hospital.org");
  try {
    const empty = {
      hash: createHash("sha256").update(new Uint8Array()).digest("hex"),
      bytes: new Uint8Array(),
    };
    let seq = await lastSeq(w, ds, owner);
    for (let from = 0; from < total; from += perBatch) {
      await forgeBatch(
        w,
        ds,
        owner,
        ++seq,
        deepProposals(owner.email, from, Math.min(perBatch, total - from)),
        [empty],
      );
    }
    const o = await live(owner);
    try {
      const rec = (await o.peers.get(ds.email))!;
      const keys = await peerKeys(o.sync, ds.email, rec.sign_key!, rec.agree_key!);
      const engine = await loadDatasitePermissions(ownDatasite(o.sync));
      // The default sync.max_proposals (10,000): 100,000 events take ten rounds.
      let state = await loadChannelState(o.sync.layout, ds.email);
      const before = Deno.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 10);
      const started = performance.now();
      let rounds = 0;
      let rejected = 0;
      try {
        while (state.cursor < seq && rounds < 50) {
          const r = await receiveFrom(o.sync, keys, state, {
            acceptsProposals: true,
            onPeerControls: () => Promise.resolve(),
            engine: () => Promise.resolve(engine),
            onPermissionsChanged: () => {},
          });
          rounds++;
          rejected += r.rejected;
          // What the round's publishing step does: the answers leave with the next batch.
          state = { ...r.state, controls: [], republish: [] };
        }
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, Deno.memoryUsage().rss);
      const seconds = (performance.now() - started) / 1000;
      assertEquals(rejected, total, "every proposal is judged (and refused), none twice");
      assertEquals(state.cursor, seq);
      assertEquals(rounds, Math.ceil(total / 10_000), "10,000 proposals per round");
      const grown = (peak - before) / (1024 * 1024);
      assert(grown < 256, `reading ${total} events grew memory by ${grown.toFixed(0)} MiB`);
      assert(seconds < 60, `reading ${total} events took ${seconds.toFixed(1)} s`);
    } finally {
      await o.close();
    }
  } finally {
    await Deno.remove(w.base, { recursive: true });
  }
});
