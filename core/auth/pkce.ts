/**
 * PKCE (RFC 7636) and the `state` value of an OAuth authorization request:
 * the verifier proves that whoever redeems the code started the sign-in, the
 * state that the redirect answers our own request (not a forged one).
 * @module
 */

import { encodeBase64Url as base64Url } from "../encoding/base64.ts";

/** A fresh code verifier: 32 random bytes, 43 characters of `[A-Za-z0-9-_]`. */
export function newVerifier(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** A fresh, unguessable `state`. */
export function newState(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(24)));
}

/**
 * The S256 challenge of a verifier: base64url(SHA-256(ASCII(verifier))).
 *
 * @example
 * ```ts
 * // RFC 7636 appendix B
 * await s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
 * // "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
 * ```
 */
export async function s256Challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

/** Compare two secrets in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
