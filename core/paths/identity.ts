/**
 * Identities (docs/protocol.md §1): a user is an email address, lower-cased on entry.
 * @module
 */
import { SyftError } from "../errors/mod.ts";
import { quote } from "../encoding/quote.ts";

/** The identity grammar, applied after lower-casing. */
export const IDENTITY_RE = /^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/;

/** Longest identity we accept (an email's practical limit). */
export const MAX_IDENTITY_LENGTH = 254;

/** True when `raw` is already a valid, lower-case identity. */
export function isIdentity(raw: string): boolean {
  return raw.length <= MAX_IDENTITY_LENGTH && IDENTITY_RE.test(raw);
}

/**
 * Lower-case and validate an email typed by a user or found in a message.
 *
 * @example
 * ```ts
 * parseIdentity("Alice@Example.org"); // "alice@example.org"
 * ```
 * @throws {SyftError} `E_INPUT` when it is not an email address.
 */
export function parseIdentity(raw: string, what = "email"): string {
  const trimmed = raw.trim();
  const email = trimmed.toLowerCase();
  // Test ASCII before lower-casing: toLowerCase() maps the Kelvin sign U+212A
  // to "k", which would turn a look-alike into someone else's identity.
  if (!/^[ -~]*$/.test(trimmed) || !isIdentity(email)) {
    throw new SyftError("E_INPUT", `${what} ${quote(raw)} is not a valid email address`, {
      hint: "use the form name@example.org (letters, digits and . _ % + - before the @)",
    });
  }
  return email;
}
