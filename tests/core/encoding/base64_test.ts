import { assert, assertEquals, assertThrows } from "../../assert.ts";
import {
  decodeBase64,
  encodeBase64,
  encodeBase64Url,
  parseBase64,
} from "../../../core/encoding/base64.ts";

Deno.test("encodeBase64() writes standard padded base64 of any length, subarrays included", () => {
  assertEquals(encodeBase64(new Uint8Array([])), "");
  assertEquals(encodeBase64(new Uint8Array([1])), "AQ==");
  assertEquals(encodeBase64(new Uint8Array([1, 2])), "AQI=");
  assertEquals(encodeBase64(new Uint8Array([1, 2, 3])), "AQID");
  assertEquals(encodeBase64(new Uint8Array([0, 251, 255, 0]).subarray(1, 3)), "+/8=");
});

Deno.test("encodeBase64Url() writes the URL alphabet without padding (RFC 7636)", () => {
  assertEquals(encodeBase64Url(new Uint8Array([251, 255])), "-_8");
});

Deno.test("parseBase64() reads back every encoding and refuses every other spelling", () => {
  for (let n = 0; n < 40; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    assertEquals(parseBase64(encodeBase64(bytes)), bytes);
  }
  const refused = ["A", "AQ", "AQ=", "AQI", "AQ==AQ==", "AQJ=", "AR==", "-_8=", "AQ ID", "AQID\n"];
  for (const text of refused) assertEquals(parseBase64(text), null, text);
});

Deno.test("decodeBase64() throws a TypeError where parseBase64() says null", () => {
  assertEquals(decodeBase64("AQID"), new Uint8Array([1, 2, 3]));
  assertThrows(() => decodeBase64("AQJ="), (err) => {
    assert(err instanceof TypeError && err.message === "not standard padded base64");
  });
  assert(decodeBase64("").length === 0);
});
