/**
 * Private text helpers shared by the path and identity parsers.
 * @module
 */

/**
 * Number of bytes `s` takes in UTF-8, computed without allocating.
 *
 * A lone surrogate counts 3 bytes, as TextEncoder replaces it with U+FFFD.
 */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(s.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** True for a UTF-16 high (leading) surrogate code unit. */
export function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** True for a UTF-16 low (trailing) surrogate code unit; false for NaN (past the end). */
export function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** True for a C0 or C1 control character or DEL (Unicode category Cc). */
export function isControl(c: number): boolean {
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f);
}

/** `U+XXXX` notation for a code point, as reasons name characters. */
export function codePointName(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
}
