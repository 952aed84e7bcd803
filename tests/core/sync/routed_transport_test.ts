/**
 * RoutedTransport: each peer's calls go to its transport, one `changes()` per
 * transport per round, one transport failing stops only its peers, and the
 * cursor a round saves keeps a failed transport's old position.
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { parseRoutedCursor, RoutedTransport } from "../../../core/sync/routed_transport.ts";
import type { ChannelRef, Transport } from "../../../core/transport/contract.ts";

const ME = "me@example.org";

function isTransportError(err: unknown): void {
  assert(err instanceof SyftError && err.code === "E_TRANSPORT", String(err));
}

/** A stub storage: the incoming channels it reports, calls it got, and a switch to fail. */
function stub(name: string, senders: string[]) {
  const calls: string[] = [];
  let tick = 0;
  const state = { failing: false, closed: false };
  const fail = (op: string) => {
    if (state.failing) throw new SyftError("E_TRANSPORT", `${name} ${op} is down`);
  };
  const incoming = (): ChannelRef[] => senders.map((sender) => ({ sender, recipient: ME }));
  const transport: Transport = {
    capabilities: () => Promise.resolve({ enforcesSharing: false, canWatch: true }),
    whoami: () => Promise.resolve({ email: ME, authenticated: false }),
    openChannel: (to) => {
      calls.push(`openChannel ${to}`);
      fail("openChannel");
      return Promise.resolve({ sender: ME, recipient: to });
    },
    listIncoming: () => {
      calls.push("listIncoming");
      fail("listIncoming");
      return Promise.resolve(incoming());
    },
    put: (c, n) => {
      calls.push(`put ${c.recipient} ${n}`);
      fail("put");
      return Promise.resolve();
    },
    list: (c) => {
      calls.push(`list ${c.sender}`);
      fail("list");
      return Promise.resolve({ objects: [] });
    },
    get: (c, n) => {
      calls.push(`get ${c.sender} ${n}`);
      fail("get");
      return Promise.resolve(new Blob([]).stream());
    },
    delete: () => Promise.resolve(),
    changes: (cursor) => {
      calls.push(`changes ${cursor}`);
      fail("changes");
      tick++;
      return Promise.resolve({ cursor: `${name}-${tick}`, channels: incoming() });
    },
    close: () => {
      state.closed = true;
      return Promise.resolve();
    },
  };
  return { transport, calls, state };
}

function routed(
  a: ReturnType<typeof stub>,
  b: ReturnType<typeof stub>,
  via: Record<string, string>,
) {
  return new RoutedTransport({
    me: ME,
    members: [
      { name: "default", spec: "local:/a", open: () => Promise.resolve(a.transport) },
      { name: "b", spec: "local:/b", open: () => Promise.resolve(b.transport) },
    ],
    routeOf: (peer) => Promise.resolve(via[peer] ?? null),
  });
}

Deno.test("each peer's calls go through the transport its record names", async () => {
  const a = stub("a", []);
  const b = stub("b", []);
  const t = routed(a, b, { "p1@x.org": "default", "p2@y.org": "b" });
  await t.put({ sender: ME, recipient: "p2@y.org" }, "b-1.syft", new Uint8Array());
  await t.list({ sender: "p1@x.org", recipient: ME });
  assertEquals(a.calls, ["list p1@x.org"]);
  assertEquals(b.calls, ["put p2@y.org b-1.syft"]);
  await t.close();
  assert(a.state.closed && b.state.closed);
});

Deno.test("an idle round asks each transport once, and a channel is reported only from its peer's transport", async () => {
  // p1 lives on the default; a channel under p1's name on b is not p1's.
  const a = stub("a", ["p1@x.org"]);
  const b = stub("b", ["p1@x.org", "p2@y.org"]);
  const t = routed(a, b, { "p1@x.org": "default", "p2@y.org": "b" });
  const r = await t.changes(null);
  assertEquals(a.calls, ["changes null"]);
  assertEquals(b.calls, ["changes null"]);
  assertEquals(r.channels.map((c) => c.sender).sort(), ["p1@x.org", "p2@y.org"]);
  assertEquals(r.channels.length, 2);
  assertEquals(parseRoutedCursor(r.cursor), { default: "a-1", b: "b-1" });
  await t.changes(r.cursor);
  assertEquals(a.calls, ["changes null", "changes a-1"]);
  assertEquals(b.calls, ["changes null", "changes b-1"]);
});

Deno.test("a new request lives where it was found first, and the plain cursor of one transport is the default's", async () => {
  const a = stub("a", []);
  const b = stub("b", ["new@z.org"]);
  const t = routed(a, b, {});
  const r = await t.changes("old-cursor");
  assertEquals(a.calls, ["changes old-cursor"]);
  assertEquals(r.channels, [{ sender: "new@z.org", recipient: ME }]);
  assertEquals(t.foundOn("new@z.org"), "b");
  await t.get({ sender: "new@z.org", recipient: ME }, "hello.json");
  assertEquals(b.calls.at(-1), "get new@z.org hello.json");
});

Deno.test("one transport failing stops only its peers; the cursor to save keeps its old position; all failing fails", async () => {
  const a = stub("a", ["p1@x.org"]);
  const b = stub("b", ["p2@y.org"]);
  const t = routed(a, b, { "p1@x.org": "default", "p2@y.org": "b" });
  const first = await t.changes(null);
  b.state.failing = true;
  const r = await t.changes(first.cursor);
  assertEquals(r.channels, [{ sender: "p1@x.org", recipient: ME }]);
  const down = await t.unreachable("p2@y.org");
  assert(down !== null && down.code === "E_TRANSPORT");
  assert(down.message.startsWith("transport b (local:/b)"), down.message);
  assertEquals(await t.unreachable("p1@x.org"), null);
  await assertRejects(() => t.list({ sender: "p2@y.org", recipient: ME }), isTransportError);
  assertEquals(
    b.calls.filter((c) => c.startsWith("list")),
    [],
    "no call to a transport known down",
  );
  assertEquals(parseRoutedCursor(t.cursorToSave(r.cursor)), { default: "a-2", b: "b-1" });

  // A transport that answered changes() but failed later in the round keeps its position too.
  b.state.failing = false;
  const r3 = await t.changes(t.cursorToSave(r.cursor));
  b.state.failing = true;
  await assertRejects(() => t.get({ sender: "p2@y.org", recipient: ME }, "b-9.syft"));
  assertEquals(parseRoutedCursor(t.cursorToSave(r3.cursor)), { default: "a-3", b: "b-1" });

  a.state.failing = true;
  await assertRejects(() => t.changes(r3.cursor), isTransportError);
});
