/**
 * Text that came from outside (a job's `run.sh`, a peer's file names, logs, reasons,
 * dataset summaries) must never drive the terminal it is printed on: an `ESC[2J`
 * could clear what the owner reviews, `ESC[8m` hide a line, a bidi override show
 * `rm -rf` as something else. Every character that a terminal acts on instead of
 * showing is made visible here, in one place every printer goes through.
 * @module
 */

/**
 * C0 controls but newline and tab, DEL, C1 controls, and the bidi embeddings,
 * overrides, isolates and marks (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069),
 * plus the line and paragraph separators some terminals break lines on.
 */
const UNSAFE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

/**
 * Make every control and bidi character of `text` visible: `\x1b` for one below
 * U+0100, `\u202e` above. Newline and tab pass through, so multi-line text (a
 * script under review) keeps its shape.
 *
 * @example
 * ```ts
 * escapeTerminal("a\x1b[2Jb\u202ec"); // "a\\x1b[2Jb\\u202ec"
 * ```
 */
export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
}

/**
 * The JSON text of `value`, with every character {@linkcode escapeTerminal} would
 * change written as a `\uXXXX` escape, so `--json` is still valid JSON, reads back
 * to the same strings, and shows nothing raw when a person pipes it to a terminal.
 */
export function terminalSafeJson(value: unknown, indent = 2): string {
  // JSON.stringify already escapes C0; DEL, C1 and bidi it leaves raw, and a raw
  // one can only sit inside a string literal, where `\uXXXX` means the same.
  return JSON.stringify(value, null, indent).replace(
    UNSAFE,
    (c) => `\\u${hex(c.charCodeAt(0), 4)}`,
  );
}
