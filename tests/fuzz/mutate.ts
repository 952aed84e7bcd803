/**
 * Seeded mutations of valid inputs: byte-level (bit flips, truncations,
 * extensions, length fields, overlong UTF-8) and tree-level (hostile path
 * segments, long names, deep nesting, huge numbers, bidi text) for documents
 * that parse as JSON or YAML. Pure: the same `Rand` replays the same mutation.
 * @module
 */
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { prng } from "../../core/random/prng.ts";

/** A seeded source of choices. */
export class Rand {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = prng(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

const enc = new TextEncoder();

/** Strings that have broken path checks, name checks and terminals elsewhere. */
export const HOSTILE_STRINGS: readonly string[] = [
  "",
  "..",
  "../..",
  "../../etc/passwd",
  "a/../../b",
  "./a",
  "a/./b",
  "a//b",
  "/etc/passwd",
  "/",
  "a/",
  "\\..\\..\\x",
  "C:\\x",
  "a\0b",
  "\0",
  "%2e%2e/%2e%2e",
  "\u202e\u2066cod.exe",
  "\u200b..",
  "\ufeffa",
  "\ud800",
  "a\nb",
  "\x1b[31mred",
  "..\u2215..\u2215x",
  "\uff0e\uff0e/x",
  "CON",
  "__proto__",
  "constructor",
  "syft.pub.yaml",
  ".git/config",
  "x".repeat(256),
  "x/".repeat(70) + "x",
  "\u00e9".repeat(3000),
  "a".repeat(70_000),
];

/** Numbers at the edges of every check. */
export const HOSTILE_NUMBERS: readonly number[] = [
  -1,
  0,
  1,
  0.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e308,
  -1e308,
  Number.MIN_VALUE,
];

/** Byte sequences that are not valid UTF-8: overlong `/` and `.`, surrogates, stray bytes. */
const BAD_UTF8: readonly number[][] = [
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xc0, 0xae],
  [0xed, 0xa0, 0x80],
  [0xff],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x80, 0xae],
];

/** Deep nesting as JSON text, past any recursive parser's comfort. */
export function deepJson(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

/** A byte-level mutation of `input` (never shares its buffer). */
export function mutateBytes(input: Uint8Array, r: Rand): Uint8Array {
  const b = new Uint8Array(input);
  const at = () => r.int(Math.max(b.length, 1));
  switch (r.int(11)) {
    case 0: { // flip 1..8 bits
      const n = 1 + r.int(8);
      for (let i = 0; i < n && b.length > 0; i++) b[at()]! ^= 1 << r.int(8);
      return b;
    }
    case 1: { // set a byte to an interesting value
      if (b.length > 0) b[at()] = r.pick([0, 0xff, 0x7f, 0x80, 0x2e, 0x2f, 0x0a, 0x22, 0x5c]);
      return b;
    }
    case 2: // truncate
      return b.slice(0, at());
    case 3: { // extend with noise or a repeat of the tail
      const extra = r.chance(0.5)
        ? Uint8Array.from({ length: 1 + r.int(4096) }, () => r.int(256))
        : b.slice(at());
      return concat(b, extra);
    }
    case 4: { // delete a range
      const from = at();
      return concat(b.slice(0, from), b.slice(from + 1 + r.int(64)));
    }
    case 5: { // duplicate a range in place
      const from = at();
      const part = b.slice(from, from + 1 + r.int(256));
      return concat(b.slice(0, from), part, b.slice(from));
    }
    case 6: { // overwrite a 4-byte big-endian window (a length field, maybe)
      if (b.length < 4) return b;
      const from = r.int(b.length - 3);
      const old = new DataView(b.buffer).getUint32(from);
      const value = r.pick([0, 1, 0xffffffff, 0x7fffffff, 65_536, 65_537, old + 1, old - 1]);
      new DataView(b.buffer).setUint32(from, value >>> 0);
      return b;
    }
    case 7: { // insert invalid UTF-8
      const from = at();
      return concat(b.slice(0, from), Uint8Array.from(r.pick(BAD_UTF8)), b.slice(from));
    }
    case 8: { // insert a hostile string's bytes
      const from = at();
      return concat(b.slice(0, from), enc.encode(r.pick(HOSTILE_STRINGS)), b.slice(from));
    }
    case 9: // empty or a single byte
      return r.chance(0.5) ? new Uint8Array(0) : Uint8Array.of(r.int(256));
    default: { // swap two ranges' bytes
      for (let i = 0; i < 1 + r.int(16) && b.length > 1; i++) {
        const x = at(), y = at();
        [b[x], b[y]] = [b[y]!, b[x]!];
      }
      return b;
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

type Tree = unknown;

interface Slot {
  get(): Tree;
  set(value: Tree): void;
}

/** Every element and member in `tree`, so one can be replaced. */
function slots(tree: Tree): Slot[] {
  const out: Slot[] = [];
  const walk = (node: Tree) => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        out.push({ get: () => node[i], set: (v) => (node[i] = v) });
        walk(child);
      });
    } else if (node !== null && typeof node === "object") {
      const obj = node as Record<string, Tree>;
      for (const key of Object.keys(obj)) {
        out.push({ get: () => obj[key], set: (v) => (obj[key] = v) });
        walk(obj[key]);
      }
    }
  };
  walk(tree);
  return out;
}

/** A hostile replacement value for one slot of a document. */
function hostileValue(r: Rand, old: () => Tree): Tree {
  switch (r.int(9)) {
    case 0:
      return r.pick(HOSTILE_STRINGS);
    case 1:
      return r.pick(HOSTILE_NUMBERS);
    case 2:
      return r.pick([null, true, false, [], {}, "1", "null"]);
    case 3: { // a path-like value with one hostile segment
      const segs = ["a", "b", "c.txt"];
      segs[r.int(segs.length)] = r.pick(["..", ".", "", "/", "\0", "x".repeat(300), "\u202e"]);
      return segs.join("/");
    }
    case 4: { // nested arrays
      // The deepest and the widest (case 5) cost a YAML parser tens of
      // milliseconds and find the same thing each time: one in ten.
      let v: Tree = "x";
      for (let i = 0, n = r.chance(0.1) ? 3000 : r.pick([10, 200]); i < n; i++) v = [v];
      return v;
    }
    case 5: // many elements
      // Thousands of a small value; a big one (a 70 kB string) only a hundred
      // times, or the document alone would be hundreds of megabytes.
      return Array.from({
        length: (JSON.stringify(old())?.length ?? 0) > 1000 ? 100 : r.chance(0.1) ? 5_000 : 100,
      }, () => old());
    case 6: { // a prototype key
      return JSON.parse(`{"__proto__": {"polluted": 1}, "constructor": 1}`);
    }
    case 7: // a string with bidi and zero-width characters around the old text
      return `\u202e${String(old())}\u200d\u2066`;
    default: // the old value, stringified (a type confusion)
      return JSON.stringify(old()) ?? "undefined";
  }
}

/** Replace, delete or add one part of a parsed document. */
export function mutateTree(tree: Tree, r: Rand): Tree {
  const copy = structuredClone(tree);
  const all = slots(copy);
  if (all.length === 0 || r.chance(0.05)) return hostileValue(r, () => copy);
  const slot = r.pick(all);
  const old = slot.get();
  // undefined: JSON drops the member (or writes null in an array), a missing field.
  const value = r.chance(0.1) ? undefined : hostileValue(r, () => old);
  slot.set(value);
  if (r.chance(0.1) && copy !== null && typeof copy === "object" && !Array.isArray(copy)) {
    // An unknown or prototype key at the top.
    (copy as Record<string, Tree>)[r.pick(["extra", "__proto__", "\u00e9vil", "seq"])] = old;
  }
  return copy;
}

/** Mutate JSON bytes: half the time at the tree level, else at the byte level. */
export function mutateJson(input: Uint8Array, r: Rand): Uint8Array {
  if (r.chance(0.1)) return enc.encode(r.chance(0.5) ? deepJson(r.pick([1000, 100_000])) : "{}");
  if (r.chance(0.5)) {
    const tree = JSON.parse(new TextDecoder().decode(input));
    return enc.encode(JSON.stringify(mutateTree(tree, r)));
  }
  return mutateBytes(input, r);
}

/** YAML-only attacks: alias bombs, deep flow nesting, tags, many documents. */
const YAML_ATTACKS: readonly string[] = [
  "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n" +
  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n" +
  "e: [*d, *d, *d, *d, *d, *d, *d, *d]\n",
  "a: " + "[".repeat(300) + "]".repeat(300) + "\n",
  "a: " + "[".repeat(5000) + "]".repeat(5000) + "\n",
  "a: " + "{b: ".repeat(300) + "1" + "}".repeat(300) + "\n",
  "a: " + "{b: ".repeat(3000) + "1" + "}".repeat(3000) + "\n",
  "a: b\n".repeat(2000),
  "a:\n" + "  - x\n".repeat(3000),
  "a: !!js/function 'function(){}'\n",
  "---\na: 1\n---\nb: 2\n",
  "a: *undefined_alias\n",
  "? [a, b]\n: c\n",
  "<<: {x: 1}\n",
  "a: 1\na: 2\n",
  "- " + "- ".repeat(2000) + "x\n",
];

/** The valid inputs are few and fixed: each is parsed once (mutateTree copies before it edits). */
const parsedSeeds = new Map<string, Tree>();

function parsedYaml(text: string): Tree {
  let tree = parsedSeeds.get(text);
  if (tree === undefined) {
    tree = parseYaml(text) as Tree;
    if (parsedSeeds.size < 64) parsedSeeds.set(text, tree);
  }
  return tree;
}

/** Mutate YAML text: as a tree, with a YAML attack spliced in, or as bytes. */
export function mutateYaml(input: Uint8Array, r: Rand): Uint8Array {
  const text = new TextDecoder().decode(input);
  // An attack is a fixed text (deep, wide or aliased) that costs the parser
  // tens of milliseconds, and the same text again finds nothing new: one case
  // in twenty splices one, the rest mutate the tree or the bytes.
  const branch = r.chance(0.05) ? 1 : r.chance(0.5) ? 0 : 2;
  switch (branch) {
    case 0: {
      const tree = mutateTree(parsedYaml(text), r);
      try {
        return enc.encode(stringifyYaml(tree, { lineWidth: 0 }));
      } catch {
        // The yaml writer recurses: very deep trees go in as flow text instead.
        return enc.encode(JSON.stringify(tree));
      }
    }
    case 1: {
      const attack = r.pick(YAML_ATTACKS);
      return enc.encode(r.chance(0.5) ? attack : text + attack);
    }
    default:
      return mutateBytes(input, r);
  }
}
