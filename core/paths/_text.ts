/**
 * Private text helpers shared by the path and identity parsers.
 * @module
 */

/** Longest quoted excerpt of an outside string shown in a message, in code points. */
const QUOTE_MAX = 80;

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

/**
 * Quote an outside string for a one-line message.
 *
 * Outside strings end up on a terminal, so besides what JSON.stringify escapes
 * this also escapes DEL and C1 controls (U+009B is CSI on some terminals), line
 * and paragraph separators, bidi overrides (which can make a path read as
 * another) and lone surrogates; long strings are cut so a hostile 10 MB name
 * cannot flood the log. Ordinary strings come out exactly as JSON.stringify
 * would write them.
 */
export function quote(s: string, max = QUOTE_MAX): string {
  let out = '"';
  let count = 0;
  for (const ch of s) {
    if (count === max) {
      out += "…";
      break;
    }
    count++;
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (isControl(c) || needsEscape(c)) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/** Printable-looking code points that still must not reach a terminal raw. */
function needsEscape(c: number): boolean {
  return (c >= 0xd800 && c <= 0xdfff) || // only lone surrogates reach here
    c === 0x061c || c === 0x200e || c === 0x200f || // bidi marks
    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || // bidi embeddings, isolates
    c === 0x2028 || c === 0x2029; // line and paragraph separators
}

/** `U+XXXX` notation for a code point, as reasons name characters. */
export function codePointName(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
}
