/**
 * RoutedTransport's pool (protocol v2): readers on several transports get one
 * copy per transport, a reader fetches from its sender's transport, and a set
 * with one transport lacking a pool has none.
 */
import { assertEquals, assertRejects } from "../../assert.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { RoutedTransport } from "../../../core/sync/routed_transport.ts";
import { MemoryStorage } from "../../../core/testing/memory_transport.ts";

const ME = "me@example.org";
const ON_B = new Set(["bob@example.org", "bea@example.org"]);

function routed(identity: string, a: MemoryStorage, b: MemoryStorage): RoutedTransport {
  return new RoutedTransport({
    me: identity,
    members: [
      { name: "default", spec: "mem:a", open: () => Promise.resolve(a.transport(identity)) },
      { name: "b", spec: "mem:b", open: () => Promise.resolve(b.transport(identity)) },
    ],
    routeOf: (peer) => Promise.resolve(ON_B.has(peer) || identity !== ME ? "b" : "default"),
  });
}

Deno.test("routed pool: one copy per transport of the readers, each readable where its reader lives", async () => {
  const a = new MemoryStorage();
  const b = new MemoryStorage();
  const me = routed(ME, a, b);
  const readers = ["bob@example.org", "ann@example.org", "bea@example.org", "amy@example.org"];
  const groups = await me.poolGroups(readers);
  assertEquals(groups, [
    { route: "default", readers: ["ann@example.org", "amy@example.org"] },
    { route: "b", readers: ["bob@example.org", "bea@example.org"] },
  ]);
  const err = await assertRejects(() => me.poolPut("p-1.syft", new Uint8Array([1]), readers));
  assertEquals((err as SyftError).code, "E_INTERNAL");
  for (const g of groups) await me.poolPut("p-1.syft", new Uint8Array([1, 2]), g.readers);
  assertEquals(a.poolReaders(ME, "p-1.syft"), ["amy@example.org", "ann@example.org"]);
  assertEquals(b.poolReaders(ME, "p-1.syft"), ["bea@example.org", "bob@example.org"]);
  await me.poolAddReaders("p-1.syft", ["al@example.org"]);
  assertEquals(a.poolReaders(ME, "p-1.syft")?.includes("al@example.org"), true);
  assertEquals(await me.poolList(), { objects: [{ name: "p-1.syft", size: 2 }] });

  // Bob reaches us over transport b (his routes all say b): he reads b's copy.
  const bob = routed("bob@example.org", a, b);
  const got = new Uint8Array(await new Response(await bob.poolGet(ME, "p-1.syft")).arrayBuffer());
  assertEquals(got, new Uint8Array([1, 2]));

  await me.poolDelete("p-1.syft");
  assertEquals([a.poolNames(ME), b.poolNames(ME)], [[], []]);
});

Deno.test("routed pool: a set with one transport lacking a pool offers none", async () => {
  const a = new MemoryStorage();
  const b = new MemoryStorage();
  assertEquals((await routed(ME, a, b).capabilities()).pool, true);
  b.pool = false;
  assertEquals((await routed(ME, a, b).capabilities()).pool, false);
});
