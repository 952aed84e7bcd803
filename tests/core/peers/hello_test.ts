import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { decodeBase64, encodeBase64 } from "../../../core/encoding/base64.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import {
  fingerprint,
  generateIdentityKeys,
  type IdentityKeys,
  publicKeys,
} from "../../../core/identity/keys.ts";
import { createHello, MAX_HELLO_BYTES, parseHello } from "../../../core/peers/hello.ts";

const ALICE = "alice@example.org";
const BOB = "bob@example.org";
const CH = { sender: ALICE, recipient: BOB };
const enc = new TextEncoder();
const dec = new TextDecoder();

const aliceKeys = await generateIdentityKeys();
const bobKeys = await generateIdentityKeys();

function hello(keys: IdentityKeys = aliceKeys, sender = ALICE, recipient = BOB) {
  return createHello({ sender, recipient, keys, clientVersion: "0.1.0", now: 1_700_000_000_000 });
}

/** Decode a hello into its outer object and body object. */
function open(bytes: Uint8Array) {
  const outer = JSON.parse(dec.decode(bytes));
  return { outer, body: JSON.parse(dec.decode(decodeBase64(outer.body))) };
}

/** A hello with a body of our choosing, correctly signed by `keys`. */
async function signed(body: unknown, keys: IdentityKeys = aliceKeys): Promise<Uint8Array> {
  const bodyBytes = enc.encode(JSON.stringify(body));
  const sig = new Uint8Array(
    await crypto.subtle.sign({ name: "Ed25519" }, keys.sign.privateKey, bodyBytes),
  );
  return enc.encode(JSON.stringify({ body: encodeBase64(bodyBytes), sig: encodeBase64(sig) }));
}

async function rejects(bytes: Uint8Array, why: RegExp, expect = CH): Promise<void> {
  await assertRejects(() => parseHello(bytes, expect), (err) => {
    assert(err instanceof SyftError, String(err));
    assertEquals(err.code, "E_BAD_MESSAGE");
    assertMatch(err.message, why);
    assertMatch(err.message, /syft1#/);
  });
}

Deno.test("createHello() writes exactly the PROTOCOL §2 shape: {body, sig} over the 7 body fields", async () => {
  const { outer, body } = open(await hello());
  assertEquals(Object.keys(outer), ["body", "sig"]);
  assertEquals(Object.keys(body), [
    "protocol",
    "sender",
    "recipient",
    "sign_key",
    "agree_key",
    "client_version",
    "created_at",
  ]);
  const pub = await publicKeys(aliceKeys);
  assertEquals(body, {
    protocol: 2,
    sender: ALICE,
    recipient: BOB,
    sign_key: encodeBase64(pub.signKey),
    agree_key: encodeBase64(pub.agreeKey),
    client_version: "0.1.0",
    created_at: 1_700_000_000_000,
  });
  assertEquals(decodeBase64(outer.sig).length, 64);
  // The signature is over the body bytes exactly as they travel (base64-decoded).
  const ok = await crypto.subtle.verify(
    { name: "Ed25519" },
    aliceKeys.sign.publicKey,
    new Uint8Array(decodeBase64(outer.sig)),
    new Uint8Array(decodeBase64(outer.body)),
  );
  assert(ok);
});

Deno.test("parseHello() round-trips a hello with keys, version, time and fingerprint", async () => {
  const h = await parseHello(await hello(), CH);
  const pub = await publicKeys(aliceKeys);
  assertEquals(h.protocol, 2);
  assertEquals(h.sender, ALICE);
  assertEquals(h.recipient, BOB);
  assertEquals(h.signKey, pub.signKey);
  assertEquals(h.agreeKey, pub.agreeKey);
  assertEquals(h.clientVersion, "0.1.0");
  assertEquals(h.createdAt, 1_700_000_000_000);
  assertEquals(h.fingerprint, await fingerprint(pub));
});

Deno.test("parseHello() refuses a hello found in another channel (copied or misaddressed)", async () => {
  const bytes = await hello();
  await rejects(bytes, /names sender alice@example\.org, not the channel's carol@example\.org/, {
    sender: "carol@example.org",
    recipient: BOB,
  });
  await rejects(bytes, /names recipient bob@example\.org, not the channel's carol@example\.org/, {
    sender: ALICE,
    recipient: "carol@example.org",
  });
});

Deno.test("parseHello() refuses a tampered body, a tampered signature and a swapped key", async () => {
  const { outer, body } = open(await hello());
  const tamperedBody = {
    ...outer,
    body: encodeBase64(enc.encode(JSON.stringify({ ...body, created_at: 1 }))),
  };
  await rejects(enc.encode(JSON.stringify(tamperedBody)), /signature does not verify/);

  const sig = decodeBase64(outer.sig);
  sig[0] = sig[0]! ^ 1;
  await rejects(enc.encode(JSON.stringify({ ...outer, sig: encodeBase64(sig) })), /signature/);

  // Bob's keys in a body signed by Alice: the embedded key must have signed it.
  const bobPub = await publicKeys(bobKeys);
  await rejects(
    await signed({ ...body, sign_key: encodeBase64(bobPub.signKey) }, aliceKeys),
    /signature does not verify/,
  );
});

Deno.test("parseHello() is strict about types, sizes, identities and fields", async () => {
  const { body } = open(await hello());
  const cases: [unknown, RegExp][] = [
    [{ ...body, protocol: "1" }, /"protocol"/],
    [{ ...body, protocol: 1.5 }, /"protocol"/],
    [{ ...body, protocol: 0 }, /"protocol"/],
    [{ ...body, sender: "Alice@Example.org" }, /"sender" is not a valid identity/],
    [{ ...body, recipient: 7 }, /"recipient" is not a valid identity/],
    [{ ...body, sign_key: encodeBase64(new Uint8Array(31)) }, /"sign_key" must be 32 bytes/],
    [{ ...body, agree_key: "not base64!" }, /"agree_key" is not standard padded base64/],
    [{ ...body, client_version: "" }, /"client_version"/],
    [{ ...body, client_version: "x".repeat(65) }, /"client_version"/],
    [{ ...body, created_at: "1700000000000" }, /"created_at"/],
    [{ ...body, created_at: -1 }, /"created_at"/],
    [{ ...body, extra: true }, /unknown body field "extra"/],
    [[body], /not a JSON object/],
  ];
  for (const [b, why] of cases) await rejects(await signed(b), why);

  await rejects(enc.encode("{"), /not UTF-8 JSON/);
  await rejects(new Uint8Array([0xff, 0xfe]), /not UTF-8 JSON/);
  await rejects(enc.encode("[]"), /not a JSON object/);
  await rejects(enc.encode(JSON.stringify({ body: 1, sig: "" })), /"body" must be a base64 string/);
  await rejects(new Uint8Array(MAX_HELLO_BYTES + 1), /larger than 16384 bytes/);
  const good = open(await hello()).outer;
  await rejects(enc.encode(JSON.stringify({ ...good, note: "hi" })), /unknown field "note"/);
  await rejects(enc.encode(JSON.stringify({ body: good.body })), /"sig" must be a base64 string/);
});

Deno.test("parseHello() parses a higher protocol (with new fields) so callers can flag it", async () => {
  const { body } = open(await hello());
  const h = await parseHello(await signed({ ...body, protocol: 3, feature: "x" }), CH);
  assertEquals(h.protocol, 3);
  assertEquals(h.sender, ALICE);
  // But the protocol-1 fields must still be there and valid.
  const { sign_key: _drop, ...noKey } = body;
  await rejects(await signed({ ...noKey, protocol: 3 }), /"sign_key"/);
});
