/**
 * Exits that are answers, not failures: `perm check` saying deny exits 1
 * without an `error:` line.
 * @module
 */

/** Thrown by a command to end with `code` after it printed its answer. */
export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = "ExitWith";
  }
}
