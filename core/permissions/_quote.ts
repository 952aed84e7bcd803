/**
 * Quoting outside strings (paths, user ids, patterns) inside reasons, which
 * the CLI prints on a terminal.
 * @module
 */

/** Longest quoted excerpt, in code points: a hostile 4 KB path must not flood a line. */
const MAX = 120;

/**
 * JSON-style quoting that also escapes what JSON.stringify lets through but a
 * terminal should never see raw: DEL, C1 controls, bidi controls, line and
 * paragraph separators, lone surrogates.
 */
export function quote(s: string): string {
  let out = '"';
  let count = 0;
  for (const ch of s) {
    if (count++ === MAX) return `${out}…"`;
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (
      c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff) ||
      c === 0x061c || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069) || c === 0x2028 || c === 0x2029
    ) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}
