/**
 * Quoting an outside string (a path, a user id, a pattern, a field from a
 * peer) for a one-line message, which ends up on a terminal and in logs.
 * @module
 */

/** Longest quoted excerpt shown by default, in code points. */
const QUOTE_MAX = 80;

/**
 * `s` in double quotes, as JSON.stringify writes an ordinary string, with
 * everything a terminal must never see raw escaped as well.
 *
 * Besides what JSON escapes, DEL and C1 controls (U+009B is CSI on some
 * terminals), line and paragraph separators, bidi marks, embeddings, overrides
 * and isolates (which can make a path read as another) and lone surrogates
 * become `\uXXXX`. A string longer than `max` code points is cut with `…`, so
 * a hostile 10 MB name cannot flood the log.
 *
 * @example
 * ```ts
 * quote('a "b"'); // "\"a \\\"b\\\"\""
 * quote("x\u202ey"); // "\"x\\u202ey\""
 * quote("abcdef", 3); // "\"abc…\""
 * ```
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
    else if (mustEscape(c)) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/** Code points that must not reach a terminal raw (lone surrogates only reach here alone). */
function mustEscape(c: number): boolean {
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f) || // C0, DEL, C1
    (c >= 0xd800 && c <= 0xdfff) || // lone surrogates
    c === 0x061c || c === 0x200e || c === 0x200f || // bidi marks
    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || // bidi embeddings, isolates
    c === 0x2028 || c === 0x2029; // line and paragraph separators
}
