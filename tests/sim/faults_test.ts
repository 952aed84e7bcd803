/**
 * The simulation's faults strike as drawn and only then: a round's seed
 * decides them, so a shrunk run meets the same ones; the storage hides a
 * lagging object from its recipient until its ticks pass; a site with its
 * own file system crashes alone; a skewed clock moves with the world's.
 */
import { assert, assertEquals } from "../assert.ts";
import { SyftError } from "../../core/errors/mod.ts";
import { ManualClock } from "../../core/testing/manual_clock.ts";
import { MemoryStorage } from "../../core/testing/memory_transport.ts";
import { MemoryWorld } from "../../core/testing/world.ts";
import { DEFAULT_RATES, NO_FAULTS, RoundFaults } from "./faults.ts";
import { poolKeys } from "./keys.ts";

const A = "a@sim.example";
const B = "b@sim.example";

Deno.test("a round's faults are the same for the same seed, and none strike at rate zero", () => {
  const draw = (seed: number, rates = DEFAULT_RATES) => {
    const f = new RoundFaults(seed, { ...rates, transport: 1 });
    const calls = Array.from({ length: 50 }, () => f.fail("list", A));
    return { at: calls.findIndex((c) => c !== undefined), crash: f.crashAt };
  };
  assertEquals(draw(7), draw(7));
  const quiet = new RoundFaults(7, NO_FAULTS);
  for (let i = 0; i < 200; i++) assertEquals(quiet.fail("put", A), undefined);
  assertEquals(quiet.crashAt, null);
  assertEquals(quiet.listing(A, [{ name: "b-1.syft", size: 1 }]).length, 1);
});

Deno.test("a fault after the effect stores the put and fails it; one before stores nothing", async () => {
  for (const after of [true, false]) {
    const storage = new MemoryStorage();
    const t = storage.transport(A);
    const channel = await t.openChannel(B);
    const error = new SyftError("E_TRANSPORT", "put: injected");
    storage.faults = { fail: (op) => op !== "put" ? undefined : after ? { after: error } : error };
    let failed = false;
    await t.put(channel, "b-0000000000000001.syft", new Uint8Array([1])).catch((err) => {
      failed = err === error;
    });
    assert(failed, `after=${after}: the put did not fail with the injected error`);
    assertEquals(storage.names(channel).length, after ? 1 : 0, `after=${after}`);
  }
});

Deno.test("the simulation's timeouts of puts are faults after the effect, its rate limits before", () => {
  const kinds = new Set<string>();
  for (let seed = 1; seed < 200; seed++) {
    const r = new RoundFaults(seed, { ...NO_FAULTS, transport: 1 });
    for (let call = 0; call < 50; call++) {
      const fault = r.fail("put", A);
      if (fault === undefined) continue;
      const message = fault instanceof SyftError ? fault.message : fault.after.message;
      if (message.includes("timed out")) assert(!(fault instanceof SyftError), message);
      else assert(fault instanceof SyftError, message);
      kinds.add(message.replace(/^put: /, "").split(" ")[0]!);
    }
  }
  assertEquals([...kinds].sort(), ["rate", "server", "timed"]);
});

Deno.test("a lagging object is hidden from its recipient until its ticks pass, and the channel then counts as changed", async () => {
  const storage = new MemoryStorage();
  storage.faults = { lag: () => 2 };
  const a = storage.transport(A);
  const b = storage.transport(B);
  const channel = await a.openChannel(B);
  await a.put(channel, "b-0000000000000001.syft", new Uint8Array([1]));
  storage.faults = null;
  assertEquals((await a.list(channel)).objects.length, 1, "the sender sees its own put");
  assertEquals((await b.list(channel)).objects.length, 0);
  const { cursor } = await b.changes(null);
  storage.tick();
  assertEquals((await b.list(channel)).objects.length, 0);
  storage.tick();
  assertEquals((await b.list(channel)).objects.map((o) => o.name), ["b-0000000000000001.syft"]);
  assertEquals((await b.changes(cursor)).channels.map((c) => c.sender), [A]);
});

Deno.test("with a file system per site, one site's crash loses only its own unsynced writes", async () => {
  const world = new MemoryWorld({ fsPerSite: true });
  const a = await world.site(A, { keys: await poolKeys(0) });
  const b = await world.site(B, { keys: await poolKeys(1) });
  assert(a.fs !== b.fs);
  a.writeOwn("public/x.txt", "a's");
  b.writeOwn("public/y.txt", "b's");
  a.fs.crash();
  assertEquals(a.read(`${A}/public/x.txt`), null);
  assertEquals(b.read(`${B}/public/y.txt`), "b's");
});

Deno.test("a skewed clock stays its offset off the world's clock as the world's moves", () => {
  const clock = new ManualClock(1_000_000);
  const ahead = clock.skewed(600_000);
  clock.advance(5);
  assertEquals(ahead.now() - clock.now(), 600_000);
});
