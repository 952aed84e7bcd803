import { createHash, createHmac, hkdfSync } from "node:crypto";
import {
  blobId,
  blobKey,
  deriveObjectKey,
  hashFile,
  hashStream,
  importPeerKeys,
  sha256Hex,
  sharedSecret,
} from "../../../core/crypto/mod.ts";
import { SyftError } from "../../../core/errors/mod.ts";
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { alice, bob, ED25519, hex, patternBytes, streamOf, toHex, X25519 } from "./_fixtures.ts";
import { tempDir } from "../../_temp.ts";

function assertCode(code: string) {
  return (err: unknown) => {
    assert(err instanceof SyftError, `expected a SyftError, got ${err}`);
    assertEquals(err.code, code);
  };
}

Deno.test("sharedSecret() gives the RFC 7748 answer, the same in both directions", async () => {
  const ab = await sharedSecret(alice.agreePrivate, bob.agreePublic);
  const ba = await sharedSecret(bob.agreePrivate, alice.agreePublic);
  assertEquals(toHex(ab), X25519.shared);
  assertEquals(toHex(ba), X25519.shared);
});

Deno.test("importPeerKeys() imports raw keys that verify and agree like the originals", async () => {
  const peer = await importPeerKeys(hex(ED25519.alice.public), hex(X25519.alice.public));
  assertEquals(peer.sign.algorithm.name, "Ed25519");
  assertEquals(peer.sign.usages, ["verify"]);
  const data = new TextEncoder().encode("hello");
  const sig = await crypto.subtle.sign("Ed25519", alice.signPrivate, data);
  assert(await crypto.subtle.verify("Ed25519", peer.sign, sig, data));
  assertEquals(toHex(await sharedSecret(bob.agreePrivate, peer.agree)), X25519.shared);
});

Deno.test("importPeerKeys() refuses keys of the wrong length as a bad message", async () => {
  await assertRejects(
    () => importPeerKeys(new Uint8Array(31), hex(X25519.alice.public)),
    assertCode("E_BAD_MESSAGE"),
  );
  await assertRejects(
    () => importPeerKeys(hex(ED25519.alice.public), new Uint8Array(33)),
    assertCode("E_BAD_MESSAGE"),
  );
});

Deno.test("sharedSecret() refuses a low-order peer key (an all-zero secret)", async () => {
  const peer = await importPeerKeys(hex(ED25519.alice.public), new Uint8Array(32));
  await assertRejects(
    () => sharedSecret(bob.agreePrivate, peer.agree),
    assertCode("E_BAD_MESSAGE"),
  );
});

Deno.test("deriveObjectKey() is HKDF-SHA256 to AES-256-GCM, as node:crypto computes it", async () => {
  const secret = hex(X25519.shared);
  const salt = patternBytes(16, 7);
  const info = "syft1 batch alice@example.org bob@example.org b-0000000000000001.syft";
  const key = await deriveObjectKey(secret, salt, info);
  assertEquals(key.algorithm, { name: "AES-GCM", length: 256 });
  assert(!key.extractable, "object keys never leave WebCrypto");
  // Encrypt with ours, decrypt with a key node derived on its own.
  const iv = new Uint8Array(12);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode("x")),
  );
  const nodeKey = new Uint8Array(hkdfSync("sha256", secret, salt, info, 32));
  const other = await crypto.subtle.importKey("raw", nodeKey, "AES-GCM", false, ["decrypt"]);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv }, other, sealed);
  assertEquals(new TextDecoder().decode(plain), "x");
});

Deno.test("blobId() is HMAC-SHA256 over the hash's hex text, keyed per direction", async () => {
  const secret = hex(X25519.shared);
  const content = sha256Hex(new TextEncoder().encode("a large file"));
  const id = await blobId(await blobKey(secret, alice.email, bob.email), content);
  const nodeKey = Buffer.from(
    hkdfSync("sha256", secret, new Uint8Array(0), `syft1 blob-id ${alice.email} ${bob.email}`, 32),
  );
  assertEquals(id, createHmac("sha256", nodeKey).update(content, "ascii").digest("hex"));
  // Pinned, so a change of the id scheme cannot pass unnoticed.
  assertEquals(id, BLOB_ID_KNOWN_ANSWER);
  const reverse = await blobId(await blobKey(secret, bob.email, alice.email), content);
  assert(reverse !== id, "the other direction names the same content differently");
  assert(/^[0-9a-f]{64}$/.test(id));
});

const BLOB_ID_KNOWN_ANSWER = "c703af7eeadb72479b0ab12b5743b7b3e3ff233446ce737894b50595542b6847";

Deno.test("blobId() refuses anything but a lowercase hex content hash", async () => {
  const key = await blobKey(hex(X25519.shared), alice.email, bob.email);
  for (const bad of ["", "AB".repeat(32), "ab".repeat(31), "zz".repeat(32)]) {
    await assertRejects(() => blobId(key, bad), assertCode("E_INTERNAL"));
  }
});

Deno.test("sha256Hex() gives the FIPS 180-2 answers", () => {
  assertEquals(
    sha256Hex(new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(
    sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("hashStream() hashes a stream in odd pieces like the whole buffer", async () => {
  const bytes = patternBytes(100_003, 3);
  const result = await hashStream(streamOf(bytes, [1, 7, 4096, 65_537]));
  assertEquals(result, { hash: sha256Hex(bytes), size: bytes.length });
  assertEquals(await hashStream(streamOf(new Uint8Array())), {
    hash: sha256Hex(new Uint8Array()),
    size: 0,
  });
});

Deno.test("hashFile() hashes a file larger than its read buffer", async () => {
  const dir = await tempDir();
  try {
    const bytes = patternBytes(3 * 1024 * 1024 + 5, 9);
    const path = `${dir}/f.bin`;
    await Deno.writeFile(path, bytes);
    assertEquals(await hashFile(path), {
      hash: createHash("sha256").update(bytes).digest("hex"),
      size: bytes.length,
    });
    await Deno.writeFile(`${dir}/empty`, new Uint8Array());
    assertEquals((await hashFile(`${dir}/empty`)).size, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
