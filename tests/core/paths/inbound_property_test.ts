/**
 * Randomized tests of the path parsers. Every run uses a seed, printed on
 * failure; replay with `SYFT_PROPERTY_SEED=<seed>` and raise the number of
 * cases with `SYFT_PROPERTY_RUNS=<n>` (default 10,000).
 */
import assert from "node:assert/strict";
import { posix } from "node:path";
import { SyftError } from "../../../core/errors/mod.ts";
import {
  checkInboundPath,
  parseInboundPath,
  parseQueryPath,
  resolveInside,
  segmentsOf,
} from "../../../core/paths/mod.ts";
import { prng } from "../../../core/random/prng.ts";

/** Reads a non-negative integer from the environment, or `undefined` when unset. */
function envInt(name: string): number | undefined {
  const value = Deno.env.get(name);
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

const SEED = envInt("SYFT_PROPERTY_SEED") ?? Math.floor(Math.random() * 2 ** 32);
const RUNS = envInt("SYFT_PROPERTY_RUNS") ?? 10_000;

/** Random-input generators over one PRNG. */
class Gen {
  constructor(readonly next: () => number) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error("pick() from an empty list");
    return item;
  }
}

/** Pieces that sit on the boundaries of the rules. */
const FRAGMENTS: readonly string[] = [
  "..",
  ".",
  "/",
  "//",
  "\\",
  "%2e",
  "%2f",
  "%00",
  "\u0000",
  "\n",
  "\u001f",
  "\u007f",
  "\u0085",
  "\u009b",
  "\u00a0",
  "\u2028",
  "\u202e",
  "\ufeff",
  "\ud800",
  "\udfff",
  "😀",
  "é",
  "e\u0301",
  "日本",
  "C:",
  "c:",
  ":",
  "~",
  " ",
  "#",
  "@",
  "+",
  "a",
  "public",
  "syft.pub.yaml",
  "a@b.org",
  "...",
  ".env",
];

/** Characters for names that pass, so a good share of inputs is accepted. */
const NAME_CHARS = "abcXYZ019 _-.#@+%~:éß日😀";

/** One random string, from a mix of shapes. */
function generate(g: Gen): string {
  switch (g.int(0, 5)) {
    case 0: { // random code units, lone surrogates and controls included
      let s = "";
      for (let n = g.int(0, 24); n > 0; n--) {
        const kind = g.int(0, 5);
        s += String.fromCharCode(
          kind === 0
            ? g.int(0, 0x9f)
            : kind === 1
            ? g.int(0xd7f0, 0xe010)
            : kind === 2
            ? g.int(0, 0xffff)
            : kind === 3
            ? 0x2f
            : kind === 4
            ? 0x2e
            : g.int(0x20, 0x7e),
        );
      }
      return s;
    }
    case 1: { // random bytes, decoded leniently as a transport might
      const bytes = new Uint8Array(g.int(0, 32));
      for (let i = 0; i < bytes.length; i++) bytes[i] = g.int(0, 255);
      return new TextDecoder().decode(bytes);
    }
    case 2: { // fragments glued together
      let s = "";
      for (let n = g.int(0, 8); n > 0; n--) s += g.pick(FRAGMENTS);
      return s;
    }
    case 3: // long runs around the byte limits
      return g.pick(["a", "é", "日", "😀", "a/", "/", "ab/"]).repeat(g.int(60, 2100));
    default: { // plausible paths, sometimes with one hostile fragment spliced in
      const segments: string[] = [];
      for (let n = g.int(1, 6); n > 0; n--) {
        const chars = [...NAME_CHARS];
        let name = "";
        for (let m = g.int(1, 12); m > 0; m--) name += g.pick(chars);
        segments.push(name);
      }
      let s = segments.join("/");
      if (g.int(0, 2) === 0) {
        const at = g.int(0, s.length);
        s = s.slice(0, at) + g.pick(FRAGMENTS) + s.slice(at);
      }
      return s;
    }
  }
}

const encoder = new TextEncoder();

/** The inbound rules restated independently, as the oracle the parser must agree with. */
function expectAccepted(raw: string): boolean {
  if (raw === "" || !raw.isWellFormed()) return false;
  if (/[\p{Cc}\\]/u.test(raw)) return false;
  if (encoder.encode(raw).length > 4096) return false;
  if (raw.startsWith("/") || /^[a-z]:/i.test(raw)) return false;
  return raw.split("/").every((s) =>
    s !== "" && s !== "." && s !== ".." && encoder.encode(s).length <= 255
  );
}

/** An input, shown so it can be read and copied back into a test. */
function show(raw: string): string {
  const json = JSON.stringify(raw);
  return json.length > 200 ? `${json.slice(0, 200)}… (${raw.length} code units)` : json;
}

const ROOTS = ["/tmp/syft-root", "/home/u/SyftBox/a@b.org", "/r"];

Deno.test(`parseInboundPath() keeps every accepted path inside the root (seed ${SEED}, ${RUNS} cases)`, () => {
  const g = new Gen(prng(SEED));
  let accepted = 0;
  for (let i = 0; i < RUNS; i++) {
    const raw = generate(g);
    const root = g.pick(ROOTS);
    const fail = (why: string): never =>
      assert.fail(
        `${why}\n  input: ${
          show(raw)
        }\n  case ${i} of seed ${SEED}; replay with SYFT_PROPERTY_SEED=${SEED}`,
      );
    const check = checkInboundPath(raw);
    if (check.ok !== expectAccepted(raw)) {
      fail(`checkInboundPath() says ok=${check.ok}, the restated rules say the opposite`);
    }
    if (!check.ok) {
      let thrown: unknown;
      try {
        parseInboundPath(raw);
      } catch (err) {
        thrown = err;
      }
      if (!(thrown instanceof SyftError) || thrown.code !== "E_INPUT") {
        fail("parseInboundPath() did not throw E_INPUT for a refused path");
      } else if (
        /[\p{Cc}\u2028\u2029\u202a-\u202e]/u.test(thrown.message) || thrown.message.length > 400
      ) {
        fail(`the error message is not one short printable line: ${show(thrown.message)}`);
      }
      continue;
    }
    accepted++;
    const path = parseInboundPath(raw);
    if (path !== raw) fail("the parser rewrote an accepted path");
    if (/[\p{Cc}\\]/u.test(path)) fail("an accepted path holds a control character or backslash");
    if (segmentsOf(path).some((s) => s === "" || s === "." || s === "..")) {
      fail("an accepted path has an empty or dot segment");
    }
    const resolved = resolveInside(root, path);
    if (!resolved.startsWith(root + "/")) fail(`resolved to ${show(resolved)}, outside ${root}`);
    if (posix.normalize(resolved) !== resolved) fail(`${show(resolved)} is not normalised`);
    if (posix.resolve(root, path) !== resolved) {
      fail(`posix.resolve() disagrees with ${show(resolved)}`);
    }
    const relative = posix.relative(root, resolved);
    if (relative !== path || relative === ".." || relative.startsWith("../")) {
      fail(`${show(resolved)} is not ${show(path)} inside root`);
    }
    const query = parseQueryPath(path);
    if (query.hasDotSegment || query.text !== path) {
      fail("the query parser reads an accepted path differently");
    }
  }
  // Guard against a generator drift that would make the property vacuous.
  if (RUNS >= 1000) {
    assert.ok(
      accepted > RUNS / 10,
      `only ${accepted} of ${RUNS} inputs were accepted (seed ${SEED})`,
    );
    assert.ok(accepted < RUNS * 0.9, `${accepted} of ${RUNS} inputs were accepted (seed ${SEED})`);
  }
});

Deno.test(`parseQueryPath() never returns an empty segment (seed ${SEED}, ${RUNS} cases)`, () => {
  const g = new Gen(prng(SEED ^ 0x5eed));
  for (let i = 0; i < RUNS; i++) {
    const raw = generate(g);
    const fail = (why: string): never =>
      assert.fail(
        `${why}\n  input: ${
          show(raw)
        }\n  case ${i} of seed ${SEED}; replay with SYFT_PROPERTY_SEED=${SEED}`,
      );
    const nameable = raw.isWellFormed() && !raw.includes("\u0000") &&
      encoder.encode(raw).length <= 4096;
    let query;
    try {
      query = parseQueryPath(raw);
    } catch (err) {
      if (nameable) fail(`parseQueryPath() refused a nameable path: ${String(err)}`);
      if (!(err instanceof SyftError) || err.code !== "E_INPUT") {
        fail("parseQueryPath() threw a stray error");
      }
      continue;
    }
    if (!nameable) fail("parseQueryPath() accepted a path that cannot name a file");
    if (query.segments.some((s) => s === "")) fail("a query has an empty segment");
    const dots = query.segments.some((s) => s === "." || s === "..");
    if (query.hasDotSegment !== dots) fail("hasDotSegment does not match the segments");
    if (query.text !== raw.split("/").filter((s) => s !== "").join("/")) {
      fail("the query text is wrong");
    }
  }
});
