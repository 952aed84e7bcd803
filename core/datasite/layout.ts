/**
 * The folders and default permission files of a fresh datasite.
 * @module
 */
import { posix } from "node:path";
import { PERMISSION_FILE, PRIVATE_FOLDER } from "./names.ts";

/** A datasite's folder under the root. */
export function datasiteDir(root: string, email: string): string {
  return posix.join(root, email);
}

/** Folders every datasite has, relative to it. */
export const DATASITE_FOLDERS = ["public", PRIVATE_FOLDER] as const;

/**
 * Default permission files, relative path → contents: `public/` readable by
 * everyone, everything else owner-only (an empty rule list grants nobody; the
 * owner is always allowed), `private/` terminal so no deeper file can open it.
 */
export const DEFAULT_PERMISSION_FILES: Readonly<Record<string, string>> = {
  [PERMISSION_FILE]: [
    "# Owner-only by default: no rule here grants anyone but you.",
    "# Add rules (or use `syft perm grant`) to share more.",
    "terminal: false",
    "rules: []",
    "",
  ].join("\n"),
  [`public/${PERMISSION_FILE}`]: [
    "# Everything under public/ is readable by every peer.",
    "rules:",
    "  - pattern: '**'",
    "    access:",
    "      read: ['*']",
    "",
  ].join("\n"),
  [`private/${PERMISSION_FILE}`]: [
    "# private/ never leaves this machine, whatever a rule says.",
    "terminal: true",
    "rules: []",
    "",
  ].join("\n"),
};

/** Absolute paths of a datasite's default folders. */
export function datasiteFolders(root: string, email: string): string[] {
  const dir = datasiteDir(root, email);
  return [dir, ...DATASITE_FOLDERS.map((f) => posix.join(dir, f))];
}
