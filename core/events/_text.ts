/**
 * Private helpers that put outside values into one-line error messages.
 * @module
 */

/** Longest excerpt of an outside string shown in a message, in UTF-16 code units. */
const QUOTE_MAX = 80;

/**
 * Quote an outside string for a message.
 *
 * The string came from a peer and ends up on a terminal and in logs, so
 * everything outside printable ASCII is escaped as `\uXXXX` (no control
 * character, bidi override or line separator reaches the screen raw) and a long
 * string is cut so a hostile megabyte name cannot flood the log.
 */
export function quote(s: string, max = QUOTE_MAX): string {
  const cut = s.length > max ? s.slice(0, max) : s;
  const escaped = cut.replace(/[^\x20-\x7e]|["\\]/g, (c) => {
    if (c === '"') return '\\"';
    if (c === "\\") return "\\\\";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
  return `"${escaped}${s.length > max ? "…" : ""}"`;
}

/** A short description of a JSON value for "got …" in a message. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${quote(value, 40)}`;
  if (typeof value === "number") return `the number ${String(value)}`;
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return typeof value;
}
