/**
 * Drive's search language (`files.list` `q`): terms joined by `and`, `or`,
 * `not` and parentheses. A query the fake does not understand is a 400, as a
 * malformed one is on Drive, so a client never silently gets everything.
 * @module
 */
import { invalidParameter } from "./_errors.ts";

/** What a term needs to know about one file, from the caller's point of view. */
export interface QueryFile {
  name: string;
  mimeType: string;
  parents: string[];
  owners: string[];
  writers: string[];
  readers: string[];
  trashed: boolean;
  starred: boolean;
  sharedWithMe: boolean;
  createdTime: string;
  modifiedTime: string;
  properties: Record<string, string>;
  appProperties: Record<string, string>;
}

/** A compiled query. */
export type Predicate = (file: QueryFile) => boolean;

type Token =
  | { t: "str"; v: string }
  | { t: "word"; v: string }
  | { t: "op"; v: string }
  | { t: "punct"; v: "(" | ")" | "{" | "}" };

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let v = "";
      i++;
      for (;;) {
        if (i >= q.length) throw invalidParameter("q");
        const d = q[i]!;
        if (d === "\\") {
          const next = q[i + 1];
          if (next === undefined) throw invalidParameter("q");
          v += next;
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          v += d;
          i++;
        }
      }
      out.push({ t: "str", v });
    } else if (c === "(" || c === ")" || c === "{" || c === "}") {
      out.push({ t: "punct", v: c });
      i++;
    } else if ("=!<>".includes(c)) {
      const m = /^(!=|<=|>=|=|<|>)/.exec(q.slice(i));
      if (!m) throw invalidParameter("q");
      out.push({ t: "op", v: m[1]! });
      i += m[1]!.length;
    } else {
      const m = /^[A-Za-z0-9_.:+-]+/.exec(q.slice(i));
      if (!m) throw invalidParameter("q");
      out.push({ t: "word", v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

/**
 * Drive's `name contains`: a prefix match on the name's words, case
 * insensitive — `contains 'Hello'` finds "HelloWorld" and "say hello", but
 * `contains 'World'` does not find "HelloWorld".
 */
export function containsWordPrefix(haystack: string, needle: string): boolean {
  const h = haystack.toLowerCase();
  const n = needle.toLowerCase();
  if (n === "") return true;
  for (let at = h.indexOf(n); at !== -1; at = h.indexOf(n, at + 1)) {
    if (at === 0 || !/[\p{L}\p{N}]/u.test(h[at - 1]!)) return true;
  }
  return false;
}

/** Compile `q` to a predicate; throws a 400 `invalid` (location `q`) when malformed. */
export function compileQuery(q: string, resolveId: (id: string) => string): Predicate {
  const tokens = tokenize(q);
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (): never => {
    throw invalidParameter("q");
  };
  const isWord = (tok: Token | undefined, w: string) =>
    tok?.t === "word" && tok.v.toLowerCase() === w;

  const orExpr = (): Predicate => {
    let left = andExpr();
    while (isWord(peek(), "or")) {
      pos++;
      const l = left, r = andExpr();
      left = (f) => l(f) || r(f);
    }
    return left;
  };
  const andExpr = (): Predicate => {
    let left = unary();
    while (isWord(peek(), "and")) {
      pos++;
      const l = left, r = unary();
      left = (f) => l(f) && r(f);
    }
    return left;
  };
  const unary = (): Predicate => {
    if (isWord(peek(), "not")) {
      pos++;
      const inner = unary();
      return (f) => !inner(f);
    }
    const tok = peek();
    if (tok?.t === "punct" && tok.v === "(") {
      pos++;
      const inner = orExpr();
      const close = tokens[pos++];
      if (close?.t !== "punct" || close.v !== ")") fail();
      return inner;
    }
    return term();
  };
  const str = (): string => {
    const tok = tokens[pos++];
    if (tok?.t !== "str") fail();
    return (tok as { v: string }).v;
  };
  const bool = (): boolean => {
    const tok = tokens[pos++];
    if (isWord(tok, "true")) return true;
    if (isWord(tok, "false")) return false;
    return fail();
  };
  const op = (allowed: string[]): string => {
    const tok = tokens[pos++];
    if (tok?.t === "op" && allowed.includes(tok.v)) return tok.v;
    if (isWord(tok, "contains") && allowed.includes("contains")) return "contains";
    return fail();
  };
  const compare = (a: string, o: string, b: string): boolean => {
    // RFC 3339; a time without an offset is UTC, as Drive reads it.
    const utc = /(Z|[+-]\d\d:?\d\d)$/i.test(b) ? b : `${b}Z`;
    const x = Date.parse(a), y = Date.parse(utc);
    if (Number.isNaN(y)) fail();
    return o === "="
      ? x === y
      : o === "!="
      ? x !== y
      : o === "<"
      ? x < y
      : o === "<="
      ? x <= y
      : o === ">"
      ? x > y
      : x >= y;
  };

  const term = (): Predicate => {
    const tok = tokens[pos++];
    if (tok?.t === "str") {
      // '<value>' in <collection>
      if (!isWord(tokens[pos++], "in")) fail();
      const field = tokens[pos++];
      const value = tok.v;
      if (isWord(field, "parents")) {
        const id = resolveId(value);
        return (f) => f.parents.includes(id);
      }
      const who = (list: string[]) =>
        value === "me" ? list.includes(MY_SELF) : list.includes(value.toLowerCase());
      if (isWord(field, "owners")) return (f) => who(f.owners);
      if (isWord(field, "writers")) return (f) => who(f.writers);
      if (isWord(field, "readers")) return (f) => who(f.readers);
      return fail();
    }
    if (tok?.t !== "word") return fail();
    const field = tok.v;
    switch (field) {
      case "name": {
        const o = op(["=", "!=", "contains"]);
        const v = str();
        if (o === "contains") return (f) => containsWordPrefix(f.name, v);
        return o === "=" ? (f) => f.name === v : (f) => f.name !== v;
      }
      case "mimeType": {
        const o = op(["=", "!=", "contains"]);
        const v = str();
        if (o === "contains") return (f) => f.mimeType.includes(v);
        return o === "=" ? (f) => f.mimeType === v : (f) => f.mimeType !== v;
      }
      case "createdTime":
      case "modifiedTime": {
        const o = op(["=", "!=", "<", "<=", ">", ">="]);
        const v = str();
        return (f) => compare(f[field], o, v);
      }
      case "trashed":
      case "starred":
      case "sharedWithMe": {
        const next = peek();
        // `sharedWithMe` may stand alone; the others need `= true|false`.
        if (field === "sharedWithMe" && next?.t !== "op") return (f) => f.sharedWithMe;
        const o = op(["=", "!="]);
        const v = bool();
        return (f) => (f[field] === v) === (o === "=");
      }
      case "properties":
      case "appProperties": {
        if (!isWord(tokens[pos++], "has")) fail();
        const open = tokens[pos++];
        if (open?.t !== "punct" || open.v !== "{") fail();
        if (!isWord(tokens[pos++], "key")) fail();
        op(["="]);
        const key = str();
        if (!isWord(tokens[pos++], "and") || !isWord(tokens[pos++], "value")) fail();
        op(["="]);
        const value = str();
        const close = tokens[pos++];
        if (close?.t !== "punct" || close.v !== "}") fail();
        return (f) => f[field][key] === value;
      }
      default:
        return fail();
    }
  };

  if (tokens.length === 0) return () => true;
  const predicate = orExpr();
  if (pos !== tokens.length) fail();
  return predicate;
}

/**
 * How the caller appears in a file's `owners`/`readers`/`writers` lists in a
 * {@linkcode QueryFile}, so `'me' in owners` needs no second lookup.
 */
export const MY_SELF = "\u0000me";
