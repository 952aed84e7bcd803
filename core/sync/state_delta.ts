/**
 * The pure half of a peer's stored state (docs/sync.md, "How a peer's state is
 * stored"): which of its maps grow with the datasite (its _parts_), how a
 * change to them is written as a delta, and how a delta log is read back,
 * torn tail and lines of an uncommitted save included.
 * @module
 */

/** The maps of a channel state that grow with the datasite, each stored as base + deltas. */
export const CHANNEL_PARTS = ["published", "mirror", "events"] as const;

/** One part's name. */
export type ChannelPart = typeof CHANNEL_PARTS[number];

/** A part as stored: key → the JSON text of its value (never shared with a caller). */
export type StoredPart = Map<string, string>;

/** What changed in one part: emptied first (`c`), then keys deleted, then keys set. */
export interface PartOps {
  c?: true;
  s?: Record<string, unknown>;
  d?: string[];
}

/** What one save changed, per part (a channel's parts, or the index's `files`). */
export type PartsOps = Partial<Record<string, PartOps>>;

/** A part as stored, from the record a caller holds. */
export function storedPart(record: Readonly<Record<string, unknown>>): StoredPart {
  const out: StoredPart = new Map();
  for (const [k, v] of Object.entries(record)) out.set(k, JSON.stringify(v));
  return out;
}

/**
 * A part as stored, and the JSON text of the whole record, with each value
 * stringified once: `JSON.stringify(record)` beside {@linkcode storedPart}
 * stringified a 10,000-file part twice per compaction.
 */
export function storedPartAndText(
  record: Readonly<Record<string, unknown>>,
): { part: StoredPart; text: string } {
  const part: StoredPart = new Map();
  for (const [k, v] of Object.entries(record)) {
    const text = JSON.stringify(v);
    if (text !== undefined) part.set(k, text); // as JSON.stringify(record) leaves it out
  }
  return { part, text: textOf(part) };
}

/** The JSON text of a stored part's record (what `JSON.stringify` gives for it). */
function textOf(part: StoredPart): string {
  const entries: string[] = [];
  for (const [k, v] of part) entries.push(`${JSON.stringify(k)}:${v}`);
  return `{${entries.join(",")}}`;
}

/**
 * At most the bytes a log line of `diffPart(before, after)` takes for `after`:
 * each key `before` lacks is written with at least its name, two quotes, a
 * colon, one character of value and a separator. Counted without
 * stringifying any value, so a save whose delta would surely outgrow the log
 * (a first sync's 10,000 new files) is written whole without a diff first.
 */
export function addedKeyBytes(
  before: StoredPart,
  after: Readonly<Record<string, unknown>>,
): number {
  let bytes = 0;
  for (const k of Object.keys(after)) {
    if (!before.has(k) && after[k] !== undefined) bytes += k.length + 5;
  }
  return bytes;
}

/**
 * A stored part as a caller's record: fresh objects (one parse of the whole
 * map), in the order a record read from base and log has its keys.
 */
export function recordOf(part: StoredPart): Record<string, unknown> {
  return JSON.parse(textOf(part)) as Record<string, unknown>;
}

/**
 * The changes from `before` to `after`, or undefined when none. Each value is
 * compared by its JSON text, so a caller's copy (a structured clone, an entry
 * rewritten with the same fields) is no change.
 */
export function diffPart(
  before: StoredPart,
  after: Readonly<Record<string, unknown>>,
): PartOps | undefined {
  const s: Record<string, unknown> = {};
  const d: string[] = [];
  let sets = 0;
  let seen = 0;
  for (const [k, v] of Object.entries(after)) {
    const was = before.get(k);
    if (was !== undefined) seen++;
    if (was === undefined || was !== JSON.stringify(v)) {
      s[k] = v;
      sets++;
    }
  }
  // Every key of `before` found in `after` means nothing was deleted: no second pass.
  if (seen < before.size) {
    for (const k of before.keys()) if (!Object.hasOwn(after, k)) d.push(k);
  }
  if (sets === 0 && d.length === 0) return undefined;
  // A map mostly emptied (the rolling events once a checkpoint took them) is
  // said as "empty, then these": shorter than every key it lost.
  const size = Object.keys(after).length;
  if (d.length > size) return { c: true, ...(size ? { s: { ...after } } : {}) };
  return { ...(sets ? { s } : {}), ...(d.length ? { d } : {}) };
}

/** `ops` applied to `part` in place (values given as parsed JSON). */
export function applyPartOps(part: StoredPart, ops: PartOps): void {
  if (ops.c) part.clear();
  for (const k of ops.d ?? []) part.delete(k);
  for (const [k, v] of Object.entries(ops.s ?? {})) part.set(k, JSON.stringify(v));
}

/** `ops` applied to a caller's record in place. */
export function applyRecordOps(record: Record<string, unknown>, ops: PartOps): void {
  if (ops.c) { for (const k of Object.keys(record)) delete record[k]; }
  for (const k of ops.d ?? []) delete record[k];
  for (const [k, v] of Object.entries(ops.s ?? {})) record[k] = v;
}

/** The changes of every part from `before` to `after`; undefined when none changed. */
export function diffParts(
  before: Readonly<Record<ChannelPart, StoredPart>>,
  after: Readonly<Record<ChannelPart, Readonly<Record<string, unknown>>>>,
): PartsOps | undefined {
  const out: PartsOps = {};
  let any = false;
  for (const p of CHANNEL_PARTS) {
    const ops = diffPart(before[p], after[p]);
    if (ops) {
      out[p] = ops;
      any = true;
    }
  }
  return any ? out : undefined;
}

/**
 * One save's line of the delta log. It starts with a newline: a line a crash
 * tore off (or one of zeros) is then ended before the next save's, never
 * glued to it.
 */
export function logLine(n: number, ops: PartsOps): string {
  return `\n${JSON.stringify({ n, ops })}`;
}

/** Why a log cannot give the state its head commits. */
export class LogGap extends Error {}

/**
 * The deltas of saves 1..`upTo`, in order, from a log's text. Lines that do
 * not parse (a torn tail) are skipped; a save whose line appears twice (a
 * crash after its line, before its head was committed, and the save made
 * again) is the later line; lines past `upTo` belong to no committed save.
 * Also says whether anything was skipped or left over, so the next save can
 * start a clean log. Throws {@linkcode LogGap} when a committed save is missing.
 */
export function readLog(text: string, upTo: number): { ops: PartsOps[]; clean: boolean } {
  const byN = new Map<number, PartsOps>();
  let clean = true;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      clean = false;
      continue;
    }
    const n = (parsed as { n?: unknown })?.n;
    const ops = (parsed as { ops?: unknown })?.ops;
    if (typeof n !== "number" || typeof ops !== "object" || ops === null) {
      clean = false;
      continue;
    }
    if (n > upTo || byN.has(n)) clean = false;
    byN.set(n, ops as PartsOps);
  }
  const ops: PartsOps[] = [];
  for (let n = 1; n <= upTo; n++) {
    const o = byN.get(n);
    if (!o) throw new LogGap(`save ${n} of ${upTo} is missing from the log`);
    ops.push(o);
  }
  return { ops, clean };
}
