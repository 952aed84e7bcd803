/**
 * Golden trees for the in-memory world: a datasite (or a mirror of one) as
 * path → content, with the time in `.rejected.`/`.conflict.` marker names
 * replaced by `*`, so a golden outcome can be written down before the run.
 */
import type { MemorySite } from "../../core/testing/world.ts";

/** A marker's time suffix: `20261205T011502Z`, `-2` for a second one that second, or epoch ms. */
const MARKER = /\.(rejected|conflict)\.(\d{8}T\d{6}Z(-\d+)?|\d{13})$/;

/** Contents past this many characters are shown by length and start, so a failing diff stays short. */
const SHOWN = 64;

/** A content as a golden table names it: itself, or `<N chars: start…>` when long. */
export function shown(text: string): string {
  return text.length <= SHOWN ? text : `<${text.length} chars: ${text.slice(0, 8)}…>`;
}

/** `x.csv.rejected.20261205T011502Z` → `x.csv.rejected.*`; any other path unchanged. */
export function markerPattern(path: string): string {
  return path.replace(MARKER, ".$1.*");
}

/**
 * The files of `datasite` as `site` holds them (its own datasite, or its
 * mirror of a peer's), relative to that datasite, permission files aside:
 * path → text ({@linkcode shown}). Two markers of one file that normalise alike are `*` and `*#2`.
 */
export function goldenTree(site: MemorySite, datasite: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of site.files(datasite)) {
    const rel = path.slice(datasite.length + 1);
    if (rel === "syft.pub.yaml" || rel.endsWith("/syft.pub.yaml")) continue;
    let key = markerPattern(rel);
    for (let n = 2; key in out; n++) key = `${markerPattern(rel)}#${n}`;
    out[key] = shown(site.read(path)!);
  }
  return out;
}
