/**
 * The glob dialect of `syft.pub.yaml` (docs/permissions.md, "Glob dialect"), matched
 * segment by segment, and the email globs of access lists.
 *
 * Off-the-shelf matchers differ from the dialect in exactly the corners users
 * rely on (`dir/**` against `dir`, `**` against the folder itself, `[!0-9]`,
 * dotfiles), so this is a small matcher of our own: the pattern is split on
 * `/`, each segment is compiled once (to a string comparison where it can, to
 * a RegExp otherwise), and `**` segments are matched by position arithmetic
 * (one `**`) or a small dynamic programme (several), never by exponential
 * backtracking.
 *
 * Dialect, in short:
 * - A segment with none of `* ? [` is literal text, compared as written
 *   (a backslash there is just a character, as in a file name).
 * - Otherwise `*` matches within the segment, `?` one character, `[abc]`
 *   `[a-z]` `[!0-9]` classes (`]` first in a class is literal, `^` is not a
 *   negation, a reversed range matches nothing), and `\x` is the character
 *   `x`. An unclosed `[` is a literal `[`. No braces, no extglob.
 * - `**` as a whole segment matches zero or more segments; `**` alone also
 *   matches the folder itself, but a trailing `/**` after other segments needs
 *   at least one segment (`dir/**` does not match `dir`). `**` inside a segment
 *   acts as `*`. Consecutive `**` segments behave as one.
 * - Wildcards (`*`, `?`, classes, `**`) never match a segment that starts with
 *   `.`; a pattern segment that starts with a literal `.` does (`.env`, `.*`).
 * - Empty segments in a pattern are dropped, as in paths: the empty pattern
 *   names the governing folder itself.
 * - `{{.UserEmail}}` is replaced by the checking user's id as literal text
 *   (glob characters in an id never act as wildcards) within its segment.
 * @module
 */

/** The only template a pattern may contain (docs/permissions.md, "Templates"). */
export const USER_EMAIL_TEMPLATE = "{{.UserEmail}}";

/**
 * Specificity of a pattern, compared left to right, higher first
 * (docs/permissions.md step 6): (a) contains the template, (b) literal segments,
 * (c) wildcard segments other than `**`, (d) minus the `**` segments,
 * (e) total segments.
 */
export type SpecificityKey = readonly [number, number, number, number, number];

/** A compiled `syft.pub.yaml` pattern. */
export interface CompiledPattern {
  /** The pattern as written in the file. */
  readonly source: string;
  /** True when the pattern contains `{{.UserEmail}}`. */
  readonly hasTemplate: boolean;
  /** The specificity key of step 6. */
  readonly key: SpecificityKey;
  /**
   * True when the pattern matches `path.slice(start)` for `user` (the user
   * only matters for a pattern with a template). Segments must be non-empty
   * and never `.` or `..`; the engine guarantees both.
   */
  matches(path: readonly string[], start: number, user: string): boolean;
}

/**
 * Compile a pattern once; the result is immutable and can be shared.
 *
 * @example
 * ```ts
 * const p = compilePattern("**\/*.csv");
 * p.matches(["a", "b", "x.csv"], 0, "bob@example.org"); // true
 * p.matches([".git", "x.csv"], 0, "bob@example.org"); // false: wildcards skip dot segments
 * ```
 */
export function compilePattern(pattern: string): CompiledPattern {
  return new Pattern(pattern);
}

/**
 * Match a pattern against a datasite-relative path (split on `/`, empty
 * segments dropped). Convenient for tests and one-off checks; the engine
 * keeps compiled patterns instead.
 *
 * @example
 * ```ts
 * matchPattern("dir/**", "dir/a.txt"); // true
 * matchPattern("dir/**", "dir"); // false
 * matchPattern("**", ""); // true
 * ```
 */
export function matchPattern(pattern: string, path: string, user = ""): boolean {
  return compilePattern(pattern).matches(splitPath(path), 0, user);
}

/** Compare two specificity keys: negative when `a` is more specific (sorts first). */
export function compareSpecificity(a: SpecificityKey, b: SpecificityKey): number {
  for (let i = 0; i < 5; i++) {
    const d = (b[i] ?? 0) - (a[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The first `{{…}}` in `text` that is not `{{.UserEmail}}`, or null. Any
 * other template makes a permission file invalid (docs/permissions.md).
 */
export function findForeignTemplate(text: string): string | null {
  let from = 0;
  for (;;) {
    const open = text.indexOf("{{", from);
    if (open < 0) return null;
    const close = text.indexOf("}}", open + 2);
    if (close < 0) return null;
    const found = text.slice(open, close + 2);
    if (found !== USER_EMAIL_TEMPLATE) return found;
    from = close + 2;
  }
}

/** A compiled access-list entry. */
export interface CompiledEmailGlob {
  /** The entry as written. */
  readonly source: string;
  /** True when the entry matches the whole of `id` (case-sensitive). */
  matches(id: string): boolean;
}

/**
 * Compile an access-list email glob (`*@hospital.org`, `user?@x.org`,
 * `[ab]*@x.org`). Matched against the whole id, case-sensitive; `*` matches
 * any run of characters, as an id is one name, not a path. An entry with none
 * of `* ? [` is an exact id, compared as written. (`USER` is the engine's
 * business.)
 *
 * @example
 * ```ts
 * compileEmailGlob("*@company.com").matches("alice@company.com"); // true
 * compileEmailGlob("*@company.com").matches("eve@company.com.evil.org"); // false
 * ```
 */
export function compileEmailGlob(entry: string): CompiledEmailGlob {
  if (!hasGlobChars(entry)) return { source: entry, matches: (id) => id === entry };
  const tokens = tokenize(entry);
  if (!tokens.some(isWildcard)) {
    const literal = literalOf(tokens);
    return { source: entry, matches: (id) => id === literal };
  }
  const re = new RegExp(`^${regexSource(tokens)}$`, "su");
  return { source: entry, matches: (id) => re.test(id) };
}

/**
 * True when a pattern segment or an access-list entry is a glob: it contains
 * `*`, `?` or `[` (docs/permissions.md reads these characters as written, escaped
 * or not, both for "exact path" and for the specificity key).
 */
export function hasGlobChars(text: string): boolean {
  return text.includes("*") || text.includes("?") || text.includes("[");
}

/** Split a path on `/`, dropping empty segments (docs/permissions.md step 2). */
export function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

// ---------------------------------------------------------------------------
// Tokens of one glob piece (a segment, part of a segment, or an email entry).

type Token =
  | { readonly t: "lit"; readonly ch: string }
  | { readonly t: "star" }
  | { readonly t: "one" }
  | { readonly t: "class"; readonly neg: boolean; readonly ranges: readonly [number, number][] };

function isWildcard(tok: Token): boolean {
  return tok.t !== "lit";
}

/**
 * Tokenize a glob, by code point so `?` and classes see whole characters. Only
 * for text where {@linkcode hasGlobChars} holds: elsewhere text is verbatim.
 */
function tokenize(glob: string): Token[] {
  const cps = Array.from(glob);
  const tokens: Token[] = [];
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i] as string;
    if (c === "\\") {
      // A trailing backslash escapes nothing: it stands for itself.
      const next = cps[i + 1];
      tokens.push({ t: "lit", ch: next ?? "\\" });
      if (next !== undefined) i++;
    } else if (c === "*") {
      // `**` inside a segment acts as `*`: collapse runs of stars.
      if (tokens.at(-1)?.t !== "star") tokens.push({ t: "star" });
    } else if (c === "?") {
      tokens.push({ t: "one" });
    } else if (c === "[") {
      const cls = parseClass(cps, i + 1);
      if (cls === null) tokens.push({ t: "lit", ch: "[" });
      else {
        tokens.push(cls.token);
        i = cls.end;
      }
    } else tokens.push({ t: "lit", ch: c });
  }
  return tokens;
}

/** Tokens of a piece of a pattern: verbatim characters unless it is a glob. */
function piece(text: string): Token[] {
  return hasGlobChars(text) ? tokenize(text) : Array.from(text, (ch) => ({ t: "lit", ch }));
}

/** Parse a bracket class whose body starts at `start`; null when it never closes. */
function parseClass(cps: string[], start: number): { token: Token; end: number } | null {
  let j = start;
  const neg = cps[j] === "!";
  if (neg) j++;
  const ranges: [number, number][] = [];
  let first = true;
  // Reads one class member at j, honouring a backslash escape; advances j past it.
  const member = (): number | null => {
    let ch = cps[j];
    if (ch === "\\" && j + 1 < cps.length) ch = cps[++j];
    if (ch === undefined) return null;
    j++;
    return ch.codePointAt(0) ?? 0;
  };
  while (j < cps.length) {
    if (cps[j] === "]" && !first) return { token: { t: "class", neg, ranges }, end: j };
    first = false;
    const lo = member();
    if (lo === null) return null;
    // `a-z` is a range unless the `-` is last (`[a-]` lists a dash).
    if (cps[j] === "-" && j + 1 < cps.length && cps[j + 1] !== "]") {
      j++;
      const hi = member();
      if (hi === null) return null;
      // A reversed range (`[z-a]`) matches nothing, as in fnmatch.
      if (lo <= hi) ranges.push([lo, hi]);
    } else ranges.push([lo, lo]);
  }
  return null;
}

function literalOf(tokens: readonly Token[]): string {
  let s = "";
  for (const tok of tokens) if (tok.t === "lit") s += tok.ch;
  return s;
}

/** A character as a RegExp atom that is safe in `u` mode, inside and outside classes. */
function escapeChar(cp: number): string {
  const isAlnum = (cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122);
  return isAlnum ? String.fromCodePoint(cp) : `\\u{${cp.toString(16)}}`;
}

function escapeLiteral(s: string): string {
  let out = "";
  for (const ch of s) out += escapeChar(ch.codePointAt(0) ?? 0);
  return out;
}

/** RegExp source (for flags `su`) of a token list. */
function regexSource(tokens: readonly Token[]): string {
  let src = "";
  for (const tok of tokens) {
    switch (tok.t) {
      case "lit":
        src += escapeLiteral(tok.ch);
        break;
      case "star":
        src += ".*";
        break;
      case "one":
        src += ".";
        break;
      case "class": {
        const body = tok.ranges.map(([lo, hi]) =>
          lo === hi ? escapeChar(lo) : `${escapeChar(lo)}-${escapeChar(hi)}`
        ).join("");
        // An empty class matches nothing; negated, it matches any character.
        if (body === "") src += tok.neg ? "." : "(?!)";
        else src += `[${tok.neg ? "^" : ""}${body}]`;
        break;
      }
    }
  }
  return src;
}

// ---------------------------------------------------------------------------
// Compiled segments. One class with a numeric kind keeps the matching call
// sites monomorphic, which matters at hundreds of thousands of checks a second.

const LITERAL = 0; // exact string
const ANY = 1; // `*`: any segment not starting with a dot
const PREFIX = 2; // `abc*`
const SUFFIX = 3; // `*.csv`
const PREFIX_SUFFIX = 4; // `a*.csv`
const REGEX = 5; // anything else
const GLOBSTAR = 6; // `**` as a whole segment
const USER_SEGMENT = 7; // exactly `{{.UserEmail}}`
const TEMPLATE = 8; // a segment mixing the template with other text

const DOT = 46; // "."

/** Per-segment RegExp caches for template segments are bounded: ids come from outside. */
const TEMPLATE_CACHE_MAX = 256;

class Segment {
  readonly kind: number;
  readonly text: string;
  readonly text2: string;
  readonly re: RegExp | null;
  /** True when a segment starting with `.` can match (the pattern starts with a literal dot). */
  readonly explicitDot: boolean;
  /** For TEMPLATE: the token lists between the template occurrences. */
  readonly pieces: readonly (readonly Token[])[];
  readonly cache: Map<string, { re: RegExp; explicitDot: boolean }> | null;

  constructor(
    kind: number,
    opts: {
      text?: string;
      text2?: string;
      re?: RegExp;
      explicitDot?: boolean;
      pieces?: readonly (readonly Token[])[];
    } = {},
  ) {
    this.kind = kind;
    this.text = opts.text ?? "";
    this.text2 = opts.text2 ?? "";
    this.re = opts.re ?? null;
    this.explicitDot = opts.explicitDot ?? false;
    this.pieces = opts.pieces ?? [];
    this.cache = kind === TEMPLATE ? new Map() : null;
  }

  test(seg: string, user: string): boolean {
    switch (this.kind) {
      case LITERAL:
        return seg === this.text;
      case USER_SEGMENT:
        return seg === user;
      case ANY:
        return seg.charCodeAt(0) !== DOT;
      case PREFIX:
        return (this.explicitDot || seg.charCodeAt(0) !== DOT) && seg.startsWith(this.text);
      case SUFFIX:
        return seg.charCodeAt(0) !== DOT && seg.endsWith(this.text);
      case PREFIX_SUFFIX:
        return (this.explicitDot || seg.charCodeAt(0) !== DOT) &&
          seg.length >= this.text.length + this.text2.length &&
          seg.startsWith(this.text) && seg.endsWith(this.text2);
      case REGEX:
        return (this.explicitDot || seg.charCodeAt(0) !== DOT) && (this.re as RegExp).test(seg);
      case TEMPLATE: {
        const compiled = this.forUser(user);
        return (compiled.explicitDot || seg.charCodeAt(0) !== DOT) && compiled.re.test(seg);
      }
      default:
        return false;
    }
  }

  /** The segment with `user` substituted as literal text, compiled once per user. */
  forUser(user: string): { re: RegExp; explicitDot: boolean } {
    const cache = this.cache as Map<string, { re: RegExp; explicitDot: boolean }>;
    let hit = cache.get(user);
    if (hit === undefined) {
      let src = "";
      this.pieces.forEach((piece, i) => {
        if (i > 0) src += escapeLiteral(user);
        src += regexSource(piece);
      });
      const firstPiece = this.pieces[0] ?? [];
      const lead = firstPiece[0];
      // The user's id is literal text: when it opens the segment, its own
      // first character decides whether a dot there was written explicitly.
      const explicitDot = lead === undefined ? user.startsWith(".") : isDotLiteral(lead);
      hit = { re: new RegExp(`^${src}$`, "su"), explicitDot };
      if (cache.size >= TEMPLATE_CACHE_MAX) cache.clear();
      cache.set(user, hit);
    }
    return hit;
  }
}

function isDotLiteral(tok: Token): boolean {
  return tok.t === "lit" && tok.ch === ".";
}

/** Compile one non-empty pattern segment; also report what the specificity key needs. */
function compileSegment(raw: string): { seg: Segment; literal: boolean; wildcard: boolean } {
  if (raw === "**") return { seg: new Segment(GLOBSTAR), literal: false, wildcard: false };
  if (raw.includes(USER_EMAIL_TEMPLATE)) {
    const parts = raw.split(USER_EMAIL_TEMPLATE);
    const wildcard = parts.some(hasGlobChars);
    if (parts.length === 2 && parts[0] === "" && parts[1] === "") {
      return { seg: new Segment(USER_SEGMENT), literal: false, wildcard: false };
    }
    return { seg: new Segment(TEMPLATE, { pieces: parts.map(piece) }), literal: false, wildcard };
  }
  if (!hasGlobChars(raw)) {
    return { seg: new Segment(LITERAL, { text: raw }), literal: true, wildcard: false };
  }
  const tokens = tokenize(raw);
  if (!tokens.some(isWildcard)) {
    // Only escapes or an unclosed `[`: it matches as literal text, yet it is
    // still a wildcard segment for the specificity key, which reads the
    // pattern as written.
    return {
      seg: new Segment(LITERAL, { text: literalOf(tokens) }),
      literal: false,
      wildcard: true,
    };
  }
  const explicitDot = tokens[0] !== undefined && isDotLiteral(tokens[0]);
  const stars = tokens.filter((t) => t.t === "star").length;
  const onlyLitsAndOneStar = stars === 1 && tokens.every((t) => t.t === "lit" || t.t === "star");
  let seg: Segment;
  if (onlyLitsAndOneStar) {
    const at = tokens.findIndex((t) => t.t === "star");
    const prefix = literalOf(tokens.slice(0, at));
    const suffix = literalOf(tokens.slice(at + 1));
    if (prefix === "" && suffix === "") seg = new Segment(ANY);
    else if (suffix === "") seg = new Segment(PREFIX, { text: prefix, explicitDot });
    else if (prefix === "") seg = new Segment(SUFFIX, { text: suffix });
    else seg = new Segment(PREFIX_SUFFIX, { text: prefix, text2: suffix, explicitDot });
  } else {
    seg = new Segment(REGEX, { re: new RegExp(`^${regexSource(tokens)}$`, "su"), explicitDot });
  }
  return { seg, literal: false, wildcard: true };
}

// ---------------------------------------------------------------------------
// Whole patterns.

const EXACT_MODE = 0; // no `**`: lengths equal, segment by segment
const ONE_GLOBSTAR_MODE = 1; // one `**`: prefix and suffix are fixed, the middle is consumed
const DP_MODE = 2; // several `**`

/** Scratch rows for the dynamic programme, reused so a check allocates nothing. */
let rowA = new Uint8Array(64);
let rowB = new Uint8Array(64);

class Pattern implements CompiledPattern {
  readonly source: string;
  readonly hasTemplate: boolean;
  readonly key: SpecificityKey;
  readonly #segs: readonly Segment[];
  readonly #mode: number;
  /** Index of the single `**` in ONE_GLOBSTAR_MODE. */
  readonly #star: number;
  /** Segments the trailing `**` must consume at least: 1 for `dir/**`, else 0. */
  readonly #minTail: number;

  constructor(source: string) {
    this.source = source;
    this.hasTemplate = source.includes(USER_EMAIL_TEMPLATE);
    const raws = splitPath(source);
    let literal = 0;
    let wildcard = 0;
    let globstars = 0;
    const segs: Segment[] = [];
    for (const raw of raws) {
      const c = compileSegment(raw);
      if (c.literal) literal++;
      if (c.wildcard) wildcard++;
      if (c.seg.kind === GLOBSTAR) {
        globstars++;
        // `**/**` matches what `**` matches: keep one, so the DP stays small.
        if (segs.at(-1)?.kind === GLOBSTAR) continue;
      }
      segs.push(c.seg);
    }
    // `0 - n`, not `-n`: -0 would make keys print and compare oddly.
    this.key = [this.hasTemplate ? 1 : 0, literal, wildcard, 0 - globstars, raws.length];
    this.#segs = segs;
    const stars = segs.filter((s) => s.kind === GLOBSTAR).length;
    this.#mode = stars === 0 ? EXACT_MODE : stars === 1 ? ONE_GLOBSTAR_MODE : DP_MODE;
    this.#star = segs.findIndex((s) => s.kind === GLOBSTAR);
    // `dir/**` names what is inside dir, not dir itself; `**` alone names everything.
    this.#minTail = segs.length > 1 && segs.at(-1)?.kind === GLOBSTAR ? 1 : 0;
  }

  matches(path: readonly string[], start: number, user: string): boolean {
    const segs = this.#segs;
    const n = path.length - start;
    if (this.#mode === EXACT_MODE) {
      if (n !== segs.length) return false;
      for (let i = 0; i < n; i++) {
        if (!(segs[i] as Segment).test(path[start + i] as string, user)) return false;
      }
      return true;
    }
    if (this.#mode === ONE_GLOBSTAR_MODE) {
      const g = this.#star;
      const suffix = segs.length - g - 1;
      const consumed = n - g - suffix;
      if (consumed < this.#minTail || consumed < 0) return false;
      for (let i = 0; i < g; i++) {
        if (!(segs[i] as Segment).test(path[start + i] as string, user)) return false;
      }
      const tail = start + n - suffix;
      for (let i = 0; i < suffix; i++) {
        if (!(segs[g + 1 + i] as Segment).test(path[tail + i] as string, user)) return false;
      }
      // `**` is a wildcard too: it never steps over a dot segment.
      for (let i = start + g; i < tail; i++) {
        if ((path[i] as string).charCodeAt(0) === DOT) return false;
      }
      return true;
    }
    return this.#matchDp(path, start, n, user);
  }

  /**
   * cur[j] says the pattern so far can end exactly before path segment j. A
   * `**` row extends every reachable j over following non-dot segments; other
   * segments advance one. O(pattern × path), whatever the number of `**`.
   */
  #matchDp(path: readonly string[], start: number, n: number, user: string): boolean {
    if (rowA.length < n + 1) {
      rowA = new Uint8Array(2 * (n + 1));
      rowB = new Uint8Array(2 * (n + 1));
    }
    let cur = rowA;
    let nxt = rowB;
    cur.fill(0, 0, n + 1);
    cur[0] = 1;
    const segs = this.#segs;
    const last = segs.length - 1;
    for (let k = 0; k <= last; k++) {
      const seg = segs[k] as Segment;
      nxt.fill(0, 0, n + 1);
      let any = false;
      if (seg.kind === GLOBSTAR) {
        const strict = k === last && this.#minTail === 1;
        // open: some reachable i ≤ j whose run i..j-1 has no dot segment.
        let open = false;
        for (let j = 0; j <= n; j++) {
          const carried: boolean = j > 0 && open &&
            (path[start + j - 1] as string).charCodeAt(0) !== DOT;
          open = carried || cur[j] === 1;
          const v = strict ? carried : open;
          if (v) {
            nxt[j] = 1;
            any = true;
          }
        }
      } else {
        for (let j = 0; j < n; j++) {
          if (cur[j] === 1 && seg.test(path[start + j] as string, user)) {
            nxt[j + 1] = 1;
            any = true;
          }
        }
      }
      if (!any) return false;
      const t = cur;
      cur = nxt;
      nxt = t;
    }
    return cur[n] === 1;
  }
}
