/**
 * Object names on Dropbox. Syft's names are case-sensitive (`A.syft` and
 * `a.syft` are two objects); Dropbox's paths are not (one would take the
 * other's place). So each capital letter is stored as `~` and its small
 * letter: `zAk` is stored as `z~ak`. Every stored name is then lower case,
 * names the protocol writes (all lower case) are stored as they are, and
 * `~`, which no object name contains, cannot be confused.
 * @module
 */
import { OBJECT_NAME_RE } from "../../core/transport/contract.ts";

/** The name object `name` (a valid object name) is stored under. */
export function storedName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `~${c.toLowerCase()}`);
}

/** The object a stored name stands for, or null for a name that is no object of ours. */
export function objectName(stored: string): string | null {
  if (!/^(?:[a-z0-9._-]|~[a-z])*$/.test(stored)) return null;
  const name = stored.replace(/~([a-z])/g, (_, c: string) => c.toUpperCase());
  return OBJECT_NAME_RE.test(name) ? name : null;
}
