import { assertEquals, assertMatch, assertNotEquals } from "../../assert.ts";
import { fingerprint, generateIdentityKeys, publicKeys } from "../../../core/identity/keys.ts";

Deno.test("fingerprint() is the first 16 bytes of SHA-256(sign ‖ agree) in 8 groups of 4", async () => {
  const fp = await fingerprint({
    signKey: new Uint8Array(32),
    agreeKey: new Uint8Array(32).fill(1),
  });
  // Computed independently: python3 hashlib.sha256(bytes(32) + bytes([1] * 32)).
  assertEquals(fp, "5c85 955f 7092 83ec ce2b 74f1 b155 2918");
});

Deno.test("generateIdentityKeys() makes raw 32-byte public keys and distinct fingerprints", async () => {
  const a = await publicKeys(await generateIdentityKeys());
  const b = await publicKeys(await generateIdentityKeys());
  assertEquals(a.signKey.length, 32);
  assertEquals(a.agreeKey.length, 32);
  assertMatch(await fingerprint(a), /^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
  assertNotEquals(await fingerprint(a), await fingerprint(b));
});
