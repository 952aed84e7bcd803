import assert from "node:assert/strict";
import { SyftError } from "../../../core/errors/mod.ts";
import { isIdentity, MAX_IDENTITY_LENGTH, parseIdentity } from "../../../core/paths/mod.ts";

const ACCEPTED: readonly [string, string, string][] = [
  ["a lower-case email", "alice@example.org", "alice@example.org"],
  ["a mixed-case email, lower-casing it", "Alice@Example.ORG", "alice@example.org"],
  ["surrounding spaces, trimming them", "  bob@lab.example.com \n", "bob@lab.example.com"],
  ["the characters . _ % + - before the @", "a.b_c%d+e-f@x-y.org", "a.b_c%d+e-f@x-y.org"],
  ["a subdomain", "do@hospital.nhs.uk", "do@hospital.nhs.uk"],
];

for (const [what, raw, expected] of ACCEPTED) {
  Deno.test(`parseIdentity() accepts ${what}`, () => {
    assert.equal(parseIdentity(raw), expected);
    assert.ok(isIdentity(expected));
  });
}

const REJECTED: readonly [string, string][] = [
  ["a bare name", "bob"],
  ["a domain without a dot", "a@b"],
  ["a double @", "a@@b.org"],
  ["two @ signs", "a@b@c.org"],
  ["an empty string", ""],
  ["only spaces", "   "],
  ["a space inside", "a b@c.org"],
  ["a space in the domain", "a@b .org"],
  ["a unicode local part", "andré@example.org"],
  ["a unicode domain", "a@exämple.org"],
  ["a Kelvin sign that lower-cases to k", "\u212Aate@example.org"],
  ["a dotted-i that lower-cases to i and a combining dot", "\u0130@example.org"],
  ["a missing local part", "@example.org"],
  ["an empty domain label", "a@example..org"],
  ["a trailing dot", "a@example.org."],
  ["a slash", "a/b@example.org"],
  ["a NUL character", "a\u0000@example.org"],
  ["an address longer than 254 characters", "a".repeat(MAX_IDENTITY_LENGTH) + "@example.org"],
];

for (const [what, raw] of REJECTED) {
  Deno.test(`parseIdentity() rejects ${what}`, () => {
    assert.throws(() => parseIdentity(raw), (err: unknown) => {
      assert.ok(err instanceof SyftError);
      assert.equal(err.code, "E_INPUT");
      assert.match(err.message, /^email ".*" is not a valid email address$/);
      assert.ok(!/\p{Cc}/u.test(err.message), "the message must be one printable line");
      return true;
    });
  });
}

Deno.test("parseIdentity() uses the caller's word and quotes the input", () => {
  assert.throws(() => parseIdentity("bob", "--to"), {
    message: '--to "bob" is not a valid email address',
  });
});

Deno.test("isIdentity() accepts only an already lower-case identity", () => {
  assert.equal(isIdentity("alice@example.org"), true);
  assert.equal(isIdentity("Alice@example.org"), false);
  assert.equal(isIdentity(" alice@example.org"), false);
});
