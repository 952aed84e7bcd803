/**
 * The one error family of syft. Every failure a user can cause or meet carries a
 * code (which the CLI maps to an exit code), a sentence for humans and, where it
 * helps, a hint saying what to do next.
 * @module
 */

/** Error codes, grouped by the exit code the CLI gives them (see docs/cli.md). */
export type SyftErrorCode =
  /** A negative answer (perm check denied, job failed): exit 1. */
  | "E_DENIED"
  /** Bad flag, bad value, unknown command: exit 2. */
  | "E_USAGE"
  /** A bad file or value given by the user (config.yaml, an email, a path): exit 2. */
  | "E_INPUT"
  /** syft has not been initialised under this home: exit 2. */
  | "E_NOT_INITIALIZED"
  /** Something already exists and would be overwritten: exit 2. */
  | "E_EXISTS"
  /** A message from outside failed to parse or verify: exit 2. */
  | "E_BAD_MESSAGE"
  /** Refused by the permission engine or the file system: exit 3. */
  | "E_PERMISSION"
  /** The transport is unreachable, failing, crashed or hung: exit 4. */
  | "E_TRANSPORT"
  /** No working sandbox for a job: exit 5. */
  | "E_SANDBOX"
  /** A feature that is not built yet: exit 2. */
  | "E_UNIMPLEMENTED"
  /** A bug in syft: exit 10. */
  | "E_INTERNAL";

/** Exit code for each error code, as docs/cli.md fixes them. */
export const EXIT_CODES: Readonly<Record<SyftErrorCode, number>> = {
  E_DENIED: 1,
  E_USAGE: 2,
  E_INPUT: 2,
  E_NOT_INITIALIZED: 2,
  E_EXISTS: 2,
  E_BAD_MESSAGE: 2,
  E_UNIMPLEMENTED: 2,
  E_PERMISSION: 3,
  E_TRANSPORT: 4,
  E_SANDBOX: 5,
  E_INTERNAL: 10,
};

/** Options for {@linkcode SyftError}. */
export interface SyftErrorOptions {
  /** What the user can do about it, one line. */
  hint?: string | undefined;
  /** The underlying error, kept for `--debug`. */
  cause?: unknown;
}

/**
 * A user-facing error.
 *
 * @example
 * ```ts
 * throw new SyftError("E_INPUT", `"bob" is not an email address`, {
 *   hint: "use the form name@example.org",
 * });
 * ```
 */
export class SyftError extends Error {
  readonly code: SyftErrorCode;
  readonly hint: string | undefined;

  constructor(code: SyftErrorCode, message: string, options: SyftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SyftError";
    this.code = code;
    this.hint = options.hint;
  }

  /** The exit code the CLI uses for this error. */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

/** True when `err` is a {@linkcode SyftError}, also across a Worker boundary's plain copies. */
export function isSyftError(err: unknown): err is SyftError {
  return err instanceof SyftError;
}

/** A short description of any thrown value, for wrapping foreign errors in a message. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
