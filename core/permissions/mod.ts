/**
 * The `syft.pub.yaml` permission engine (docs/permissions.md).
 *
 * - {@linkcode parsePermissionFile}: bytes or text of one file → a typed
 *   {@linkcode RuleSet} or a {@linkcode PermissionFileError} (file, line,
 *   reason). Invalid files fail closed.
 * - {@linkcode PermissionEngine}: the tree of compiled files;
 *   {@linkcode PermissionEngine.check} answers with a {@linkcode Decision}
 *   (`{allowed, governing_file, rule, reason}`),
 *   {@linkcode PermissionEngine.allows} is the allocation-light hot path,
 *   {@linkcode PermissionEngine.explain} shows the whole resolution;
 *   `setFile`/`removeFile` update one folder at a time.
 * - {@linkcode compilePattern}, {@linkcode matchPattern},
 *   {@linkcode compileEmailGlob}: the glob dialect.
 * - {@linkcode projectReadable}, {@linkcode diffProjection}: what a peer may
 *   read, and what it gained and lost.
 * - {@linkcode loadDatasitePermissions}, {@linkcode reloadPermissionFile}:
 *   the only disk access, for the CLI and sync.
 *
 * @example
 * ```ts
 * import { PermissionEngine } from "./mod.ts";
 * const engine = new PermissionEngine();
 * engine.setFile("public", "rules:\n  - pattern: '**'\n    access: {read: ['*']}\n");
 * const d = engine.check("alice@x.org", "public/a.csv", "bob@y.org", "read");
 * // d.allowed === true, d.governing_file === "public/syft.pub.yaml"
 * ```
 * @module
 */
export {
  ACCESS_LEVELS,
  type AccessLevel,
  type Decision,
  type ExplainedRule,
  type Explanation,
  PermissionEngine,
  type PermissionFileInfo,
  PRIVATE_FOLDER,
  type RuleRef,
  USER_ENTRY,
} from "./engine.ts";
export {
  type AccessLists,
  formatPermissionFileError,
  MAX_ALIASES,
  MAX_PERMISSION_FILE_BYTES,
  MAX_RULES,
  type ParseOptions,
  parsePermissionFile,
  type ParseResult,
  type PermissionFileError,
  permissionFilePath,
  type Rule,
  type RuleSet,
} from "./parse.ts";
export {
  compareSpecificity,
  type CompiledEmailGlob,
  type CompiledPattern,
  compileEmailGlob,
  compilePattern,
  findForeignTemplate,
  hasGlobChars,
  matchPattern,
  type SpecificityKey,
  splitPath,
  USER_EMAIL_TEMPLATE,
} from "./glob.ts";
export {
  diffProjection,
  isGovernedSubtree,
  type ProjectionDiff,
  projectReadable,
} from "./projection.ts";
export { loadDatasitePermissions, type LoadOptions, reloadPermissionFile } from "./load.ts";
