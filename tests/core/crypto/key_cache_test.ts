/**
 * The key caches of core/crypto/agree.ts: imports, agreements and HKDF bases
 * computed once per content, never served for other bytes, bounded, and a
 * refused key refused every time.
 */
import { importPeerKeys, importVerifyKey, sharedSecret } from "../../../core/crypto/mod.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { Lru } from "../../../core/cache/lru.ts";
import { decodeBase64, encodeBase64 } from "../../../core/encoding/base64.ts";
import { generateIdentityKeys } from "../../../core/identity/keys.ts";
import { createHello, parseHello } from "../../../core/peers/hello.ts";
import { assert, assertEquals, assertNotEquals, assertRejects } from "../../assert.ts";
import { alice, bob, ED25519, hex, toHex, X25519 } from "./_fixtures.ts";

Deno.test("importPeerKeys() of the same bytes gives the same keys, of other bytes other keys", async () => {
  const a = await importPeerKeys(hex(ED25519.alice.public), hex(X25519.alice.public));
  const again = await importPeerKeys(hex(ED25519.alice.public), hex(X25519.alice.public));
  assert(a.sign === again.sign && a.agree === again.agree, "a second import was not reused");
  const b = await importPeerKeys(hex(ED25519.bob.public), hex(X25519.bob.public));
  assert(b.sign !== a.sign && b.agree !== a.agree, "another key hit the cache");
  // The other key really is the other one: it agrees as Bob's, not Alice's.
  assertEquals(toHex(await sharedSecret(alice.agreePrivate, b.agree)), X25519.shared);
  assertNotEquals(
    toHex(await sharedSecret(alice.agreePrivate, a.agree)),
    toHex(await sharedSecret(alice.agreePrivate, b.agree)),
  );
});

Deno.test("a key import keeps its own bytes: reusing the caller's buffer changes nothing", async () => {
  const buffer = hex(ED25519.alice.public);
  const first = await importVerifyKey(buffer);
  buffer.set(hex(ED25519.bob.public));
  const bobs = await importVerifyKey(buffer);
  assert(first !== bobs, "Bob's bytes in the same buffer were served Alice's key");
  const data = new TextEncoder().encode("hello");
  const sig = await crypto.subtle.sign("Ed25519", alice.signPrivate, data);
  assert(
    await crypto.subtle.verify(
      "Ed25519",
      await importVerifyKey(hex(ED25519.alice.public)),
      sig,
      data,
    ),
  );
  assert(!(await crypto.subtle.verify("Ed25519", bobs, sig, data)));
});

Deno.test("sharedSecret() hands each caller its own copy of the cached secret", async () => {
  const first = await sharedSecret(bob.agreePrivate, alice.agreePublic);
  first.fill(0);
  assertEquals(toHex(await sharedSecret(bob.agreePrivate, alice.agreePublic)), X25519.shared);
});

Deno.test("a low-order peer key is refused at every agreement, not only the first", async () => {
  const peer = await importPeerKeys(hex(ED25519.alice.public), new Uint8Array(32));
  for (let i = 0; i < 2; i++) {
    await assertRejects(
      () => sharedSecret(bob.agreePrivate, peer.agree),
      (err: unknown) => assert(err instanceof SyftError && err.code === "E_BAD_MESSAGE"),
    );
  }
});

Deno.test("a key of the wrong length is refused every time, never cached", async () => {
  for (let i = 0; i < 2; i++) {
    await assertRejects(
      () => importVerifyKey(new Uint8Array(31)),
      (err: unknown) => assert(err instanceof SyftError && err.code === "E_BAD_MESSAGE"),
    );
  }
});

Deno.test("an LRU keeps its bound, drops the least recently used, and forgets a failure", async () => {
  const lru = new Lru<string, number>(3);
  for (const [k, v] of [["a", 1], ["b", 2], ["c", 3]] as const) lru.set(k, v);
  assertEquals(lru.get("a"), 1); // now the newest: b is the oldest
  lru.set("d", 4);
  assertEquals(lru.size, 3);
  assertEquals([lru.get("b"), lru.get("a"), lru.get("c"), lru.get("d")], [undefined, 1, 3, 4]);
  const promises = new Lru<string, Promise<number>>(2);
  const failed = promises.remember("x", () => Promise.reject(new Error("no")));
  await assertRejects(() => failed);
  await Promise.resolve();
  let made = 0;
  assertEquals(await promises.remember("x", () => Promise.resolve(++made)), 1);
  assertEquals(await promises.remember("x", () => Promise.resolve(++made)), 1);
});

Deno.test("a hello verified once still refuses another signature over the same body", async () => {
  const keys = await generateIdentityKeys();
  const expect = { sender: "a@example.org", recipient: "b@example.org" };
  const bytes = await createHello({ ...expect, keys, clientVersion: "0.1.0", now: 1 });
  await parseHello(bytes, expect);
  await parseHello(bytes, expect); // served from the cache
  const outer = JSON.parse(new TextDecoder().decode(bytes)) as { body: string; sig: string };
  const sig = decodeBase64(outer.sig);
  sig[0]! ^= 1;
  const forged = new TextEncoder().encode(JSON.stringify({ ...outer, sig: encodeBase64(sig) }));
  await assertRejects(
    () => parseHello(forged, expect),
    (err: unknown) => assert(err instanceof SyftError && /does not verify/.test(err.message)),
  );
});
