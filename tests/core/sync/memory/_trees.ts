/** Helpers shared by the in-memory engine tests. */
import type { MemorySite } from "../../../../core/testing/world.ts";

/** The readable tree under `rel` of a site's root: path → content, permission files aside. */
export function tree(site: MemorySite, rel: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of site.files(rel)) {
    if (path.endsWith("syft.pub.yaml")) continue;
    out[path.slice(rel.length + 1)] = site.read(path)!;
  }
  return out;
}

/** Everything the engine said in its rounds: warnings and per-round problems. */
export function said(site: MemorySite): string {
  return [...site.warnings, ...site.rounds.flatMap((r) => r.problems)].join("\n");
}
