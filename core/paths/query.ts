/**
 * The permission-query path parser, for `syft perm check` and the permission
 * engine (docs/permissions.md step 2).
 *
 * Unlike the inbound parser it answers a question rather than guarding a
 * write, so it is lenient where the algorithm says so: it splits on `/` and
 * drops empty segments (`a//b/` is `a`, `b`; a leading `/` is dropped too), and
 * it keeps `.` and `..` segments in place, reporting them, for the engine to
 * deny; it never normalises them away, as `public/../private/x` must not become
 * `private/x`. It still refuses what can never name a file: NUL, invalid
 * Unicode and paths over 4096 UTF-8 bytes.
 * @module
 */
import { SyftError } from "../errors/mod.ts";
import { codePointName, isHighSurrogate, isLowSurrogate, utf8Length } from "./_text.ts";
import { quote } from "../encoding/quote.ts";
import { MAX_PATH_BYTES } from "./inbound.ts";

/** A path as the permission engine sees it. */
export interface QueryPath {
  /** The non-empty segments, in order, `.` and `..` included. `[]` names the datasite root. */
  readonly segments: readonly string[];
  /** True when a segment is `.` or `..`: every check on this path denies. */
  readonly hasDotSegment: boolean;
  /** The segments joined with `/` (`a//b/` gives `a/b`). */
  readonly text: string;
}

/**
 * Split a permission-query path into segments, dropping empty ones and keeping `.`/`..`.
 *
 * @example
 * ```ts
 * parseQueryPath("public//data.csv/"); // segments ["public", "data.csv"], hasDotSegment false
 * parseQueryPath("public/../private/x"); // segments ["public", "..", "private", "x"], hasDotSegment true
 * ```
 * @throws {SyftError} `E_INPUT` for a NUL character, a lone surrogate or more than 4096 bytes.
 */
export function parseQueryPath(raw: string, what = "path"): QueryPath {
  const fail = (reason: string) =>
    new SyftError("E_INPUT", `${what} ${quote(raw)} cannot name a file: ${reason}`, {
      hint: `a path is at most ${MAX_PATH_BYTES} bytes of valid Unicode without NUL characters`,
    });
  // Code units never outnumber UTF-8 bytes: a cheap bound before any scan.
  if (raw.length > MAX_PATH_BYTES) throw fail(`it is longer than ${MAX_PATH_BYTES} bytes`);
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0) throw fail(`it contains a NUL character (U+0000) at index ${i}`);
    if (isHighSurrogate(c) && isLowSurrogate(raw.charCodeAt(i + 1))) i++;
    else if (isHighSurrogate(c) || isLowSurrogate(c)) {
      throw fail(`it contains a lone surrogate ${codePointName(c)} at index ${i}`);
    }
  }
  const bytes = utf8Length(raw);
  if (bytes > MAX_PATH_BYTES) throw fail(`it is ${bytes} bytes long, more than ${MAX_PATH_BYTES}`);
  const segments = Object.freeze(raw.split("/").filter((s) => s !== ""));
  return {
    segments,
    hasDotSegment: segments.some((s) => s === "." || s === ".."),
    text: segments.join("/"),
  };
}
