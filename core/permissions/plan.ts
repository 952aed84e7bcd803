/**
 * Where `syft perm grant` / `revoke` edit, decided from the engine (pure).
 *
 * Grant edits the *governing* file of the target, so no new file silently
 * takes over a subtree and drops its parent's rules (parents are never merged
 * in): a folder whose own file governs gets a `**` rule there; a folder or file
 * governed by an ancestor gets a rule in that ancestor (`<rel>/**` or `<rel>`);
 * only where nothing governs is a file created (in the folder itself, or in a
 * file's parent folder). Because the first matching rule is the only one
 * consulted, the grantee is also added to the file's more specific rules that
 * could match under the target, so none of them shadows the grant.
 * @module
 */
import type { PermissionEngine, PermissionFileInfo } from "./engine.ts";
import { compareSpecificity, compilePattern, hasGlobChars } from "./glob.ts";
import { type AccessLists, permissionFilePath } from "./parse.ts";

/** The file and pattern a grant writes. */
export interface GrantPlan {
  /** Folder of the permission file to edit (`""` is the datasite root). */
  folder: string;
  /** Datasite-relative path of that file. */
  file: string;
  /** The rule's pattern, relative to `folder`. */
  pattern: string;
  /** The file does not exist yet. */
  create: boolean;
  /** Other rules of the file that must name the grantee too. */
  shadowing: string[];
  /** A datasite-relative path the grant must allow afterwards (for verification). */
  probe: string;
  /**
   * Access lists for a new rule, copied from the rule that decides the target
   * today, so adding a more specific rule takes nothing away from anyone.
   */
  seed: AccessLists | null;
}

/** Escape glob characters in a literal segment, so a file named `a*b` stays exact. */
export function literalSegment(segment: string): string {
  return hasGlobChars(segment) ? segment.replace(/[\\*?[]/g, (c) => `\\${c}`) : segment;
}

function folderOfFile(file: string): string {
  const parts = file.split("/");
  parts.pop();
  return parts.join("/");
}

/**
 * True when `pattern` may match `rel` itself (file target) or some path under
 * it (folder target). Conservative: a wildcard segment before the end of `rel`
 * counts as "may match".
 */
export function mayMatchUnder(pattern: string, rel: readonly string[], folder: boolean): boolean {
  const segs = pattern.split("/").filter((s) => s !== "");
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (seg === "**") return true;
    if (i >= rel.length) return folder;
    if (hasGlobChars(seg) || seg.includes("{{")) {
      if (!compilePattern(seg).matches([rel[i]!], 0, "") && !seg.includes("{{")) return false;
      continue;
    }
    if (seg !== rel[i]) return false;
  }
  // Pattern used up without `**`: it names paths no deeper than `rel` itself.
  return !folder && segs.length === rel.length;
}

/**
 * Plan a grant on `segments` (datasite-relative, already normalised).
 * @param isFolder the target is a folder (everything under it is granted)
 */
export function planGrant(
  engine: PermissionEngine,
  owner: string,
  segments: readonly string[],
  isFolder: boolean,
): GrantPlan {
  const path = segments.join("/");
  const governing = engine.explain(owner, path).governing_file;
  const childProbe = isFolder ? (path === "" ? "syft-probe" : `${path}/syft-probe`) : path;

  if (governing === null) {
    const folder = isFolder ? path : segments.slice(0, -1).join("/");
    const pattern = isFolder ? "**" : literalSegment(segments.at(-1)!);
    return {
      folder,
      file: permissionFilePath(folder),
      pattern,
      create: true,
      shadowing: [],
      probe: childProbe,
      seed: null,
    };
  }

  const folder = folderOfFile(governing);
  const base = folder === "" ? [] : folder.split("/");
  const rel = segments.slice(base.length);
  const relPattern = rel.map(literalSegment).join("/");
  const pattern = isFolder ? (rel.length === 0 ? "**" : `${relPattern}/**`) : relPattern;
  const info = engine.getFile(folder);
  const key = compilePattern(pattern).key;
  const shadowing = (info?.ruleSet?.rules ?? [])
    // Ties count too: the new rule is appended, so file order puts it last.
    .filter((r) =>
      r.pattern !== pattern && compareSpecificity(compilePattern(r.pattern).key, key) <= 0
    )
    .filter((r) => mayMatchUnder(r.pattern, rel, isFolder))
    .map((r) => r.pattern);
  return {
    folder,
    file: governing,
    pattern,
    create: false,
    shadowing,
    probe: childProbe,
    seed: seedFor(engine, owner, childProbe, info),
  };
}

/** The lists of the rule deciding `probe` today, unless it uses a template (USER would widen). */
function seedFor(
  engine: PermissionEngine,
  owner: string,
  probe: string,
  info: PermissionFileInfo | null,
): AccessLists | null {
  const rule = engine.check(owner, probe, "", "read").rule;
  const source = rule === null ? undefined : info?.ruleSet?.rules[rule.index];
  if (!source || source.pattern.includes("{{")) return null;
  const keep = (xs: readonly string[]) => xs.filter((x) => x !== "USER");
  return {
    admin: keep(source.access.admin),
    write: keep(source.access.write),
    read: keep(source.access.read),
  };
}

/** The files and patterns a revoke edits. */
export interface RevokeTarget {
  folder: string;
  file: string;
  patterns: string[];
}

/**
 * Plan a revoke: the rules of the governing file that may grant the target,
 * plus, for a folder, every rule of the permission files inside it (they
 * govern parts of it).
 */
export function planRevoke(
  engine: PermissionEngine,
  owner: string,
  segments: readonly string[],
  isFolder: boolean,
): RevokeTarget[] {
  const path = segments.join("/");
  const targets: RevokeTarget[] = [];
  const governing = engine.explain(owner, path).governing_file;
  if (governing !== null) {
    const folder = folderOfFile(governing);
    const rel = segments.slice(folder === "" ? 0 : folder.split("/").length);
    const rules = engine.getFile(folder)?.ruleSet?.rules ?? [];
    const patterns = rules.filter((r) => mayMatchUnder(r.pattern, rel, isFolder)).map((r) =>
      r.pattern
    );
    targets.push({ folder, file: governing, patterns });
  }
  if (isFolder) {
    for (const f of engine.files()) {
      if (f.file === governing || f.ruleSet === null) continue;
      if (path === "" || f.folder === path || f.folder.startsWith(`${path}/`)) {
        targets.push({
          folder: f.folder,
          file: f.file,
          patterns: f.ruleSet.rules.map((r) => r.pattern),
        });
      }
    }
  }
  return targets;
}
