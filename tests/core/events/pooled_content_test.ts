/**
 * Protocol v2's pooled content at the event and envelope level: an event
 * names its pool object and key in a strict shape, and a pooled blob opens
 * only with its content key, only as the sender's object for `*` under its
 * own name.
 */
import { SyftError } from "../../../core/errors/mod.ts";
import { parseBatchJson, serializeJson } from "../../../core/events/parse.ts";
import { openEnvelope, sealEnvelope } from "../../../core/events/envelope.ts";
import type { BatchJson } from "../../../core/events/types.ts";
import { encodeBase64 } from "../../../core/encoding/base64.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../../assert.ts";
import { alice, bob, readAll } from "../crypto/_fixtures.ts";

const CTX = { sender: alice.email, recipient: bob.email } as const;
const POOL = { name: `p-${"ab".repeat(16)}.syft`, key: encodeBase64(new Uint8Array(32).fill(7)) };

function batchWith(event: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({
    seq: 1,
    sender: alice.email,
    created_at: 1,
    events: [{
      id: "6f1c1c1e-0000-4000-8000-000000000001",
      datasite: alice.email,
      path: "public/big.bin",
      old_hash: null,
      new_hash: "a".repeat(64),
      size: 3_000_000,
      deleted: false,
      mode: "file",
      submitted_at: 1,
      ts: 1,
      content: "pool",
      pool: POOL,
      ...event,
    }],
    acks: {},
    control: [],
  }));
}

/** Expect a `E_BAD_MESSAGE` whose message contains `fragment`. */
function bad(fragment: string) {
  return (err: unknown) => {
    assert(err instanceof SyftError && err.code === "E_BAD_MESSAGE", String(err));
    assertStringIncludes(err.message, fragment);
  };
}

function refused(bytes: Uint8Array, fragment: string): void {
  assertThrows(() => parseBatchJson(bytes, CTX), (err) => {
    assert(err instanceof SyftError && err.code === "E_BAD_MESSAGE", String(err));
    assertStringIncludes(err.message, fragment);
  });
}

Deno.test("a pooled event round-trips with its pool name and key, and serializes in order", () => {
  const parsed: BatchJson = parseBatchJson(batchWith({}), CTX);
  assertEquals(parsed.events[0]!.content, "pool");
  assertEquals(parsed.events[0]!.pool, POOL);
  const again = parseBatchJson(serializeJson(parsed), CTX);
  assertEquals(again, parsed);
  const text = new TextDecoder().decode(serializeJson(parsed));
  assert(text.indexOf('"content"') < text.indexOf('"pool"'), text);
});

Deno.test("a pooled event is refused without its pool, with a bad name or key, and pool on other content", () => {
  refused(batchWith({ pool: undefined }), "has no pool");
  refused(batchWith({ pool: { ...POOL, name: "x-../../etc.syft" } }), "is not a pool name");
  refused(
    batchWith({ pool: { ...POOL, name: `p-${"AB".repeat(16)}.syft` } }),
    "is not a pool name",
  );
  refused(batchWith({ pool: { ...POOL, key: encodeBase64(new Uint8Array(31)) } }), "32 bytes");
  refused(batchWith({ pool: { ...POOL, key: "not base64!" } }), "32 bytes");
  refused(batchWith({ content: "blob" }), ".pool is set");
});

Deno.test("a pooled blob opens with its content key only, as the sender's object for * under its name", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const body = new TextEncoder().encode("sealed once for many");
  const params = {
    kind: "blob" as const,
    name: POOL.name,
    sender: alice.email,
    recipient: "*",
    seq: 0,
    created_at: 1,
    size: body.length,
  };
  const sealed = await readAll(
    sealEnvelope(params, body, { signPrivate: alice.signPrivate, contentKey: key }),
  );
  const expect = { name: POOL.name, sender: alice.email, recipient: "*", kind: "blob" as const };
  const open = async (k: Uint8Array, e = expect) => {
    const opened = await openEnvelope(new Blob([new Uint8Array(sealed)]).stream(), e, {
      senderSignPublic: alice.signPublic,
      contentKey: k,
    });
    return await readAll(opened.body);
  };
  assertEquals(await open(key), body);
  const wrong = key.slice();
  wrong[0]! ^= 1;
  await assertRejects(() => open(wrong), bad("failed authentication"));
  await assertRejects(() => open(key, { ...expect, recipient: bob.email }), bad(""));
  await assertRejects(() => open(key, { ...expect, name: `p-${"cd".repeat(16)}.syft` }), bad(""));
  // Bob's signature is not alice's: a pooled blob is verified like any object.
  await assertRejects(
    () =>
      openEnvelope(new Blob([new Uint8Array(sealed)]).stream(), expect, {
        senderSignPublic: bob.signPublic,
        contentKey: key,
      }),
    bad("bad signature"),
  );
});
